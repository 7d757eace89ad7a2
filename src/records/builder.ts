// Encoding RecordBatch v2: BatchBuilder writes records into one growing buffer, then build()
// fills in the header (grammar in layout.ts) and the CRC.
//
// Record =>
//   length: varint               bytes after this field
//   attributes: int8             = 0 (unused)
//   timestampDelta: varlong      timestamp - baseTimestamp
//   offsetDelta: varint          index of the record in the batch
//   keyLength: varint, key: bytes         -1 and no bytes for a null key
//   valueLength: varint, value: bytes     -1 and no bytes for a null value
//   headerCount: varint
//   [headerKeyLength: varint, headerKey: utf8, headerValueLength: varint, headerValue: bytes]
//
// No per-record allocation: varints go straight into the buffer and strings are written with
// buf.write. A length prefix is written after its field: the builder reserves the bytes its
// estimate needs (exact for Buffers and ASCII strings) and, in the rare case the real length
// needs a different varint size, moves the field with copyWithin.

import { assert } from '../util/assert.js';
import { Errors, SpoolError } from '../util/errors.js';
import { compressRecords } from './compression.js';
import { crc32c } from './crc32c.js';
import { setBaseOffset } from './header.js';
import { writeInt64 } from './int64.js';
import {
  BATCH_HEADER_BYTES,
  BatchLayout,
  Compression,
  type CompressionName,
  CRC_START,
  LOG_OVERHEAD,
  MAGIC,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
} from './layout.js';
import { MAX_VARINT_BYTES, MAX_VARLONG_BYTES, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

export interface RecordInput {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string> | Array<[string, Buffer | string]>;
  /** ms since the epoch; Date.now() at append when absent. */
  timestamp?: number;
}

export interface BatchBuilderOptions {
  compression?: CompressionName;
  /** Bytes to allocate up front (the buffer doubles as needed). */
  initialCapacity?: number;
}

const DEFAULT_INITIAL_CAPACITY = 16 * 1024;
/** Past a build, a builder keeps at most this much buffer (or its initialCapacity). */
const MAX_RETAINED_CAPACITY = 1024 * 1024;
/** recycle() keeps at most this many spare buffers per builder (a few requests' worth). */
const MAX_SPARE_BUFFERS = 8;
/** Worst case UTF-8 bytes per UTF-16 code unit. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/** Builds one batch into a growing buffer with no per-record allocation. */
export class BatchBuilder {
  private buffer: Buffer;
  /** Next write position in `buffer`; also the encoded (uncompressed) size. */
  private writeAt = BATCH_HEADER_BYTES;
  private count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;
  private readonly compression: number;
  private readonly initialCapacity: number;
  /** Buffers of finished batches given back by recycle(), reused by take() instead of allocating. */
  private readonly spares: Buffer[] = [];

  constructor(options?: BatchBuilderOptions) {
    const name = options?.compression ?? 'none';
    this.compression = compressionCode(name);
    this.initialCapacity = Math.max(options?.initialCapacity ?? DEFAULT_INITIAL_CAPACITY, BATCH_HEADER_BYTES + 64);
    this.buffer = Buffer.allocUnsafe(this.initialCapacity);
  }

  get recordCount(): number {
    return this.count;
  }

  /** Current encoded size in bytes (uncompressed, header included), for batching decisions. */
  get sizeBytes(): number {
    return this.writeAt;
  }

  /**
   * Appends one record. `defaultTimestamp` (ms) stands in for a missing record.timestamp
   * (else Date.now()): a caller appending many records at one moment reads the clock once,
   * which matters because Date.now() costs ~80 ns here, a tenth of a produced message.
   */
  append(record: RecordInput, defaultTimestamp?: number): void {
    const timestamp = record.timestamp ?? defaultTimestamp ?? Date.now();
    if (!Number.isSafeInteger(timestamp)) {
      throw new SpoolError(Errors.INVALID_TIMESTAMP, `record timestamp ${String(timestamp)} is not an integer (ms)`);
    }
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    const timestampDelta = timestamp - this.baseTimestamp;
    const offsetDelta = this.count;
    const key = record.key ?? null;
    const value = record.value ?? null;
    const headers = record.headers;
    if (headers === undefined && typeof key !== 'string' && typeof value !== 'string') {
      this.appendBytes(timestampDelta, offsetDelta, key, value);
      return;
    }

    this.appendGeneral(timestampDelta, offsetDelta, key, value, headers);
  }

  /** Any record: string fields, headers. Length prefixes are fixed after writing if needed. */
  private appendGeneral(
    timestampDelta: number,
    offsetDelta: number,
    key: Buffer | string | null,
    value: Buffer | string | null,
    headers: RecordInput['headers'],
  ): void {
    // Estimate the body length (exact unless a string is not ASCII) and an upper bound
    // on the bytes the record can take, so the buffer grows at most once here.
    const headerCount = headers === undefined ? 0 : measureHeaders(headers);
    const keyLength = key === null ? -1 : key.length;
    const valueLength = value === null ? -1 : value.length;
    const estimate =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(offsetDelta) +
      sizeOfVarint(keyLength) +
      (keyLength > 0 ? keyLength : 0) +
      sizeOfVarint(valueLength) +
      (valueLength > 0 ? valueLength : 0) +
      sizeOfVarint(headerCount) +
      (headerCount > 0 ? measured.estimateBytes : 0);
    const bound =
      1 + MAX_VARLONG_BYTES + 4 * MAX_VARINT_BYTES + maxBytes(key) + maxBytes(value) + (headerCount > 0 ? measured.boundBytes : 0);
    this.ensureCapacity(this.writeAt + MAX_VARINT_BYTES + bound);

    const recordStart = this.writeAt;
    const reserved = sizeOfVarint(estimate);
    const buf = this.buffer;
    let at = recordStart + reserved;
    buf[at++] = 0; // attributes
    at = writeVarlong(buf, at, timestampDelta);
    at = writeVarint(buf, at, offsetDelta);
    at = writeField(buf, at, key);
    at = writeField(buf, at, value);
    at = writeVarint(buf, at, headerCount);
    if (headers !== undefined) at = writeHeaders(buf, at, headers);
    this.writeAt = finishLengthPrefix(buf, recordStart, reserved, at);
    this.count += 1;
  }

  /**
   * The common case, straight-line: key and value are Buffers or null and there are no
   * headers, so every length is known before writing and no prefix needs fixing.
   */
  private appendBytes(timestampDelta: number, offsetDelta: number, key: Buffer | null, value: Buffer | null): void {
    const keyLength = key === null ? -1 : key.length;
    const valueLength = value === null ? -1 : value.length;
    const bodyLength =
      2 + // attributes, headerCount 0
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(offsetDelta) +
      sizeOfVarint(keyLength) +
      (key === null ? 0 : keyLength) +
      sizeOfVarint(valueLength) +
      (value === null ? 0 : valueLength);
    this.ensureCapacity(this.writeAt + MAX_VARINT_BYTES + bodyLength);
    const buf = this.buffer;
    let at = writeVarint(buf, this.writeAt, bodyLength);
    buf[at++] = 0; // attributes
    at = writeVarlong(buf, at, timestampDelta);
    at = writeVarint(buf, at, offsetDelta);
    at = writeVarint(buf, at, keyLength);
    if (key !== null) at = copyBytes(key, buf, at);
    at = writeVarint(buf, at, valueLength);
    if (value !== null) at = copyBytes(value, buf, at);
    buf[at++] = 0; // headerCount
    this.writeAt = at;
    this.count += 1;
  }

  /** The whole batch (baseOffset 0, CRC set). The builder is empty again afterwards. */
  build(): Buffer {
    assert(this.count > 0, 'BatchBuilder.build() needs at least one record');
    let batch: Buffer;
    if (this.compression === Compression.none) {
      batch = this.take(this.writeAt);
    } else {
      const compressed = compressRecords(this.compression, this.buffer.subarray(BATCH_HEADER_BYTES, this.writeAt));
      batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
      compressed.copy(batch, BATCH_HEADER_BYTES);
    }
    this.writeHeader(batch);
    this.reset();
    return batch;
  }

  /**
   * Gives back a batch returned by build() once nothing reads it any more (the producer:
   * when the broker has answered the request that carried it, so the socket is done with
   * it too). The next build() reuses its memory instead of allocating: a fresh
   * batch-sized buffer per batch is external memory, and at hundreds of MB/s the GCs it
   * triggers were a third of the producer's CPU. Buffers that are not a whole buffer of
   * this builder's capacity (small copied batches, gzip batches) are ignored. The caller
   * must not touch `batch` afterwards.
   */
  recycle(batch: Buffer): void {
    const whole = batch.buffer;
    if (batch.byteOffset !== 0 || whole.byteLength !== this.retainedCapacity() || this.spares.length >= MAX_SPARE_BUFFERS) return;
    if (this.compression !== Compression.none || whole === this.buffer.buffer) return;
    for (const spare of this.spares) if (spare.buffer === whole) return;
    this.spares.push(Buffer.from(whole, 0, whole.byteLength));
  }

  /** Drops the records appended so far. */
  reset(): void {
    this.writeAt = BATCH_HEADER_BYTES;
    this.count = 0;
    // One huge batch must not leave a huge buffer behind in a long-lived builder.
    if (this.buffer.length > MAX_RETAINED_CAPACITY) this.buffer = Buffer.allocUnsafe(this.retainedCapacity());
  }

  private retainedCapacity(): number {
    return Math.max(this.initialCapacity, Math.min(this.buffer.length, MAX_RETAINED_CAPACITY));
  }

  private writeHeader(batch: Buffer): void {
    writeInt64(batch, BatchLayout.BASE_OFFSET, 0);
    batch.writeInt32BE(batch.length - LOG_OVERHEAD, BatchLayout.BATCH_LENGTH);
    batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, BatchLayout.PARTITION_LEADER_EPOCH);
    batch[BatchLayout.MAGIC] = MAGIC;
    batch.writeInt16BE(this.compression, BatchLayout.ATTRIBUTES);
    batch.writeInt32BE(this.count - 1, BatchLayout.LAST_OFFSET_DELTA);
    writeInt64(batch, BatchLayout.BASE_TIMESTAMP, this.baseTimestamp);
    writeInt64(batch, BatchLayout.MAX_TIMESTAMP, this.maxTimestamp);
    writeInt64(batch, BatchLayout.PRODUCER_ID, NO_PRODUCER_ID);
    batch.writeInt16BE(NO_PRODUCER_EPOCH, BatchLayout.PRODUCER_EPOCH);
    batch.writeInt32BE(NO_SEQUENCE, BatchLayout.BASE_SEQUENCE);
    batch.writeInt32BE(this.count, BatchLayout.RECORD_COUNT);
    batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
  }

  /**
   * Hands out the first `size` bytes. A mostly full buffer is given away whole (no copy)
   * and replaced by a fresh one of the same capacity (up to 1 MiB); a mostly empty one is
   * copied from, so a small batch does not pin a large buffer.
   */
  private take(size: number): Buffer {
    if (size * 2 >= this.buffer.length) {
      const batch = this.buffer.subarray(0, size);
      this.buffer = this.spares.pop() ?? Buffer.allocUnsafe(this.retainedCapacity());
      return batch;
    }
    const batch = Buffer.allocUnsafe(size);
    this.buffer.copy(batch, 0, 0, size);
    return batch;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.writeAt);
    this.buffer = grown;
  }
}

