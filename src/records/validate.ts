// Validation of RecordBatch v2 without decoding records: what the broker runs on every
// produced batch and what recovery runs over a segment. Checks, in order:
//   1. at least BATCH_HEADER_BYTES (61) present                 -> CORRUPT_MESSAGE
//   2. magic = 2                                                 -> CORRUPT_MESSAGE
//   3. batchLength >= 49 (a header with no records)              -> CORRUPT_MESSAGE
//   4. totalBytes <= maxBatchBytes                               -> MESSAGE_TOO_LARGE
//   5. totalBytes <= bytes present                               -> CORRUPT_MESSAGE
//   6. compression codec is 0-4 (5-7 are not defined by Kafka)   -> CORRUPT_MESSAGE
//   7. recordCount >= 0; uncompressed: recordCount * 7 <= records bytes
//   8. lastOffsetDelta >= recordCount - 1 (more is legal after compaction), and
//      lastOffsetDelta = recordCount - 1 exactly when options.producer is set
//   9. CRC-32C of attributes .. end equals the stored crc        -> CORRUPT_MESSAGE
// With options.producer (what the broker runs on a produced batch) also:
//  10. maxTimestamp >= -1                                        -> INVALID_TIMESTAMP
//  11. compressed: recordCount * 7 <= the decompression bound (max.message.bytes), then the
//      records section decompresses within that bound            -> INVALID_RECORD,
//      an undecodable codec                                      -> UNSUPPORTED_COMPRESSION
//  12. every record walks cleanly (walk.ts: lengths, varints, offsetDelta = index,
//      timestamps)                     -> CORRUPT_MESSAGE / INVALID_RECORD / INVALID_TIMESTAMP
//  13. neither the control bit (attributes bit 5) nor the transactional bit (bit 4) is set
//                                                                -> INVALID_RECORD
//      Control batches (transaction markers) are written by a broker, never by a client, and
//      Kafka's LogValidator refuses them from a client with InvalidRecordException. A
//      transactional batch needs a transaction (a transactional id), which spool does not
//      serve; an idempotent producer's batch (a producer id, no transactional bit) is fine.
//      Checked after the CRC, so a flipped bit is reported as corruption, not as this.
// Without it (recovery, reads) a compressed batch is checked by header and CRC only.

import { Errors, SpoolError } from '../util/errors.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES, decompressRecords } from './compression.js';
import { crc32c } from './crc32c.js';
import { corrupt, invalidRecord, invalidTimestamp } from './errors.js';
import { type BatchHeader, readBatchHeader } from './header.js';
import {
  Attributes,
  BATCH_HEADER_BYTES,
  BatchLayout,
  Compression,
  CRC_START,
  MAGIC,
  MIN_BATCH_LENGTH,
  MIN_RECORD_BYTES,
} from './layout.js';
import { NO_TIMESTAMP, type TimestampRule, walkRecords } from './walk.js';

export interface ValidateOptions {
  /**
   * Require lastOffsetDelta = recordCount - 1 (a batch straight from a producer, never
   * compacted). Without it, lastOffsetDelta > recordCount - 1 is accepted, as compaction
   * leaves it.
   */
  producer?: boolean;
  /**
   * With `producer`: the broker's clock and message.timestamp.difference.max.ms. Without it
   * only the sign rule applies (a timestamp is >= 0 or -1).
   */
  timestamps?: TimestampRule;
}

/** Validates the batch at `position` (see the list above) and returns its header. */
export function validateBatch(
  buf: Buffer,
  position: number,
  maxBatchBytes: number = Number.MAX_SAFE_INTEGER,
  options?: ValidateOptions,
): BatchHeader {
  const available = buf.length - position;
  if (!(position >= 0) || available < BATCH_HEADER_BYTES) {
    throw corrupt(`need ${BATCH_HEADER_BYTES} header bytes at position ${position}, have ${Math.max(available, 0)}`);
  }
  const magic = buf.readInt8(position + BatchLayout.MAGIC);
  if (magic !== MAGIC) throw corrupt(`magic ${magic} at position ${position}, expected ${MAGIC}`);
  const header = readBatchHeader(buf, position);
  if (header.batchLength < MIN_BATCH_LENGTH) {
    throw corrupt(`batchLength ${header.batchLength} at position ${position} is below the minimum ${MIN_BATCH_LENGTH}`);
  }
  if (header.totalBytes > maxBatchBytes) {
    throw new SpoolError(
      Errors.MESSAGE_TOO_LARGE,
      `record batch of ${header.totalBytes} bytes is larger than the limit of ${maxBatchBytes} bytes`,
    );
  }
  if (header.totalBytes > available) {
    throw corrupt(`batch at position ${position} declares ${header.totalBytes} bytes but only ${available} are present`);
  }
  if (header.compression > Compression.zstd) {
    throw corrupt(`unknown compression codec ${header.compression} in attributes ${header.attributes}`);
  }
  const recordCount = header.recordCount;
  if (recordCount < 0) throw corrupt(`negative recordCount ${recordCount}`);
  const recordsBytes = header.totalBytes - BATCH_HEADER_BYTES;
  if (header.compression === Compression.none && recordCount * MIN_RECORD_BYTES > recordsBytes) {
    throw corrupt(`recordCount ${recordCount} cannot fit in ${recordsBytes} bytes of records`);
  }
  const lastOffsetDelta = header.lastOffsetDelta;
  if (lastOffsetDelta < recordCount - 1 || (options?.producer === true && lastOffsetDelta !== recordCount - 1)) {
    throw corrupt(`lastOffsetDelta ${lastOffsetDelta} is inconsistent with recordCount ${recordCount}`);
  }
  const crc = crc32c(buf, position + CRC_START, position + header.totalBytes);
  if (crc !== header.crc) {
    throw corrupt(`CRC-32C mismatch at position ${position}: stored ${header.crc}, computed ${crc}`);
  }
  if (options?.producer === true) checkRecords(buf, position, header, maxBatchBytes, options.timestamps);
  return header;
}

