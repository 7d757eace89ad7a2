// Proves decompression of a records section is bounded: output past the bound is refused
// with INVALID_RECORD naming it, quickly and without inflating the rest (a 1000x gzip bomb
// stops within a few ms), bytes that do not decompress give CORRUPT_MESSAGE, and the
// consumer's decodeBatch takes the same bound.

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressRecords } from '../../src/records/compression.js';
import { decodeBatch, encodeBatch } from '../../src/records/index.js';
import { expectSpoolError } from './helpers.js';

const MIB = 1024 * 1024;

describe('bounded decompression', () => {
  it('a gzip bomb (200 MiB of zeros) stops at the bound', () => {
    const bomb = gzipSync(Buffer.alloc(200 * MIB), { level: 9 });
    const start = performance.now();
    expectSpoolError(() => decompressRecords(1, bomb, MIB), 'INVALID_RECORD');
    expect(performance.now() - start).toBeLessThan(100);
    expect(() => decompressRecords(1, bomb, MIB)).toThrow(`more than ${MIB} bytes`);
  });

  it('exactly the bound inflates; one byte over does not', () => {
    const data = gzipSync(Buffer.alloc(1000, 7));
    expect(decompressRecords(1, data, 1000).length).toBe(1000);
    expectSpoolError(() => decompressRecords(1, data, 999), 'INVALID_RECORD');
  });

  it('bytes that are not gzip: CORRUPT_MESSAGE', () => {
    expectSpoolError(() => decompressRecords(1, Buffer.from('not gzip at all'), MIB), 'CORRUPT_MESSAGE');
  });

  it('decodeBatch applies maxUncompressedBytes', () => {
    const batch = encodeBatch([{ value: Buffer.alloc(10_000) }], { compression: 'gzip' });
    expect(decodeBatch(batch, 0, { maxUncompressedBytes: 20_000 }).records).toHaveLength(1);
    expectSpoolError(() => decodeBatch(batch, 0, { maxUncompressedBytes: 5_000 }), 'INVALID_RECORD');
  });
});
