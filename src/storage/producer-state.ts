// Idempotent-producer state of one partition (Kafka's ProducerStateManager, simplified):
// per producer id, its epoch and the sequence numbers and offsets of its last
// PRODUCER_BATCHES_KEPT batches. An append of a client batch with producerId >= 0 is
// checked against it before anything is written:
//   epoch older than the producer's          -> INVALID_PRODUCER_EPOCH (a newer producer fenced it)
//   same firstSeq/lastSeq as a kept batch     -> a duplicate: not written, answered with the
//                                                original offsets (a retry whose answer was lost)
//   epoch newer than the producer's           -> firstSeq must be 0 (a fresh epoch starts over)
//   otherwise                                 -> firstSeq must be the last batch's lastSeq + 1
//                                                (wrapping past 2^31 - 1 to 0), else
//                                                OUT_OF_ORDER_SEQUENCE_NUMBER
// A producer id the partition has no state for is accepted at any sequence (its state was
// evicted, or its batches left with retention): Kafka does the same since KIP-360.
//
// The state lives beside the log in a file of its own, `producer-state.snapshot` in the
// partition directory, written (atomically) with the recovery checkpoint and covering the
// log up to its `endOffset`. At open the snapshot is loaded and the batch headers after
// its endOffset are replayed (header only: 61 bytes per batch, no records, no CRC); without
// a usable snapshot (none, corrupt, or past the recovered log end) every segment's headers
// are replayed. Format (big-endian), checksummed because a wrong state would drop batches:
//
//   ProducerSnapshot => magic:uint32 = 0x5350534e ("SPSN") version:uint16 = 1
//                       crc:uint32 (CRC-32C of endOffset .. end of file)
//                       endOffset:int64 producerCount:int32 [Producer]
//   Producer         => producerId:int64 epoch:int16 batchCount:int8 (0..5)
//                       [firstSeq:int32 lastSeq:int32 baseOffset:int64 lastOffset:int64]

import { BATCH_HEADER_BYTES, BatchLayout, LOG_OVERHEAD, crc32c } from '../records/index.js';
import { assert } from '../util/assert.js';
import { Errors, SpoolError } from '../util/errors.js';
import { type StorageFs, readFullySync } from './fs.js';
import { readInt64 } from './index-format.js';

/** Batches remembered per producer (Kafka: 5, which is also max in-flight requests with idempotence). */
export const PRODUCER_BATCHES_KEPT = 5;
/** Producers remembered per partition; the least recently written is forgotten first. */
export const MAX_PRODUCERS_PER_PARTITION = 10_000;
export const PRODUCER_SNAPSHOT_FILE = 'producer-state.snapshot';

const SNAPSHOT_MAGIC = 0x5350534e;
const SNAPSHOT_VERSION = 1;
/** magic, version, crc. */
const SNAPSHOT_PREFIX_BYTES = 4 + 2 + 4;
const SNAPSHOT_HEAD_BYTES = SNAPSHOT_PREFIX_BYTES + 8 + 4;
const PRODUCER_HEAD_BYTES = 8 + 2 + 1;
const BATCH_ENTRY_BYTES = 4 + 4 + 8 + 8;
const MAX_SEQUENCE = 0x7fffffff;

export interface ProducerBatchEntry {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_KEPT. */
  batches: ProducerBatchEntry[];
}

/** The idempotence fields of one batch header. */
export interface ProducerBatchHeader {
  producerId: number;
  epoch: number;
  firstSeq: number;
  lastSeq: number;
}

/** The sequence of the last record of a batch (Kafka's DefaultRecordBatch.incrementSequence). */
export function lastSequenceOf(firstSeq: number, lastOffsetDelta: number): number {
  if (firstSeq > MAX_SEQUENCE - lastOffsetDelta) return lastOffsetDelta - (MAX_SEQUENCE - firstSeq) - 1;
  return firstSeq + lastOffsetDelta;
}

/** The idempotence fields of the batch at `at`, or null when it has no producer id. */
export function readProducerHeader(batch: Buffer, at: number): ProducerBatchHeader | null {
  const producerId = readInt64(batch, at + BatchLayout.PRODUCER_ID);
  if (producerId < 0) return null;
  const firstSeq = batch.readInt32BE(at + BatchLayout.BASE_SEQUENCE);
  return {
    producerId,
    epoch: batch.readInt16BE(at + BatchLayout.PRODUCER_EPOCH),
    firstSeq,
    lastSeq: firstSeq < 0 ? firstSeq : lastSequenceOf(firstSeq, batch.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA)),
  };
}

