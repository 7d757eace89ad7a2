// Proves crc32c is CRC-32C (Castagnoli): the standard check value and RFC 3720 vectors,
// unsigned results, and agreement with the crc-32 package on random data for every
// alignment, range and length (both the short package path and the long wasm path,
// including inputs that span several 64 KiB windows).

import CRC32C from 'crc-32/crc32c.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/records/index.js';

describe('crc32c', () => {
  it('gives the standard check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    const ascending = Buffer.from(Array.from({ length: 32 }, (_, index) => index));
    expect(crc32c(ascending)).toBe(0x46dd794e);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('covers exactly [start, end)', () => {
    const data = Buffer.from('xx123456789yy');
    expect(crc32c(data, 2, 11)).toBe(0xe3069283);
  });

  it('agrees with the crc-32 package at every alignment and length (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.nat(7),
        fc.nat(7),
        (bytes, shift, trim) => {
          // Copy into a larger buffer at `shift` so the word path meets every alignment.
          const backing = Buffer.alloc(bytes.length + 16);
          backing.set(bytes, shift);
          const start = Math.min(shift, backing.length);
          const end = Math.max(start, shift + bytes.length - Math.min(trim, bytes.length));
          const expected = CRC32C.buf(backing.subarray(start, end), 0) >>> 0;
          expect(crc32c(backing, start, end)).toBe(expected);
          expect(crc32c(backing.subarray(start, end))).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('agrees with the crc-32 package across the 64 KiB window of the wasm path', () => {
    const data = Buffer.alloc(200_003);
    for (let index = 0; index < data.length; index++) data[index] = (index * 2654435761) >>> 24;
    for (const [start, end] of [[0, data.length], [1, 65_536 + 1], [3, 65_536 * 2 + 5], [7, 511 + 7], [7, 512 + 7]] as const) {
      expect(crc32c(data, start, end)).toBe(CRC32C.buf(data.subarray(start, end), 0) >>> 0);
    }
  });

  it('is unsigned', () => {
    const value = crc32c(Buffer.from('hello, world'));
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(0xffff_ffff);
  });
});
