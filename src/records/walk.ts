// Walking the records section of a produced batch without decoding it: every length and
// varint is read and bounds-checked, nothing is allocated per record (one shared cursor, no
// key/value/header objects). This is what lets the broker store only batches that every
// reader can decode (decode.ts performs the same reads and would throw on the same bytes).
//
// Record => length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
//           keyLength:varint key valueLength:varint value headerCount:varint
//           [headerKeyLength:varint headerKey headerValueLength:varint headerValue]
//
// Checks, per record i of recordCount (error in brackets):
//   length >= 6 and the record fits in the section               [CORRUPT_MESSAGE]
//   every varint well-formed and inside the record               [CORRUPT_MESSAGE]
//   offsetDelta = i                                              [INVALID_RECORD]
//   keyLength, valueLength, headerValueLength >= -1 and in bounds [CORRUPT_MESSAGE]
//   headerCount >= 0; headerKeyLength >= 0 (a header key is never null) [INVALID_RECORD]
//   the fields end exactly at the record's end                   [CORRUPT_MESSAGE]
//   timestamp = baseTimestamp + timestampDelta is >= 0 or exactly -1 (no timestamp), and,
//   when a difference bound is given, within it of the broker's clock [INVALID_TIMESTAMP]
// and after the last record the section ends                      [CORRUPT_MESSAGE]

import { corrupt, invalidRecord, invalidTimestamp } from './errors.js';
import { MIN_RECORD_BYTES } from './layout.js';
import { type Cursor, readVarint, readVarlong } from './varint.js';

/** No record timestamp (Kafka's RecordBatch.NO_TIMESTAMP). */
export const NO_TIMESTAMP = -1;

export interface TimestampRule {
  /** The broker's clock, ms since the epoch. */
  nowMs: number;
  /** Largest |timestamp - nowMs| accepted; -1 for no bound (Kafka's default: unlimited). */
  differenceMaxMs: number;
}

const cursor: Cursor = { at: 0 };

/**
 * Walks `recordCount` records in section[start, end) and throws on the first broken rule
 * (see the list above). `checkDifference` is false for LogAppendTime batches, whose record
 * timestamps the broker does not use.
 */
export function walkRecords(
  section: Buffer,
  start: number,
  end: number,
  recordCount: number,
  baseTimestamp: number,
  rule: TimestampRule | undefined,
  checkDifference: boolean,
): void {
  const differenceMaxMs = rule !== undefined && checkDifference ? rule.differenceMaxMs : -1;
  const nowMs = rule?.nowMs ?? 0;
  cursor.at = start;
  for (let index = 0; index < recordCount; index++) {
    const length = readVarint(section, cursor, end);
    const recordEnd = cursor.at + length;
    if (length < MIN_RECORD_BYTES - 1 || recordEnd > end) {
      throw corrupt(`record ${index} declares ${length} bytes, ${end - cursor.at} remain`);
    }
    cursor.at += 1; // attributes: unused by Kafka, not checked (as Kafka does not)
    const timestampDelta = readVarlong(section, cursor, recordEnd);
    const offsetDelta = readVarint(section, cursor, recordEnd);
    if (offsetDelta !== index) throw invalidRecord(`record ${index} has offsetDelta ${offsetDelta}; a produced batch numbers its records 0, 1, 2, ...`);
    skipBytes(section, recordEnd, index, 'key');
    skipBytes(section, recordEnd, index, 'value');
    const headerCount = readVarint(section, cursor, recordEnd);
    if (headerCount < 0 || headerCount * 2 > recordEnd - cursor.at) {
      throw corrupt(`record ${index} declares ${headerCount} headers in ${recordEnd - cursor.at} bytes`);
    }
    for (let headerIndex = 0; headerIndex < headerCount; headerIndex++) {
      const nameLength = readVarint(section, cursor, recordEnd);
      if (nameLength < 0) throw invalidRecord(`record ${index} header ${headerIndex} has a null key`);
      if (nameLength > recordEnd - cursor.at) throw corrupt(`record ${index} header ${headerIndex} key length ${nameLength} is out of bounds`);
      cursor.at += nameLength;
      skipBytes(section, recordEnd, index, 'header value');
    }
    if (cursor.at !== recordEnd) throw corrupt(`record ${index} has ${recordEnd - cursor.at} bytes left over after its fields`);
    const timestamp = baseTimestamp + timestampDelta;
    if (timestamp < 0 && timestamp !== NO_TIMESTAMP) throw invalidTimestamp(`record ${index} has timestamp ${timestamp}; only -1 (none) may be negative`);
    if (differenceMaxMs >= 0 && timestamp !== NO_TIMESTAMP && Math.abs(timestamp - nowMs) > differenceMaxMs) {
      throw invalidTimestamp(
        `record ${index} has timestamp ${timestamp}, ${timestamp - nowMs} ms from the broker's clock; message.timestamp.difference.max.ms is ${differenceMaxMs}`,
      );
    }
  }
  if (cursor.at !== end) throw corrupt(`${end - cursor.at} bytes left over after ${recordCount} records`);
}

/** Skips a length-prefixed field (-1 = null) at the shared cursor. */
function skipBytes(section: Buffer, recordEnd: number, index: number, field: string): void {
  const length = readVarint(section, cursor, recordEnd);
  if (length < -1 || length > recordEnd - cursor.at) {
    throw corrupt(`record ${index} ${field} length ${length} at position ${cursor.at} is out of bounds`);
  }
  if (length > 0) cursor.at += length;
}