export class ProducerStateTable {
  /** Map order is recency order: an update deletes and re-inserts. */
  private readonly producers = new Map<number, ProducerEntry>();
  /** Set by every change, cleared when a snapshot is written. */
  dirty = false;

  get producerCount(): number {
    return this.producers.size;
  }

  /** The kept batches of a producer (tests and describe). */
  batchesOf(producerId: number): readonly ProducerBatchEntry[] {
    return this.producers.get(producerId)?.batches ?? [];
  }

  epochOf(producerId: number): number | undefined {
    return this.producers.get(producerId)?.epoch;
  }

  /**
   * Whether the stored batch of `producerId` at `epoch` ending at `lastOffset` is one of
   * the producer's kept batches: the log cleaner retains such a batch (with no records if
   * need be), so a replay of the headers rebuilds the same state (compaction.ts).
   */
  keepsBatch(producerId: number, epoch: number, lastOffset: number): boolean {
    const entry = this.producers.get(producerId);
    if (entry === undefined || entry.epoch !== epoch) return false;
    return entry.batches.some((batch) => batch.lastOffset === lastOffset);
  }

  /**
   * Checks a client batch before it is written. Returns the original entry when the batch
   * is a duplicate of a kept one (write nothing, answer with its offsets), null when it
   * may be written; throws for a fenced epoch or a sequence out of order.
   */
  check(header: ProducerBatchHeader, where: string): ProducerBatchEntry | null {
    if (header.firstSeq < 0 || header.epoch < 0) {
      throw new SpoolError(Errors.INVALID_RECORD, `${where}: producer ${header.producerId} sent epoch ${header.epoch} and base sequence ${header.firstSeq}`);
    }
    const entry = this.producers.get(header.producerId);
    if (!entry) return null;
    if (header.epoch < entry.epoch) {
      throw new SpoolError(Errors.INVALID_PRODUCER_EPOCH, `${where}: producer ${header.producerId} epoch ${header.epoch} is older than ${entry.epoch}`);
    }
    if (header.epoch > entry.epoch) {
      if (header.firstSeq !== 0) {
        throw new SpoolError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, `${where}: producer ${header.producerId} began epoch ${header.epoch} at sequence ${header.firstSeq}, not 0`);
      }
      return null;
    }
    for (const batch of entry.batches) {
      if (batch.firstSeq === header.firstSeq && batch.lastSeq === header.lastSeq) return batch;
    }
    const last = entry.batches[entry.batches.length - 1];
    if (last === undefined) return null;
    const expected = last.lastSeq === MAX_SEQUENCE ? 0 : last.lastSeq + 1;
    if (header.firstSeq !== expected) {
      throw new SpoolError(
        Errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `${where}: producer ${header.producerId} sent sequence ${header.firstSeq}, expected ${expected}`,
      );
    }
    return null;
  }

  /** Records a written batch (or one replayed from the log at open). */
  record(header: ProducerBatchHeader, baseOffset: number, lastOffset: number): void {
    let entry = this.producers.get(header.producerId);
    if (entry) {
      this.producers.delete(header.producerId);
      if (header.epoch !== entry.epoch) entry = { epoch: header.epoch, batches: [] };
    } else {
      entry = { epoch: header.epoch, batches: [] };
      if (this.producers.size >= MAX_PRODUCERS_PER_PARTITION) {
        const oldest = this.producers.keys().next().value as number;
        this.producers.delete(oldest);
      }
    }
    entry.batches.push({ firstSeq: header.firstSeq, lastSeq: header.lastSeq, baseOffset, lastOffset });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) entry.batches.shift();
    this.producers.set(header.producerId, entry);
    this.dirty = true;
  }

  /** Replays one batch header read from the log: skipped when already covered (a snapshot overlap). */
  replay(header: ProducerBatchHeader, baseOffset: number, lastOffset: number): void {
    if (header.firstSeq < 0) return;
    const entry = this.producers.get(header.producerId);
    const newest = entry?.batches[entry.batches.length - 1];
    if (newest && newest.lastOffset >= lastOffset) return;
    this.record(header, baseOffset, lastOffset);
  }

  encodeSnapshot(endOffset: number): Buffer {
    let size = SNAPSHOT_HEAD_BYTES;
    for (const entry of this.producers.values()) size += PRODUCER_HEAD_BYTES + entry.batches.length * BATCH_ENTRY_BYTES;
    const out = Buffer.alloc(size);
    out.writeUInt32BE(SNAPSHOT_MAGIC, 0);
    out.writeUInt16BE(SNAPSHOT_VERSION, 4);
    let at = SNAPSHOT_PREFIX_BYTES;
    out.writeBigInt64BE(BigInt(endOffset), at);
    out.writeInt32BE(this.producers.size, at + 8);
    at += 12;
    for (const [producerId, entry] of this.producers) {
      out.writeBigInt64BE(BigInt(producerId), at);
      out.writeInt16BE(entry.epoch, at + 8);
      out.writeInt8(entry.batches.length, at + 10);
      at += PRODUCER_HEAD_BYTES;
      for (const batch of entry.batches) {
        out.writeInt32BE(batch.firstSeq, at);
        out.writeInt32BE(batch.lastSeq, at + 4);
        out.writeBigInt64BE(BigInt(batch.baseOffset), at + 8);
        out.writeBigInt64BE(BigInt(batch.lastOffset), at + 16);
        at += BATCH_ENTRY_BYTES;
      }
    }
    assert(at === size, 'producer snapshot size');
    out.writeUInt32BE(crc32c(out, SNAPSHOT_PREFIX_BYTES, size), 6);
    return out;
  }

  /**
   * Loads a snapshot into an empty table; returns its endOffset, or null (table left
   * empty) when the bytes are not a whole valid snapshot of this version.
   */
  loadSnapshot(data: Buffer): number | null {
    assert(this.producers.size === 0, 'a snapshot loads into an empty table');
    if (data.length < SNAPSHOT_HEAD_BYTES) return null;
    if (data.readUInt32BE(0) !== SNAPSHOT_MAGIC || data.readUInt16BE(4) !== SNAPSHOT_VERSION) return null;
    if (data.readUInt32BE(6) !== crc32c(data, SNAPSHOT_PREFIX_BYTES, data.length)) return null;
    const endOffset = readInt64(data, SNAPSHOT_PREFIX_BYTES);
    const count = data.readInt32BE(SNAPSHOT_PREFIX_BYTES + 8);
    let at = SNAPSHOT_HEAD_BYTES;
    for (let i = 0; i < count; i++) {
      if (at + PRODUCER_HEAD_BYTES > data.length) return this.reset();
      const producerId = readInt64(data, at);
      const epoch = data.readInt16BE(at + 8);
      const batchCount = data.readInt8(at + 10);
      at += PRODUCER_HEAD_BYTES;
      if (batchCount < 0 || batchCount > PRODUCER_BATCHES_KEPT || at + batchCount * BATCH_ENTRY_BYTES > data.length) return this.reset();
      const batches: ProducerBatchEntry[] = [];
      for (let b = 0; b < batchCount; b++) {
        batches.push({ firstSeq: data.readInt32BE(at), lastSeq: data.readInt32BE(at + 4), baseOffset: readInt64(data, at + 8), lastOffset: readInt64(data, at + 16) });
        at += BATCH_ENTRY_BYTES;
      }
      this.producers.set(producerId, { epoch, batches });
    }
    if (at !== data.length) return this.reset();
    return endOffset;
  }

  /** Forgets every producer. */
  reset(): null {
    this.producers.clear();
    return null;
  }
}

/**
 * Replays the producer fields of every batch header of a segment's log from `position`
 * (a batch boundary) to `endBytes`: one 61-byte read per batch, no records read.
 */
export function replaySegmentHeaders(fs: StorageFs, logFd: number, position: number, endBytes: number, table: ProducerStateTable): void {
  const header = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  for (let at = position; at + BATCH_HEADER_BYTES <= endBytes; ) {
    if (readFullySync(fs, logFd, header, at) !== BATCH_HEADER_BYTES) return;
    const producer = readProducerHeader(header, 0);
    const baseOffset = readInt64(header, 0);
    if (producer) table.replay(producer, baseOffset, baseOffset + header.readInt32BE(BatchLayout.LAST_OFFSET_DELTA));
    at += header.readInt32BE(BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
  }
}
