// Zigzag varints (int32) and varlongs (int64 as a JS number), as Kafka's Record uses them.
//
// varint  => zigzag(value) as unsigned LEB128, 1-5 bytes   (zigzag(v) = (v << 1) ^ (v >> 31))
// varlong => zigzag(value) as unsigned LEB128, 1-10 bytes  (zigzag(v) = v >= 0 ? 2v : -2v - 1)
//
// Writers write straight into the caller's buffer at `at` and return the position after
// the value (the caller has ensured the space: MAX_VARINT_BYTES / MAX_VARLONG_BYTES).
// Readers bounds-check against `end` and throw CORRUPT_MESSAGE on a truncated or overlong
// value; they return the value and leave the position after it in `cursor.at`.
// Varlongs are exact for |value| <= 2^53 - 1; beyond 32 bits they use arithmetic, not bit
// operators, so no BigInt is needed.

import { corrupt } from './errors.js';

export const MAX_VARINT_BYTES = 5;
export const MAX_VARLONG_BYTES = 10;

const TWO_POW_31 = 0x8000_0000;

/** A read position shared by the readers, so a read returns the value without allocating. */
export interface Cursor {
  at: number;
}

export function zigzagEncode32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

export function zigzagDecode32(encoded: number): number {
  return (encoded >>> 1) ^ -(encoded & 1);
}

/** Bytes that writeVarint(value) takes. */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsigned(zigzagEncode32(value));
}

/** Bytes that writeVarlong(value) takes. */
export function sizeOfVarlong(value: number): number {
  if (value >= -TWO_POW_31 && value < TWO_POW_31) return sizeOfUnsigned(zigzagEncode32(value));
  let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (unsigned >= 0x80) {
    unsigned = Math.floor(unsigned / 0x80);
    bytes += 1;
  }
  return bytes;
}

function sizeOfUnsigned(unsigned: number): number {
  if (unsigned < 0x80) return 1;
  if (unsigned < 0x4000) return 2;
  if (unsigned < 0x20_0000) return 3;
  if (unsigned < 0x1000_0000) return 4;
  return 5;
}

export function writeVarint(buf: Buffer, at: number, value: number): number {
  let unsigned = ((value << 1) ^ (value >> 31)) >>> 0;
  while (unsigned >= 0x80) {
    buf[at++] = (unsigned & 0x7f) | 0x80;
    unsigned >>>= 7;
  }
  buf[at++] = unsigned;
  return at;
}

export function writeVarlong(buf: Buffer, at: number, value: number): number {
  if (value >= -TWO_POW_31 && value < TWO_POW_31) return writeVarint(buf, at, value);
  let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
  while (unsigned >= 0x80) {
    buf[at++] = (unsigned % 0x80) | 0x80;
    unsigned = Math.floor(unsigned / 0x80);
  }
  buf[at++] = unsigned;
  return at;
}

/** Reads a zigzag varint at cursor.at (before `end`); advances the cursor. */
export function readVarint(buf: Buffer, cursor: Cursor, end: number): number {
  // One-byte values (-64..63) are most fields of most records: keep this path small
  // enough for the JIT to inline into the decoder.
  const at = cursor.at;
  if (at < end) {
    const first = buf[at]!;
    if (first < 0x80) {
      cursor.at = at + 1;
      return (first >>> 1) ^ -(first & 1);
    }
  }
  return readVarintLong(buf, cursor, end);
}

function readVarintLong(buf: Buffer, cursor: Cursor, end: number): number {
  let at = cursor.at;
  let unsigned = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= end) throw corrupt(`varint runs past the end of its batch at position ${at}`);
    const byte = buf[at++]!;
    unsigned |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      if (shift === 28 && byte > 0x0f) throw corrupt(`varint overflows 32 bits at position ${at - 1}`);
      cursor.at = at;
      return (unsigned >>> 1) ^ -(unsigned & 1);
    }
  }
  throw corrupt(`varint longer than ${MAX_VARINT_BYTES} bytes at position ${cursor.at}`);
}

/** Reads a zigzag varlong at cursor.at (before `end`); advances the cursor. */
export function readVarlong(buf: Buffer, cursor: Cursor, end: number): number {
  const at = cursor.at;
  if (at < end) {
    const first = buf[at]!;
    if (first < 0x80) {
      cursor.at = at + 1;
      return (first >>> 1) ^ -(first & 1);
    }
  }
  return readVarlongLong(buf, cursor, end);
}

function readVarlongLong(buf: Buffer, cursor: Cursor, end: number): number {
  let at = cursor.at;
  // Fast path: values whose zigzag form fits in 28 bits (4 bytes) use bit operators.
  let unsigned = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (at >= end) throw corrupt(`varlong runs past the end of its batch at position ${at}`);
    const byte = buf[at++]!;
    unsigned |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor.at = at;
      return (unsigned >>> 1) ^ -(unsigned & 1);
    }
  }
  // Slow path: continue with arithmetic, exact up to 2^53.
  let multiplier = 0x1000_0000;
  let value = unsigned >>> 0;
  for (let index = 4; index < MAX_VARLONG_BYTES; index++) {
    if (at >= end) throw corrupt(`varlong runs past the end of its batch at position ${at}`);
    const byte = buf[at++]!;
    value += (byte & 0x7f) * multiplier;
    multiplier *= 0x80;
    if (byte < 0x80) {
      cursor.at = at;
      // value is even for non-negative numbers: zigzag(v) = 2v; odd: -(value + 1) / 2.
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
  }
  throw corrupt(`varlong longer than ${MAX_VARLONG_BYTES} bytes at position ${cursor.at}`);
}
