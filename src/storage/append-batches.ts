// Walks over the batches of one append buffer (PartitionLogImpl.append and
// appendAsFollower): refusals that need a look at every batch header, the split into
// pieces whose offsets fit one segment, offset assignment, and the producer ids and index
// entries noted after the write. The batches are already validated (records'
// validateBatches), so every length can be walked.

import { BatchLayout, LOG_OVERHEAD, setBaseOffset } from '../records/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import { readInt64 } from './index-format.js';
import { type ProducerStateTable, readProducerHeader } from './producer-state.js';
import type { Segment } from './segment.js';
import { MAX_RELATIVE_OFFSET } from './segment-scan.js';

function nextBatchAt(batches: Buffer, at: number): number {
  return at + batches.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
}

/**
 * A batch with no records that takes no offsets (lastOffsetDelta -1) would share its
 * baseOffset with the next one: refused. A client's batch with no records is always such a
 * batch (its lastOffsetDelta must be recordCount - 1). A batch with no records that keeps
 * an offset range is what the log cleaner leaves of an idempotent producer's batch
 * (compaction.ts, as Kafka's cleaner does): a follower (or any copy from another log)
 * takes it as the leader stored it.
 */
export function refuseEmptyBatch(batches: Buffer): void {
  for (let at = 0; at < batches.length; at = nextBatchAt(batches, at)) {
    if (batches.readInt32BE(at + BatchLayout.RECORD_COUNT) === 0 && batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA) < 0) {
      throw new SpoolError(Errors.CORRUPT_MESSAGE, `record batch at position ${at} has no records`);
    }
  }
}

/**
 * Idempotent producers (Kafka's rule for produce v3+): a batch that carries a producer id
 * must be alone in its partition's records. `where` names the partition.
 */
export function refuseProducerIdAmongBatches(batches: Buffer, where: string): void {
  for (let at = 0; at < batches.length; at = nextBatchAt(batches, at)) {
    if (readInt64(batches, at + BatchLayout.PRODUCER_ID) >= 0) {
      throw new SpoolError(Errors.INVALID_RECORD, `${where}: a batch with a producer id must be alone in its partition's records`);
    }
  }
}

/**
 * A client append: the end (exclusive byte position) of the longest run of whole batches
 * from `start` whose offsets fit in one fresh segment (last offset - first base offset <=
 * u32), and how many offsets they take. A single batch always fits (lastOffsetDelta is an
 * int32).
 */
export function clientPieceEnd(batches: Buffer, start: number): { end: number; offsetCount: number } {
  let offsetCount = 0;
  let at = start;
  while (at < batches.length) {
    const claimed = batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA) + 1;
    if (at > start && offsetCount + claimed - 1 > MAX_RELATIVE_OFFSET) break;
    offsetCount += claimed;
    at = nextBatchAt(batches, at);
  }
  return { end: at, offsetCount };
}

/**
 * A follower append: the end (exclusive byte position) of the longest run of whole batches
 * from `start` whose offsets, as the leader assigned them (gaps included), fit one
 * segment's u32 relative offsets, and the offset after its last batch.
 */
export function followerPieceEnd(batches: Buffer, start: number): { end: number; endOffset: number } {
  const pieceBase = readInt64(batches, start);
  let end = start;
  let endOffset = pieceBase;
  while (end < batches.length) {
    const last = readInt64(batches, end) + batches.readInt32BE(end + BatchLayout.LAST_OFFSET_DELTA);
    if (end > start && last - pieceBase > MAX_RELATIVE_OFFSET) break;
    endOffset = last + 1;
    end = nextBatchAt(batches, end);
  }
  return { end, endOffset };
}

/**
 * A follower append's offsets: the first batch starts at the log end (or past it when not
 * `contiguous`: a compacted topic, whose leader may have cleaned offsets away) and each
 * next batch after the previous one (exactly after it when contiguous), else
 * UNEXPECTED_APPEND_OFFSET. Returns the offset after the last batch.
 */
export function checkFollowerOffsets(batches: Buffer, logEndOffset: number, contiguous: boolean, where: string): number {
  let nextOffset = logEndOffset;
  for (let at = 0; at < batches.length; at = nextBatchAt(batches, at)) {
    const batchBase = readInt64(batches, at);
    if (batchBase < nextOffset || (contiguous && batchBase !== nextOffset)) {
      throw new SpoolError(Errors.UNEXPECTED_APPEND_OFFSET, `${where}: a replica batch starts at ${batchBase}, expected ${contiguous ? '' : 'at least '}${nextOffset} (log end ${logEndOffset})`);
    }
    nextOffset = batchBase + batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA) + 1;
  }
  if (nextOffset > Number.MAX_SAFE_INTEGER) throw new SpoolError(Errors.INVALID_REQUEST, `${where}: replica offsets pass 2^53 - 1`);
  return nextOffset;
}

/**
 * Writes the offsets from `baseOffset` on into the batches' headers, and the leader's
 * `epoch` when >= 0: baseOffset and partitionLeaderEpoch sit before the CRC's range, so the
 * CRC stays valid. Returns the offset after the last batch.
 */
export function assignOffsets(batches: Buffer, baseOffset: number, epoch: number): number {
  let offset = baseOffset;
  for (let at = 0; at < batches.length; at = nextBatchAt(batches, at)) {
    setBaseOffset(batches, at, offset);
    if (epoch >= 0) batches.writeInt32BE(epoch, at + BatchLayout.PARTITION_LEADER_EPOCH);
    offset += batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA) + 1;
  }
  return offset;
}

/** Notes each batch just written at `startPosition` of `segment` (its index entries, time bookkeeping). */
export function noteWrittenBatches(segment: Segment, batches: Buffer, startPosition: number, nowMs: number): void {
  for (let at = 0; at < batches.length; ) {
    const batchBase = readInt64(batches, at);
    const totalBytes = batches.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
    const lastOffset = batchBase + batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA);
    segment.noteBatch(startPosition + at, batchBase, lastOffset, totalBytes, readInt64(batches, at + BatchLayout.MAX_TIMESTAMP), nowMs);
    at += totalBytes;
  }
}

/** Notes the written batches' producer ids, sequences and offsets (offsets are assigned now). */
export function recordProducers(table: ProducerStateTable, batches: Buffer): void {
  for (let at = 0; at < batches.length; at = nextBatchAt(batches, at)) {
    const header = readProducerHeader(batches, at);
    if (!header || header.firstSeq < 0) continue;
    const baseOffset = readInt64(batches, at);
    table.record(header, baseOffset, baseOffset + batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA));
  }
}