/** Results of measureHeaders, kept in one module-level object so measuring allocates nothing. */
const measured = { estimateBytes: 0, boundBytes: 0 };

/** Counts headers and fills `measured` with their estimated and maximum encoded bytes. */
function measureHeaders(headers: NonNullable<RecordInput['headers']>): number {
  let count = 0;
  let estimateBytes = 0;
  let boundBytes = 0;
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) {
      count += 1;
      estimateBytes += headerEstimate(name, value);
      boundBytes += 2 * MAX_VARINT_BYTES + maxBytes(name) + maxBytes(value);
    }
  } else {
    for (const name in headers) {
      const value = headers[name]!;
      count += 1;
      estimateBytes += headerEstimate(name, value);
      boundBytes += 2 * MAX_VARINT_BYTES + maxBytes(name) + maxBytes(value);
    }
  }
  measured.estimateBytes = estimateBytes;
  measured.boundBytes = boundBytes;
  return count;
}

/** Writes each header as name, value (length-prefixed); returns the position after them. */
function writeHeaders(buf: Buffer, at: number, headers: NonNullable<RecordInput['headers']>): number {
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) {
      at = writeField(buf, at, name);
      at = writeField(buf, at, value);
    }
  } else {
    for (const name in headers) {
      at = writeField(buf, at, name);
      at = writeField(buf, at, headers[name]!);
    }
  }
  return at;
}

