// Hand-built batches for validation tests: a header from encodeBatch around any records
// section (well-formed or not), with the codec bits, counts and CRC set as asked, so each
// test breaks exactly one rule and the CRC is never what catches it.

import { gzipSync } from 'node:zlib';
import { BATCH_HEADER_BYTES, BatchLayout, crc32c, CRC_START, encodeBatch, LOG_OVERHEAD, writeVarint, writeVarlong } from '../../src/records/index.js';

export interface CraftOptions {
  /** Codec id for attributes bits 0-2 (0 none). */
  codec?: number;
  /** Compresses the section with this function (gzip for codec 1 by default). */
  compress?: (section: Buffer) => Buffer;
  recordCount: number;
  /** Default recordCount - 1. */
  lastOffsetDelta?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
  /** Extra attribute bits (e.g. 0x08 LogAppendTime). */
  attributeBits?: number;
}

/** A batch whose records section is `section` (compressed per options), CRC fixed. */
export function craftBatch(section: Buffer, options: CraftOptions): Buffer {
  const codec = options.codec ?? 0;
  const compress = options.compress ?? (codec === 1 ? (bytes: Buffer) => gzipSync(bytes) : (bytes: Buffer) => bytes);
  const body = compress(section);
  const header = Buffer.from(encodeBatch([{ value: 'x', timestamp: options.baseTimestamp ?? 1_700_000_000_000 }]).subarray(0, BATCH_HEADER_BYTES));
  const batch = Buffer.concat([header, body]);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BatchLayout.BATCH_LENGTH);
  batch.writeInt16BE(codec | (options.attributeBits ?? 0), BatchLayout.ATTRIBUTES);
  batch.writeInt32BE(options.recordCount, BatchLayout.RECORD_COUNT);
  batch.writeInt32BE(options.lastOffsetDelta ?? options.recordCount - 1, BatchLayout.LAST_OFFSET_DELTA);
  if (options.baseTimestamp !== undefined) writeInt64(batch, BatchLayout.BASE_TIMESTAMP, options.baseTimestamp);
  writeInt64(batch, BatchLayout.MAX_TIMESTAMP, options.maxTimestamp ?? options.baseTimestamp ?? 1_700_000_000_000);
  return fixCrc(batch);
}

function writeInt64(buf: Buffer, at: number, value: number): void {
  buf.writeBigInt64BE(BigInt(value), at);
}

export function fixCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
  return batch;
}

export interface RawRecord {
  timestampDelta?: number;
  offsetDelta: number;
  key?: Buffer | null;
  value?: Buffer | null;
  /** [keyLength override or key, value]; a null key writes length -1. */
  headers?: Array<[Buffer | null, Buffer | null]>;
}

/** Encodes records field by field, with whatever (possibly illegal) values are given. */
export function encodeRecords(records: RawRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const record of records) {
    const body = Buffer.alloc(64 + (record.key?.length ?? 0) + (record.value?.length ?? 0) + (record.headers ?? []).reduce((n, [k, v]) => n + 20 + (k?.length ?? 0) + (v?.length ?? 0), 0));
    let at = 0;
    body[at++] = 0;
    at = writeVarlong(body, at, record.timestampDelta ?? 0);
    at = writeVarint(body, at, record.offsetDelta);
    at = writeField(body, at, record.key ?? null);
    at = writeField(body, at, record.value === undefined ? Buffer.from('v') : record.value);
    const headers = record.headers ?? [];
    at = writeVarint(body, at, headers.length);
    for (const [key, value] of headers) {
      at = writeField(body, at, key);
      at = writeField(body, at, value);
    }
    const length = Buffer.alloc(5);
    parts.push(length.subarray(0, writeVarint(length, 0, at)), body.subarray(0, at));
  }
  return Buffer.concat(parts);
}

function writeField(buf: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(buf, at, -1);
  at = writeVarint(buf, at, bytes.length);
  bytes.copy(buf, at);
  return at + bytes.length;
}
