// int64 fields as JS numbers, read and written as two 32-bit halves (no BigInt on the hot
// path). Exact for |value| <= 2^53 - 1, which covers offsets and ms timestamps; -1 round trips.

const TWO_POW_32 = 0x1_0000_0000;

/** Reads a big-endian int64 at `at`. The caller has checked that 8 bytes are present. */
export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

/** Writes `value` as a big-endian int64 at `at`. The caller has checked the space. */
export function writeInt64(buf: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  const low = value - high * TWO_POW_32;
  buf.writeInt32BE(high | 0, at);
  buf.writeUInt32BE(low >>> 0, at + 4);
}