function compressionCode(name: CompressionName): number {
  if (name === 'none') return Compression.none;
  if (name === 'gzip') return Compression.gzip;
  if (name === 'snappy') return Compression.snappy;
  if (name === 'lz4') return Compression.lz4;
  throw new SpoolError(Errors.UNSUPPORTED_COMPRESSION, `compression ${String(name)} is not supported for writing; use none, gzip, snappy or lz4`);
}

function maxBytes(field: Buffer | string | null): number {
  if (field === null) return 0;
  return typeof field === 'string' ? field.length * MAX_UTF8_BYTES_PER_UNIT : field.length;
}

function headerEstimate(name: string, value: Buffer | string): number {
  return sizeOfVarint(name.length) + name.length + sizeOfVarint(value.length) + value.length;
}

/**
 * Writes a length-prefixed field (bytes or a UTF-8 string; null as length -1) at `at` and
 * returns the position after it.
 */
function writeField(buf: Buffer, at: number, field: Buffer | string | null): number {
  if (field === null) {
    buf[at] = 1; // zigzag(-1)
    return at + 1;
  }
  if (typeof field !== 'string') {
    at = writeVarint(buf, at, field.length);
    return copyBytes(field, buf, at);
  }
  return writeString(buf, at, field);
}

/** Strings up to this many UTF-16 units try a JS loop first (a 1-byte length prefix). */
const SHORT_STRING_UNITS = 32;

