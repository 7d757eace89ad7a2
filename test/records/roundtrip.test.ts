// Proves encode/decode round trips (fast-check): random keys, values and headers (Buffer or
// string, null key/value, unicode), random timestamps incl. out-of-order and negative ones,
// baseOffset, none and gzip; decoded keys/values are views into the batch when uncompressed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BatchBuilder,
  decodeBatch,
  encodeBatch,
  type RecordInput,
  validateBatch,
} from '../../src/records/index.js';

const bytesOrString = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

const timestamp = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
  fc.integer({ min: -(2 ** 40), max: 2 ** 45 }),
);

const recordArbitrary: fc.Arbitrary<RecordInput> = fc.record(
  {
    key: fc.option(bytesOrString, { nil: null }),
    value: fc.option(bytesOrString, { nil: null }),
    headers: fc.oneof(
      fc.array(fc.tuple(fc.string({ maxLength: 20 }), bytesOrString), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 10 }), bytesOrString, { maxKeys: 3 }),
    ),
    timestamp,
  },
  { requiredKeys: ['value', 'timestamp'] },
);

function toBuffer(field: Buffer | string | null | undefined): Buffer | null {
  if (field === null || field === undefined) return null;
  return typeof field === 'string' ? Buffer.from(field, 'utf8') : field;
}

function expectedHeaders(record: RecordInput): Array<[string, Buffer]> {
  const headers = record.headers;
  if (headers === undefined) return [];
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  return entries.map(([name, value]) => [name, toBuffer(value)!]);
}

function hex(field: Buffer | null): string | null {
  return field === null ? null : field.toString('hex');
}

function checkRoundTrip(records: RecordInput[], compression: 'none' | 'gzip', baseOffset: number): void {
  const batch = encodeBatch(records, { compression, baseOffset });
  const header = validateBatch(batch, 0);
  // The codec round trips any timestamp; produce validation refuses negative ones but -1.
  const producible = records.every((record) => record.timestamp! >= 0 || record.timestamp === -1);
  if (producible) validateBatch(batch, 0, undefined, { producer: true });
  else expect(() => validateBatch(batch, 0, undefined, { producer: true })).toThrow(/timestamp/);
  expect(header.recordCount).toBe(records.length);
  expect(header.baseTimestamp).toBe(records[0]!.timestamp);
  expect(header.maxTimestamp).toBe(Math.max(...records.map((record) => record.timestamp!)));
  // Compared as hex strings: one deep equality per batch, much cheaper than per-Buffer ones.
  const actual = decodeBatch(batch, 0).records.map((record) => ({
    offset: record.offset,
    timestamp: record.timestamp,
    key: hex(record.key),
    value: hex(record.value),
    headers: record.headers.map(([name, value]) => [name, hex(value)]),
  }));
  const expected = records.map((input, index) => ({
    offset: baseOffset + index,
    timestamp: input.timestamp,
    key: hex(toBuffer(input.key)),
    value: hex(toBuffer(input.value)),
    headers: expectedHeaders(input).map(([name, value]) => [name, hex(value)]),
  }));
  expect(actual).toEqual(expected);
}

describe('encode/decode round trip', () => {
  it('round trips random uncompressed batches (property)', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 40 }), fc.nat(2 ** 50), (records, baseOffset) => {
        checkRoundTrip(records, 'none', baseOffset);
      }),
      { numRuns: 200 },
    );
  });

  it('round trips random gzip batches (property)', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 20 }), (records) => {
        checkRoundTrip(records, 'gzip', 0);
      }),
      { numRuns: 60 },
    );
  });

  it('round trips large records and a large batch (buffer growth, multi-byte length varints)', () => {
    const big = Buffer.alloc(300_000, 7);
    const records: RecordInput[] = [
      { key: 'a'.repeat(70_000), value: big, timestamp: 5 },
      ...Array.from({ length: 500 }, (_, index) => ({ value: `v${index}`, timestamp: 5 + index })),
    ];
    checkRoundTrip(records, 'none', 10);
    checkRoundTrip(records, 'gzip', 10);
  });

  it('gives key and value as views into an uncompressed batch, without copying', () => {
    const batch = encodeBatch([{ key: 'key', value: 'value', timestamp: 1 }]);
    const [record] = decodeBatch(batch, 0).records;
    expect(record!.value!.buffer).toBe(batch.buffer);
    batch[batch.length - 2] = 0x21; // last byte of the value (before headerCount)
    expect(record!.value!.toString()).toBe('valu!');
  });

  it('decodes a batch at a position inside a larger buffer', () => {
    const batch = encodeBatch([{ value: 'x', timestamp: 1 }], { baseOffset: 3 });
    const buf = Buffer.concat([Buffer.alloc(9), batch, Buffer.alloc(4)]);
    expect(decodeBatch(buf, 9).records[0]).toMatchObject({ offset: 3, value: Buffer.from('x') });
  });

  it('builds several batches in a row from one BatchBuilder', () => {
    const builder = new BatchBuilder({ initialCapacity: 100 });
    for (let round = 0; round < 5; round++) {
      for (let index = 0; index <= round * 50; index++) builder.append({ value: `r${round}-${index}`, timestamp: index });
      const batch = builder.build();
      expect(builder.recordCount).toBe(0);
      const decoded = decodeBatch(batch, 0).records;
      expect(decoded).toHaveLength(round * 50 + 1);
      expect(decoded.at(-1)!.value!.toString()).toBe(`r${round}-${round * 50}`);
    }
  });
});
