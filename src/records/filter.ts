// Filtering the records of one stored batch, for the log cleaner (Kafka's
// MemoryRecords.filterTo / buildRetainedRecordsInto for magic 2). The batch stays the same
// batch: its baseOffset, lastOffsetDelta, partitionLeaderEpoch, producerId, producerEpoch,
// baseSequence, baseTimestamp and attribute bits (timestamp type, transactional, control)
// are kept; only the records, recordCount, maxTimestamp, batchLength and CRC change. Kept
// records are copied byte for byte (their offsetDelta and timestampDelta are relative to
// the unchanged baseOffset and baseTimestamp, so every record keeps its offset and
// timestamp; offsetDeltas then have gaps, which Kafka readers expect after compaction).
// Keeping lastOffsetDelta keeps the batch's offset range and, with baseSequence, the last
// sequence number an idempotent producer's state is rebuilt from.
//
//   every record kept           -> the original bytes, untouched (even zstd)
//   some kept                   -> a rebuilt batch, compressed with the batch's codec
//                                  (zstd, which spool reads but does not write: gzip)
//   none kept, retainEmpty      -> a batch with no records (Kafka's writeEmptyHeader):
//                                  recordCount 0, no compression, baseTimestamp -1
//                                  (NO_TIMESTAMP), the original maxTimestamp
//   none kept                   -> null: the batch goes
//
// maxTimestamp of a rebuilt CreateTime batch is the largest kept record's timestamp (as
// Kafka's builder computes it); a LogAppendTime batch keeps its own (every record reads it).

import { compressRecords, decompressRecords } from './compression.js';
import { crc32c } from './crc32c.js';
import { corrupt } from './errors.js';
import { readBatchHeader } from './header.js';
import { writeInt64 } from './int64.js';
import { Attributes, BATCH_HEADER_BYTES, BatchLayout, Compression, CRC_START, LOG_OVERHEAD, MIN_RECORD_BYTES } from './layout.js';
import { type Cursor, readVarint, readVarlong } from './varint.js';

/** Whether the record at `offset` stays; `key` is a view into the batch (copy it to keep it). */
export type KeepRecord = (offset: number, key: Buffer | null, hasValue: boolean) => boolean;

export interface FilterOptions {
  /** Keep the batch with no records when every record goes (an idempotent producer's batch the cleaner must retain). */
  retainEmpty: boolean;
  /** Bound on the inflated records section (the topic's max.message.bytes). */
  maxUncompressedBytes: number;
}

export interface FilteredBatch {
  /** The batch to write in place of the original, or null when it goes. */
  batch: Buffer | null;
  recordsKept: number;
  recordsRemoved: number;
}

const NO_TIMESTAMP = -1;
const cursor: Cursor = { at: 0 };

/**
 * Filters the records of the batch at the start of `batch` (one whole batch whose structure
 * and CRC the caller has checked). Throws CORRUPT_MESSAGE when a record does not walk.
 */
export function filterBatch(batch: Buffer, keep: KeepRecord, options: FilterOptions): FilteredBatch {
  const header = readBatchHeader(batch, 0);
  const section = decompressRecords(header.compression, batch.subarray(BATCH_HEADER_BYTES, header.totalBytes), options.maxUncompressedBytes);
  const end = section.length;
  if (header.recordCount * MIN_RECORD_BYTES > end) throw corrupt(`recordCount ${header.recordCount} cannot fit in ${end} bytes of records`);
  // Kept records as [start, end) ranges of `section`, in order.
  const ranges: number[] = [];
  let keptBytes = 0;
  let maxTimestamp = NO_TIMESTAMP;
  cursor.at = 0;
  for (let index = 0; index < header.recordCount; index++) {
    const recordStart = cursor.at;
    const length = readVarint(section, cursor, end);
    const recordEnd = cursor.at + length;
    if (length < MIN_RECORD_BYTES - 1 || recordEnd > end) throw corrupt(`record ${index} declares ${length} bytes, ${end - cursor.at} remain`);
    cursor.at += 1; // attributes
    const timestampDelta = readVarlong(section, cursor, recordEnd);
    const offsetDelta = readVarint(section, cursor, recordEnd);
    const keyLength = readVarint(section, cursor, recordEnd);
    if (keyLength < -1 || keyLength > recordEnd - cursor.at) throw corrupt(`record ${index} key length ${keyLength} is out of bounds`);
    const key = keyLength < 0 ? null : section.subarray(cursor.at, cursor.at + keyLength);
    if (keyLength > 0) cursor.at += keyLength;
    const valueLength = readVarint(section, cursor, recordEnd);
    if (valueLength < -1 || valueLength > recordEnd - cursor.at) throw corrupt(`record ${index} value length ${valueLength} is out of bounds`);
    cursor.at = recordEnd;
    if (!keep(header.baseOffset + offsetDelta, key, valueLength >= 0)) continue;
    ranges.push(recordStart, recordEnd);
    keptBytes += recordEnd - recordStart;
    const timestamp = header.baseTimestamp + timestampDelta;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  if (cursor.at !== end) throw corrupt(`${end - cursor.at} bytes left over after ${header.recordCount} records`);
  const recordsKept = ranges.length / 2;
  const recordsRemoved = header.recordCount - recordsKept;
  if (recordsRemoved === 0) return { batch: batch.subarray(0, header.totalBytes), recordsKept, recordsRemoved };
  if (recordsKept === 0 && !options.retainEmpty) return { batch: null, recordsKept, recordsRemoved };

  let records: Buffer = Buffer.allocUnsafe(keptBytes);
  for (let i = 0, at = 0; i < ranges.length; i += 2) at += section.copy(records, at, ranges[i]!, ranges[i + 1]!);
  let codec = header.compression === Compression.zstd ? Compression.gzip : header.compression;
  if (recordsKept === 0) codec = Compression.none;
  if (codec !== Compression.none) records = compressRecords(codec, records);
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + records.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  records.copy(out, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchLayout.BATCH_LENGTH);
  out.writeInt16BE((header.attributes & ~Attributes.COMPRESSION_MASK) | codec, BatchLayout.ATTRIBUTES);
  const logAppendTime = (header.attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  if (recordsKept === 0) writeInt64(out, BatchLayout.BASE_TIMESTAMP, NO_TIMESTAMP);
  else if (!logAppendTime) writeInt64(out, BatchLayout.MAX_TIMESTAMP, maxTimestamp);
  out.writeInt32BE(recordsKept, BatchLayout.RECORD_COUNT);
  out.writeUInt32BE(crc32c(out, CRC_START, out.length), BatchLayout.CRC);
  return { batch: out, recordsKept, recordsRemoved };
}
