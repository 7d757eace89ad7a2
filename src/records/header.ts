// Reading the fixed 61-byte RecordBatch header (grammar in layout.ts) without validation,
// and walking a buffer of concatenated batches by their batchLength fields.

import { Attributes, BatchLayout, LOG_OVERHEAD } from './layout.js';
import { readInt64, writeInt64 } from './int64.js';
import { crc32c } from './crc32c.js';

export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field. */
  batchLength: number;
  /** batchLength + LOG_OVERHEAD: the whole batch. */
  totalBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** As stored (unsigned); not checked here. */
  crc: number;
  attributes: number;
  /** attributes bits 0-2. */
  compression: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/**
 * Reads the header of the batch at `position`. No validation: the caller has checked that
 * BATCH_HEADER_BYTES are present (validateBatch does, and returns the same object).
 */
export function readBatchHeader(buf: Buffer, position: number): BatchHeader {
  const batchLength = buf.readInt32BE(position + BatchLayout.BATCH_LENGTH);
  const attributes = buf.readInt16BE(position + BatchLayout.ATTRIBUTES);
  return {
    baseOffset: readInt64(buf, position + BatchLayout.BASE_OFFSET),
    batchLength,
    totalBytes: batchLength + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(position + BatchLayout.PARTITION_LEADER_EPOCH),
    magic: buf.readInt8(position + BatchLayout.MAGIC),
    crc: buf.readUInt32BE(position + BatchLayout.CRC),
    attributes,
    compression: attributes & Attributes.COMPRESSION_MASK,
    lastOffsetDelta: buf.readInt32BE(position + BatchLayout.LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, position + BatchLayout.BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, position + BatchLayout.MAX_TIMESTAMP),
    producerId: readInt64(buf, position + BatchLayout.PRODUCER_ID),
    producerEpoch: buf.readInt16BE(position + BatchLayout.PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(position + BatchLayout.BASE_SEQUENCE),
    recordCount: buf.readInt32BE(position + BatchLayout.RECORD_COUNT),
  };
}

export function readBaseOffset(buf: Buffer, position: number): number {
  return readInt64(buf, position + BatchLayout.BASE_OFFSET);
}

/** Overwrites baseOffset. The CRC does not cover it, so the batch stays valid. */
export function setBaseOffset(buf: Buffer, position: number, offset: number): void {
  writeInt64(buf, position + BatchLayout.BASE_OFFSET, offset);
}

/**
 * Writes an idempotent producer's fields (producerId, producerEpoch, baseSequence) into the
 * batch at `position` and recomputes its CRC, which covers them.
 */
export function setProducerFields(buf: Buffer, position: number, producerId: number, producerEpoch: number, baseSequence: number): void {
  writeInt64(buf, position + BatchLayout.PRODUCER_ID, producerId);
  buf.writeInt16BE(producerEpoch, position + BatchLayout.PRODUCER_EPOCH);
  buf.writeInt32BE(baseSequence, position + BatchLayout.BASE_SEQUENCE);
  const end = position + buf.readInt32BE(position + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
  buf.writeUInt32BE(crc32c(buf, position + BatchLayout.ATTRIBUTES, end), position + BatchLayout.CRC);
}

/**
 * Calls `fn` for each whole batch in `buf` (concatenated batches, as a fetch returns them)
 * and returns the bytes consumed. Stops, without throwing, at a trailing partial batch or
 * at a batchLength too small to be a header. Does not check magic or CRC.
 */
export function forEachBatch(buf: Buffer, fn: (header: BatchHeader, position: number) => void): number {
  let position = 0;
  while (buf.length - position >= BatchLayout.RECORDS) {
    const batchLength = buf.readInt32BE(position + BatchLayout.BATCH_LENGTH);
    const totalBytes = batchLength + LOG_OVERHEAD;
    if (totalBytes < BatchLayout.RECORDS || totalBytes > buf.length - position) break;
    fn(readBatchHeader(buf, position), position);
    position += totalBytes;
  }
  return position;
}

/**
 * Whether any whole batch in `buf` has the transactional bit (attributes bit 4): Kafka's
 * RequestUtils.hasTransactionalRecords, which a Kafka broker checks before anything else of a
 * produce. Reads only the headers, without allocating; stops where forEachBatch stops.
 */
export function hasTransactionalBatch(buf: Buffer): boolean {
  let position = 0;
  while (buf.length - position >= BatchLayout.RECORDS) {
    const totalBytes = buf.readInt32BE(position + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
    if (totalBytes < BatchLayout.RECORDS || totalBytes > buf.length - position) break;
    if ((buf.readInt16BE(position + BatchLayout.ATTRIBUTES) & Attributes.TRANSACTIONAL) !== 0) return true;
    position += totalBytes;
  }
  return false;
}
