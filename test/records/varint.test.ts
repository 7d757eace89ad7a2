// Proves the zigzag varint/varlong codec: known encodings at every byte-size boundary and
// at the int32 / 2^52 edges, size functions agreeing with writers, fast-check round trips,
// and CORRUPT_MESSAGE (never a RangeError) on truncated or overlong input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
  zigzagDecode32,
  zigzagEncode32,
} from '../../src/records/index.js';
import { expectSpoolError } from './helpers.js';

function encodeVarint(value: number): string {
  const buf = Buffer.alloc(16);
  return buf.subarray(0, writeVarint(buf, 0, value)).toString('hex');
}

function encodeVarlong(value: number): string {
  const buf = Buffer.alloc(16);
  return buf.subarray(0, writeVarlong(buf, 0, value)).toString('hex');
}

function decode(hex: string, read: typeof readVarint): { value: number; at: number } {
  const buf = Buffer.from(hex, 'hex');
  const cursor: Cursor = { at: 0 };
  const value = read(buf, cursor, buf.length);
  return { value, at: cursor.at };
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

describe('varint', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [-65, '8101'],
    [8191, 'fe7f'],
    [8192, '808001'],
    [300, 'd804'],
    [INT32_MAX, 'feffffff0f'],
    [INT32_MIN, 'ffffffff0f'],
  ])('encodes %d as %s and back', (value, hex) => {
    expect(encodeVarint(value)).toBe(hex);
    expect(sizeOfVarint(value)).toBe(hex.length / 2);
    expect(decode(hex, readVarint)).toEqual({ value, at: hex.length / 2 });
  });

  it('zigzag maps small magnitudes to small unsigned numbers', () => {
    expect([0, -1, 1, -2, 2].map(zigzagEncode32)).toEqual([0, 1, 2, 3, 4]);
    expect(zigzagEncode32(INT32_MIN)).toBe(0xffff_ffff);
    expect(zigzagDecode32(0xffff_ffff)).toBe(INT32_MIN);
  });

  it('round trips every int32 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), (value) => {
        const buf = Buffer.alloc(8);
        const end = writeVarint(buf, 3, value);
        expect(end - 3).toBe(sizeOfVarint(value));
        const cursor = { at: 3 };
        expect(readVarint(buf, cursor, end)).toBe(value);
        expect(cursor.at).toBe(end);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects truncated and overlong varints with CORRUPT_MESSAGE', () => {
    expectSpoolError(() => decode('', readVarint), 'CORRUPT_MESSAGE');
    expectSpoolError(() => decode('80', readVarint), 'CORRUPT_MESSAGE');
    expectSpoolError(() => decode('ffffffff', readVarint), 'CORRUPT_MESSAGE');
    expectSpoolError(() => decode('ffffffffff01', readVarint), 'CORRUPT_MESSAGE'); // 6 bytes
    expectSpoolError(() => decode('ffffffff1f', readVarint), 'CORRUPT_MESSAGE'); // > 32 bits
    // The end bound is respected even when the buffer goes on.
    const buf = Buffer.from('8001', 'hex');
    expectSpoolError(() => readVarint(buf, { at: 0 }, 1), 'CORRUPT_MESSAGE');
  });
});

describe('varlong', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [5, '0a'],
    [INT32_MAX, 'feffffff0f'],
    [INT32_MIN, 'ffffffff0f'],
    [2 ** 31, '8080808010'],
    [-(2 ** 31) - 1, '8180808010'],
    [2 ** 35, '808080808002'],
    [1700000000000, '80a0abfef962'],
    [-1700000000000, 'ff9fabfef962'],
    [2 ** 52, '8080808080808010'],
    [-(2 ** 52), 'ffffffffffffff0f'],
  ])('encodes %d as %s and back', (value, hex) => {
    expect(encodeVarlong(value)).toBe(hex);
    expect(sizeOfVarlong(value)).toBe(hex.length / 2);
    expect(decode(hex, readVarlong)).toEqual({ value, at: hex.length / 2 });
  });

  it('reads the 10-byte encodings of int64 extremes without throwing', () => {
    // zigzag(int64 max) = 2^64 - 2: beyond 2^53, so only approximately representable.
    expect(decode('feffffffffffffffff01', readVarlong).at).toBe(10);
    expect(decode('ffffffffffffffffff01', readVarlong).at).toBe(10);
  });

  it('round trips every integer with |value| <= 2^52 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }).chain((small) =>
        fc.oneof(fc.constant(small), fc.double({ min: -(2 ** 52), max: 2 ** 52, noNaN: true }).map((x) => Math.trunc(x) + 0)),
      ), (value) => {
        const buf = Buffer.alloc(12);
        const end = writeVarlong(buf, 1, value);
        expect(end - 1).toBe(sizeOfVarlong(value));
        const cursor = { at: 1 };
        expect(readVarlong(buf, cursor, end)).toBe(value);
        expect(cursor.at).toBe(end);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with a BigInt reference encoder (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 52n), max: 2n ** 52n }), (big) => {
        let unsigned = big >= 0n ? big * 2n : -big * 2n - 1n;
        const bytes: number[] = [];
        while (unsigned >= 0x80n) {
          bytes.push(Number(unsigned & 0x7fn) | 0x80);
          unsigned >>= 7n;
        }
        bytes.push(Number(unsigned));
        expect(encodeVarlong(Number(big))).toBe(Buffer.from(bytes).toString('hex'));
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects truncated and overlong varlongs with CORRUPT_MESSAGE', () => {
    expectSpoolError(() => decode('', readVarlong), 'CORRUPT_MESSAGE');
    expectSpoolError(() => decode('808080', readVarlong), 'CORRUPT_MESSAGE');
    expectSpoolError(() => decode('8080808080', readVarlong), 'CORRUPT_MESSAGE');
    expectSpoolError(() => decode('ffffffffffffffffffff01', readVarlong), 'CORRUPT_MESSAGE'); // 11 bytes
  });
});