function writeString(buf: Buffer, at: number, text: string): number {
  const units = text.length;
  if (units <= SHORT_STRING_UNITS) {
    // Short ASCII strings: a charCodeAt loop beats the call into buf.write.
    const bodyStart = at + 1;
    let index = 0;
    for (; index < units; index++) {
      const code = text.charCodeAt(index);
      if (code >= 0x80) break;
      buf[bodyStart + index] = code;
    }
    if (index === units) {
      buf[at] = units << 1; // zigzag(units), one byte since units <= 63
      return bodyStart + units;
    }
  }
  // A string's UTF-8 length is known only after writing it: write it after a prefix sized
  // for its UTF-16 length (exact for ASCII), then fix the prefix.
  const reserved = sizeOfVarint(units);
  const end = at + reserved + writeUtf8(buf, text, at + reserved);
  return finishLengthPrefix(buf, at, reserved, end);
}

type Utf8Write = (this: Buffer, text: string, offset: number, length?: number) => number;
/**
 * Buffer#utf8Write: the native method behind buf.write(text, offset), without write()'s
 * argument normalisation, which costs as much as the copy itself for ~100-char strings.
 * Not in @types/node but present in every Node release (msgpackr relies on it too);
 * falls back to buf.write where missing.
 */
const nativeUtf8Write = (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write;

function writeUtf8(buf: Buffer, text: string, offset: number): number {
  return nativeUtf8Write !== undefined ? nativeUtf8Write.call(buf, text, offset, buf.length - offset) : buf.write(text, offset);
}

/** Copies `source` into `target` at `at`; returns the position after it. */
function copyBytes(source: Buffer, target: Buffer, at: number): number {
  const length = source.length;
  // A call into Buffer#copy costs about as much as a 16-byte loop; it wins above that.
  if (length > 16) return at + source.copy(target, at);
  for (let index = 0; index < length; index++) target[at + index] = source[index]!;
  return at + length;
}

/**
 * The body of a field was written at start + reserved .. end; writes its length as a varint
 * at `start`, moving the body if the varint needs another size than reserved. Returns the
 * position after the body. The buffer has MAX_VARINT_BYTES of slack after `end`.
 */
function finishLengthPrefix(buf: Buffer, start: number, reserved: number, end: number): number {
  const bodyStart = start + reserved;
  const length = end - bodyStart;
  const needed = sizeOfVarint(length);
  if (needed !== reserved) {
    buf.copyWithin(start + needed, bodyStart, end);
    end += needed - reserved;
  }
  writeVarint(buf, start, length);
  return end;
}

/** One reusable builder per codec for encodeBatch (single-threaded, and reset after use). */
const sharedBuilders = new Map<CompressionName, BatchBuilder>();

/** Encodes `records` as one batch (baseOffset 0 unless given). */
export function encodeBatch(
  records: RecordInput[],
  options?: { compression?: CompressionName; baseOffset?: number },
): Buffer {
  const compression = options?.compression ?? 'none';
  let builder = sharedBuilders.get(compression);
  if (builder === undefined) {
    builder = new BatchBuilder({ compression });
    sharedBuilders.set(compression, builder);
  }
  let batch: Buffer;
  try {
    for (const record of records) builder.append(record);
    batch = builder.build();
  } finally {
    builder.reset();
  }
  if (options?.baseOffset !== undefined) setBaseOffset(batch, 0, options.baseOffset);
  return batch;
}
