// The read path of a partition log (PartitionLogImpl.read, offsetForTimestamp): find the
// segment of an offset, read whole batches from it up to the visible end, find the first
// offset at a timestamp. Pure over the segment list: the partition log checks that it is
// usable and the offset range, and turns what these throw into request or disk errors
// (toCorruptBatchError below; anything else puts the partition offline).

import { type DecodedRecord, decodeBatch } from '../records/index.js';
import { Errors, isSpoolError } from '../util/errors.js';
import { CorruptBatchError, StoredBatchError } from './errors.js';
import type { BatchLocation, Segment } from './segment.js';

const EMPTY = Buffer.alloc(0);

/** The last segment whose base offset is <= offset (the first segment when none is). */
export function segmentIndexFor(segments: readonly Segment[], offset: number): number {
  let low = 0;
  let high = segments.length - 1;
  let found = 0;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (segments[mid]!.baseOffset <= offset) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

/**
 * Whole batches from the one holding `offset` (or the next one, if it was compacted away),
 * up to `maxBytes` (at least that one batch) and never a batch at or past `visibleEnd`.
 * Empty when nothing is visible there.
 */
export function readVisibleBatches(segments: readonly Segment[], offset: number, visibleEnd: number, maxBytes: number): Buffer {
  for (let i = segmentIndexFor(segments, offset); i < segments.length; i++) {
    const segment = segments[i]!;
    const location = segment.findBatch(offset);
    if (!location) continue;
    if (location.baseOffset >= visibleEnd) return EMPTY;
    let limitBytes = maxBytes;
    // Only a replicated log's high watermark can sit inside the segment being read.
    if (visibleEnd < segment.nextOffset) {
      const hidden = segment.findBatch(visibleEnd);
      if (hidden) {
        // A high watermark inside this very batch (never at a batch boundary in
        // practice, but then the batch is not visible yet).
        if (hidden.position === location.position) return EMPTY;
        limitBytes = Math.min(limitBytes, hidden.position - location.position);
      }
    }
    return segment.readBatches(location, limitBytes);
  }
  return EMPTY;
}

/**
 * The offset of the first record whose timestamp is >= `timestampMs` (never below the log
 * start), null when no record reaches it. Each batch it lands on (maxTimestamp >= the
 * target) is decoded, its CRC included; one that does not decode throws StoredBatchError.
 * A landed-on batch with no such record is passed over, as Kafka's
 * LogSegment.findOffsetByTimestamp passes over it: a batch with no records (what the
 * cleaner keeps of an idempotent producer's batch, compaction.ts) or one whose header
 * maxTimestamp outlived the record that set it (the cleaner keeps the header). Answering
 * its base offset would name an offset that holds no record at or after the target.
 */
export function offsetForTimestampIn(segments: readonly Segment[], timestampMs: number, maxMessageBytes: number, logStartOffset: number): number | null {
  for (const segment of segments) {
    for (let location = segment.findBatchByTimestamp(timestampMs); location; ) {
      const offset = offsetInBatch(segment, location, timestampMs, maxMessageBytes);
      if (offset !== null) return Math.max(offset, logStartOffset);
      location = segment.findBatchByTimestamp(timestampMs, location.position + location.totalBytes);
    }
  }
  return null;
}

/** The first record of the batch at `location` with timestamp >= `timestampMs`, or null. */
function offsetInBatch(segment: Segment, location: BatchLocation, timestampMs: number, maxMessageBytes: number): number | null {
  const bytes = segment.readBatches(location, location.totalBytes);
  let records: DecodedRecord[];
  try {
    // The batch is decoded, so its CRC is checked too (cheap, and bit rot would otherwise
    // answer with a wrong offset).
    records = decodeBatch(bytes, 0, { verifyCrc: true, maxUncompressedBytes: maxMessageBytes }).records;
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    // A codec spool cannot inflate (snappy, lz4, zstd from a Kafka client) is not
    // damage: the batch's maxTimestamp is >= the target, so its base is a safe answer.
    if (error.code === Errors.UNSUPPORTED_COMPRESSION.name) return location.baseOffset;
    const detail = `${segment.logPath}:${location.position}: ${error.message}`;
    throw new StoredBatchError(location.baseOffset, location.lastOffset + 1, detail);
  }
  const record = records.find((r) => r.timestamp >= timestampMs);
  return record ? record.offset : null;
}

/**
 * A bad stored batch fails the request that met it only: the CorruptBatchError naming its
 * offsets. Null for anything else (a disk error, which puts the partition offline).
 */
export function toCorruptBatchError(topic: string, partition: number, error: unknown): CorruptBatchError | null {
  if (!(error instanceof StoredBatchError)) return null;
  return new CorruptBatchError(topic, partition, error.baseOffset, error.nextOffset, error.message, { cause: error });
}
