// Decoding the records of a RecordBatch v2 (batch grammar in layout.ts, record grammar in
// builder.ts). Keys, values and header values are subarrays of the batch (no copy) when it
// is uncompressed, and of the inflated block when it is gzip. Every read is bounds-checked:
// malformed bytes give SpoolError CORRUPT_MESSAGE, never a RangeError.
//
// decodeBatch checks the header's structure (magic, lengths, codec) but not the CRC; pass
// { verifyCrc: true } (or call validateBatch first) to check it as well. The broker
// validates every batch on produce and recovery checks CRCs on start-up.

import { corrupt } from './errors.js';
import { type BatchHeader, readBatchHeader } from './header.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES, decompressRecords } from './compression.js';
import { Attributes, BATCH_HEADER_BYTES, BatchLayout, MAGIC, MIN_BATCH_LENGTH, MIN_RECORD_BYTES } from './layout.js';
import { type Cursor, readVarint, readVarlong } from './varint.js';
import { validateBatch } from './validate.js';

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /**
   * A null header value (legal in Kafka, never written by spool) decodes as an empty Buffer.
   * A record without headers gets one shared, frozen empty array.
   */
  headers: Array<[string, Buffer]>;
}

export interface DecodeOptions {
  /** Check the CRC-32C too (costs a pass over the batch). Default false. */
  verifyCrc?: boolean;
  /** Upper bound on an inflated records section. Default 256 MiB. */
  maxUncompressedBytes?: number;
}


/**
 * Builds one decoded record. The consumer passes one that makes its own message object,
 * so a record costs one object instead of a DecodedRecord plus the message copied from it.
 * `headers` is a shared frozen empty array for a record without headers.
 */
export type RecordFactory<T> = (offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: Array<[string, Buffer]>) => T;

const decodedRecord: RecordFactory<DecodedRecord> = (offset, timestamp, key, value, headers) => ({ offset, timestamp, key, value, headers });

/** Decodes the records of the batch at `position` (inflating them when needed). */
export function decodeBatch(
  buf: Buffer,
  position: number,
  options?: DecodeOptions,
): { header: BatchHeader; records: DecodedRecord[] } {
  return decodeBatchWith(buf, position, decodedRecord, options);
}

/** decodeBatch with the record objects made by `make` (same checks, same order). */
export function decodeBatchWith<T>(
  buf: Buffer,
  position: number,
  make: RecordFactory<T>,
  options?: DecodeOptions,
): { header: BatchHeader; records: T[] } {
  const header = options?.verifyCrc === true ? validateBatch(buf, position) : readCheckedHeader(buf, position);
  const batchEnd = position + header.totalBytes;
  let section = buf.subarray(position + BATCH_HEADER_BYTES, batchEnd);
  section = decompressRecords(
    header.compression,
    section,
    options?.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES,
  );
  const records = decodeRecords(header, section, make);
  return { header, records };
}

/** The structural checks of validateBatch, without the CRC. */
function readCheckedHeader(buf: Buffer, position: number): BatchHeader {
  const available = buf.length - position;
  if (!(position >= 0) || available < BATCH_HEADER_BYTES) {
    throw corrupt(`need ${BATCH_HEADER_BYTES} header bytes at position ${position}, have ${Math.max(available, 0)}`);
  }
  const magic = buf.readInt8(position + BatchLayout.MAGIC);
  if (magic !== MAGIC) throw corrupt(`magic ${magic} at position ${position}, expected ${MAGIC}`);
  const header = readBatchHeader(buf, position);
  if (header.batchLength < MIN_BATCH_LENGTH || header.totalBytes > available) {
    throw corrupt(`batchLength ${header.batchLength} at position ${position} does not fit the ${available} bytes present`);
  }
  if (header.recordCount < 0) throw corrupt(`negative recordCount ${header.recordCount}`);
  return header;
}

const cursor: Cursor = { at: 0 };

function decodeRecords<T>(header: BatchHeader, section: Buffer, make: RecordFactory<T>): T[] {
  const recordCount = header.recordCount;
  const end = section.length;
  if (recordCount * MIN_RECORD_BYTES > end) {
    throw corrupt(`recordCount ${recordCount} cannot fit in ${end} bytes of records`);
  }
  const logAppendTime = (header.attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  const baseOffset = header.baseOffset;
  const baseTimestamp = header.baseTimestamp;
  const records = new Array<T>(recordCount);
  cursor.at = 0;
  for (let index = 0; index < recordCount; index++) {
    const length = readVarint(section, cursor, end);
    const recordEnd = cursor.at + length;
    if (length < MIN_RECORD_BYTES - 1 || recordEnd > end) {
      throw corrupt(`record ${index} declares ${length} bytes, ${end - cursor.at} remain`);
    }
    cursor.at += 1; // attributes: unused
    const timestampDelta = readVarlong(section, cursor, recordEnd);
    const offsetDelta = readVarint(section, cursor, recordEnd);
    const key = readBytes(section, cursor, recordEnd);
    const value = readBytes(section, cursor, recordEnd);
    const headerCount = readVarint(section, cursor, recordEnd);
    if (headerCount < 0 || headerCount * 2 > recordEnd - cursor.at) {
      throw corrupt(`record ${index} declares ${headerCount} headers in ${recordEnd - cursor.at} bytes`);
    }
    // Most records have no headers: they share one frozen empty array (no allocation).
    const headers: Array<[string, Buffer]> = headerCount === 0 ? NO_HEADERS : [];
    for (let headerIndex = 0; headerIndex < headerCount; headerIndex++) {
      const nameLength = readVarint(section, cursor, recordEnd);
      if (nameLength < 0 || nameLength > recordEnd - cursor.at) {
        throw corrupt(`record ${index} header ${headerIndex} key length ${nameLength} is out of bounds`);
      }
      const name = section.toString('utf8', cursor.at, cursor.at + nameLength);
      cursor.at += nameLength;
      const headerValue = readBytes(section, cursor, recordEnd);
      headers.push([name, headerValue ?? EMPTY]);
    }
    if (cursor.at !== recordEnd) {
      throw corrupt(`record ${index} has ${recordEnd - cursor.at} bytes left over after its fields`);
    }
    records[index] = make(baseOffset + offsetDelta, logAppendTime ? header.maxTimestamp : baseTimestamp + timestampDelta, key, value, headers);
  }
  if (cursor.at !== end) throw corrupt(`${end - cursor.at} bytes left over after ${recordCount} records`);
  return records;
}

const EMPTY = Buffer.alloc(0);
/** The headers of every record without headers: frozen, so a caller cannot add to the shared array. */
const NO_HEADERS = Object.freeze([]) as unknown as Array<[string, Buffer]>;

function readBytes(section: Buffer, at: Cursor, end: number): Buffer | null {
  const length = readVarint(section, at, end);
  if (length === -1) return null;
  const start = at.at;
  if (length < -1 || length > end - start) throw corrupt(`field length ${length} at position ${start} is out of bounds`);
  at.at = start + length;
  return section.subarray(start, start + length);
}
