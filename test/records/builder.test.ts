// Proves BatchBuilder's bookkeeping and edge cases: sizeBytes tracks the encoded size,
// build() resets, default timestamps, refused timestamps and codecs, strings whose UTF-8
// length needs a longer varint than estimated (the prefix-fixing path), and that a failed
// encodeBatch leaves the shared builder clean.

import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/util/assert.js';
import { BatchBuilder, type CompressionName, decodeBatch, encodeBatch } from '../../src/records/index.js';
import { expectSpoolError } from './helpers.js';

describe('BatchBuilder', () => {
  it('tracks recordCount and sizeBytes, and resets after build()', () => {
    const builder = new BatchBuilder();
    expect(builder.sizeBytes).toBe(61);
    builder.append({ value: 'abc', timestamp: 1 });
    builder.append({ key: 'k', value: null, timestamp: 2 });
    expect(builder.recordCount).toBe(2);
    const batch = builder.build();
    expect(batch.length).toBe(61 + 10 + 8);
    expect(builder.recordCount).toBe(0);
    expect(builder.sizeBytes).toBe(61);
  });

  it('stamps Date.now() when a record has no timestamp', () => {
    const before = Date.now();
    const batch = encodeBatch([{ value: 'x' }]);
    const [record] = decodeBatch(batch, 0).records;
    expect(record!.timestamp).toBeGreaterThanOrEqual(before);
    expect(record!.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('keeps baseTimestamp = first record and maxTimestamp = max, with negative deltas', () => {
    const batch = encodeBatch([
      { value: 'a', timestamp: 1000 },
      { value: 'b', timestamp: 10 },
      { value: 'c', timestamp: 5000 },
    ]);
    const { header, records } = decodeBatch(batch, 0);
    expect([header.baseTimestamp, header.maxTimestamp]).toEqual([1000, 5000]);
    expect(records.map((record) => record.timestamp)).toEqual([1000, 10, 5000]);
  });

  it('refuses non-integer timestamps with INVALID_TIMESTAMP', () => {
    const builder = new BatchBuilder();
    for (const timestamp of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expectSpoolError(() => builder.append({ value: 'x', timestamp }), 'INVALID_TIMESTAMP');
    }
    expect(builder.recordCount).toBe(0);
  });

  it('refuses codecs other than none, gzip, snappy and lz4 (zstd is read only)', () => {
    expectSpoolError(() => new BatchBuilder({ compression: 'zstd' as CompressionName }), 'UNSUPPORTED_COMPRESSION');
  });

  it('treats building an empty batch as a bug', () => {
    expect(() => new BatchBuilder().build()).toThrow(AssertionError);
  });

  it('fixes length prefixes when UTF-8 needs a longer varint than the estimate', () => {
    // 63 x 'é' is 63 UTF-16 units (1-byte varint) but 126 UTF-8 bytes (2-byte varint);
    // 8191 x '€' is 8191 units (2 bytes) but 24573 UTF-8 bytes (3 bytes).
    // Short strings (<= 32 units) take an ASCII loop first and fall back on a non-ASCII unit.
    const cases = ['é'.repeat(63), '€'.repeat(8191), '😀'.repeat(40), `${'a'.repeat(60)}é`, 'é', 'aé', `${'a'.repeat(31)}😀`, 'a'.repeat(32), 'a'.repeat(33), ''];
    for (const text of cases) {
      const batch = encodeBatch([
        { key: text, value: text, headers: { [text]: text }, timestamp: 1 },
        { value: 'after', timestamp: 2 },
      ]);
      const [first, second] = decodeBatch(batch, 0).records;
      expect(first!.key!.toString()).toBe(text);
      expect(first!.value!.toString()).toBe(text);
      expect(first!.headers).toEqual([[text, Buffer.from(text)]]);
      expect(second!.value!.toString()).toBe('after');
    }
  });

  it('leaves the shared encodeBatch builder clean after a failed append', () => {
    expectSpoolError(
      () => encodeBatch([{ value: 'ok', timestamp: 1 }, { value: 'bad', timestamp: Number.NaN }]),
      'INVALID_TIMESTAMP',
    );
    const batch = encodeBatch([{ value: 'fresh', timestamp: 3 }]);
    expect(decodeBatch(batch, 0).records.map((record) => record.value!.toString())).toEqual(['fresh']);
  });

  it('returns batches that stay intact while the builder is reused', () => {
    const builder = new BatchBuilder({ initialCapacity: 128 });
    builder.append({ value: 'first', timestamp: 1 });
    const first = builder.build();
    const snapshot = Buffer.from(first);
    for (let index = 0; index < 100; index++) builder.append({ value: `other-${index}`, timestamp: 2 });
    builder.build();
    expect(first.equals(snapshot)).toBe(true);
  });

  it('does not keep a huge buffer after building a huge batch', () => {
    const builder = new BatchBuilder();
    builder.append({ value: Buffer.alloc(4 * 1024 * 1024), timestamp: 1 });
    expect(builder.build().length).toBeGreaterThan(4 * 1024 * 1024);
    const retained = (builder as unknown as { buffer: Buffer }).buffer.length;
    expect(retained).toBeLessThanOrEqual(1024 * 1024);
    builder.append({ value: 'small', timestamp: 2 });
    expect(decodeBatch(builder.build(), 0).records[0]!.value!.toString()).toBe('small');
  });
});
