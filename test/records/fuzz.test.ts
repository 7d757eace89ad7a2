// Proves the codec never throws anything but a SpoolError on bad input (fast-check fuzz):
// random bytes, and random mutations (bit flips, overwrites, truncation, insertion; with and
// without the CRC fixed up afterwards) of valid plain and gzip batches, fed to every entry
// point that accepts untrusted bytes (produce validation included, with its INVALID_RECORD and
// INVALID_TIMESTAMP). A valid result is fine; a RangeError is a failure.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BatchLayout,
  crc32c,
  CRC_START,
  decodeBatch,
  encodeBatch,
  forEachBatch,
  validateBatch,
  validateBatches,
  validBatchPrefix,
} from '../../src/records/index.js';
import { SpoolError } from '../../src/util/errors.js';

function onlySpoolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof SpoolError)) throw error;
    expect(['CORRUPT_MESSAGE', 'MESSAGE_TOO_LARGE', 'UNSUPPORTED_COMPRESSION', 'INVALID_RECORD', 'INVALID_TIMESTAMP']).toContain(error.code);
  }
}

function everyEntryPoint(buf: Buffer): void {
  onlySpoolErrors(() => validateBatch(buf, 0));
  onlySpoolErrors(() => validateBatch(buf, 0, 64, { producer: true }));
  onlySpoolErrors(() => validateBatches(buf));
  onlySpoolErrors(() => decodeBatch(buf, 0));
  onlySpoolErrors(() => decodeBatch(buf, 0, { verifyCrc: true, maxUncompressedBytes: 1 << 20 }));
  const prefix = validBatchPrefix(buf);
  expect(prefix.validBytes).toBeLessThanOrEqual(buf.length);
  expect(forEachBatch(buf, () => undefined)).toBeLessThanOrEqual(buf.length);
}

const seedBatches = [
  encodeBatch([{ key: 'k', value: 'v', headers: { a: 'b', c: 'd' }, timestamp: 1700000000000 }]),
  encodeBatch(
    Array.from({ length: 5 }, (_, index) => ({
      key: index % 2 === 0 ? null : `key-${index}`,
      value: 'x'.repeat(index * 30),
      headers: [['h', 'é'] as [string, string]],
      timestamp: 1700000000000 - index * 1000,
    })),
  ),
  encodeBatch([{ value: 'gzip me', timestamp: 5 }, { value: null, timestamp: 6 }], { compression: 'gzip' }),
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), index: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), index: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('truncate' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), index: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(batch: Buffer, mutations: Mutation[], fixCrc: boolean): Buffer {
  let buf = Buffer.from(batch);
  for (const change of mutations) {
    const index = change.index % Math.max(buf.length, 1);
    if (change.kind === 'flip' && buf.length > 0) buf[index] = buf[index]! ^ (1 << change.bit);
    else if (change.kind === 'set' && buf.length > 0) buf[index] = change.byte;
    else if (change.kind === 'truncate') buf = buf.subarray(0, index);
    else if (change.kind === 'insert') buf = Buffer.concat([buf.subarray(0, index), change.bytes, buf.subarray(index)]);
  }
  if (fixCrc && buf.length >= 61) {
    buf.writeUInt32BE(crc32c(buf, CRC_START, buf.length), BatchLayout.CRC);
  }
  return buf;
}

describe('fuzz: garbage never throws a non-SpoolError', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => everyEntryPoint(Buffer.from(bytes))),
      { numRuns: 400 },
    );
  });

  it('random bytes behind a plausible header (magic 2, batchLength matching)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 61, maxLength: 400 }), fc.boolean(), (bytes, fixCrc) => {
        const buf = Buffer.from(bytes);
        buf.writeInt32BE(buf.length - 12, BatchLayout.BATCH_LENGTH);
        buf[BatchLayout.MAGIC] = 2;
        if (fixCrc) buf.writeUInt32BE(crc32c(buf, CRC_START, buf.length), BatchLayout.CRC);
        everyEntryPoint(buf);
      }),
      { numRuns: 400 },
    );
  });

  it('random mutations of valid batches, with and without the CRC fixed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seedBatches),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (batch, mutations, fixCrc) => everyEntryPoint(mutate(batch, mutations, fixCrc)),
      ),
      { numRuns: 600 },
    );
  });

  it('mutated batches concatenated after valid ones (recovery scan)', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const good = seedBatches[1]!;
        const log = Buffer.concat([good, good, mutate(good, mutations, false)]);
        const prefix = validBatchPrefix(log);
        expect(prefix.validBytes).toBeGreaterThanOrEqual(2 * good.length);
        everyEntryPoint(log);
      }),
      { numRuns: 150 },
    );
  });
});