/**
 * Rules 10-13: the records of a produced batch, so that nothing stored can stop a reader.
 * An uncompressed batch is walked in place (no allocation); a compressed one is
 * decompressed with its output bounded by max.message.bytes (as Kafka bounds a batch by
 * it), then walked.
 */
function checkRecords(buf: Buffer, position: number, header: BatchHeader, maxBatchBytes: number, timestamps: TimestampRule | undefined): void {
  refuseControlOrTransactional(header);
  if (header.maxTimestamp < NO_TIMESTAMP) throw invalidTimestamp(`maxTimestamp ${header.maxTimestamp} is negative`);
  const checkDifference = (header.attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) === 0;
  const recordsStart = position + BATCH_HEADER_BYTES;
  const batchEnd = position + header.totalBytes;
  if (header.compression === Compression.none) {
    walkRecords(buf, recordsStart, batchEnd, header.recordCount, header.baseTimestamp, timestamps, checkDifference);
    return;
  }
  const maxUncompressedBytes = Math.min(maxBatchBytes, DEFAULT_MAX_UNCOMPRESSED_BYTES);
  if (header.recordCount * MIN_RECORD_BYTES > maxUncompressedBytes) {
    throw invalidRecord(`recordCount ${header.recordCount} cannot fit in the ${maxUncompressedBytes}-byte bound on a decompressed records section`);
  }
  const section = decompressRecords(header.compression, buf.subarray(recordsStart, batchEnd), maxUncompressedBytes);
  walkRecords(section, 0, section.length, header.recordCount, header.baseTimestamp, timestamps, checkDifference);
}

/** Rule 13: what only a broker (control) or a transaction (transactional) may write. */
function refuseControlOrTransactional(header: BatchHeader): void {
  if ((header.attributes & Attributes.CONTROL) !== 0) {
    throw invalidRecord(`clients are not allowed to write control batches (attributes ${header.attributes} has the control bit set)`);
  }
  if ((header.attributes & Attributes.TRANSACTIONAL) !== 0) {
    throw invalidRecord(
      `transactional batches are not served: spool has no transactions (attributes ${header.attributes} has the transactional bit set; an idempotent producer's batch must not set it)`,
    );
  }
}

export interface BatchesSummary {
  batchCount: number;
  recordCount: number;
  /** Sum over batches of lastOffsetDelta (offsets taken up = lastOffsetDeltaSum + batchCount). */
  lastOffsetDeltaSum: number;
  /** Largest maxTimestamp of any batch (-1 if none is larger). */
  maxTimestamp: number;
}

/**
 * Validates a buffer that must be exactly a sequence of whole valid batches (at least one),
 * as a produce request carries them.
 */
export function validateBatches(buf: Buffer, maxBatchBytes?: number, options?: ValidateOptions): BatchesSummary {
  if (buf.length === 0) throw corrupt('no record batch in an empty buffer');
  let position = 0;
  let batchCount = 0;
  let recordCount = 0;
  let lastOffsetDeltaSum = 0;
  let maxTimestamp = -1;
  while (position < buf.length) {
    const header = validateBatch(buf, position, maxBatchBytes, options);
    batchCount += 1;
    recordCount += header.recordCount;
    lastOffsetDeltaSum += header.lastOffsetDelta;
    if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
    position += header.totalBytes;
  }
  return { batchCount, recordCount, lastOffsetDeltaSum, maxTimestamp };
}

/**
 * For recovery: the byte length of the longest prefix of `buf` made of whole, valid
 * (CRC-checked) batches, and how many batches it holds. Never throws on bad data.
 */
export function validBatchPrefix(buf: Buffer): { validBytes: number; batches: number } {
  let position = 0;
  let batches = 0;
  while (position < buf.length) {
    let header: BatchHeader;
    try {
      header = validateBatch(buf, position);
    } catch (error) {
      // Corruption ends the valid prefix; that is this function's answer, not a failure.
      if (error instanceof SpoolError) break;
      throw error;
    }
    batches += 1;
    position += header.totalBytes;
  }
  return { validBytes: position, batches };
}
