// CRC-32C (Castagnoli), the checksum of RecordBatch v2. It covers attributes .. end of the
// records (see layout.ts).
//
// The table is the crc-32 package's (its crc32c module, reflected polynomial 0x82F63B78).
// Long inputs run a slice-by-16 loop that reads four little-endian 32-bit words per step
// through an Int32Array view instead of sixteen single bytes; on this machine that is about
// 1.3x the package's own byte-wise slice-by-16 (bench/micro/records.ts). Short inputs, and
// big-endian hosts, use the package's function as it is. test/records/crc32c.test.ts checks
// both paths against the package on random data and at every alignment.

import { endianness } from 'node:os';
import CRC32C from 'crc-32/crc32c.js';

const packageCrc = CRC32C.buf;
const T0 = (CRC32C as unknown as { table: Int32Array }).table;

/** Below this many bytes the package's loop is as fast and needs no typed-array view. */
const WORD_PATH_MIN_BYTES = 256;
const LITTLE_ENDIAN = endianness() === 'LE';

/** Sixteen 256-entry tables: T[k][n] is the CRC of byte n followed by k zero bytes. */
function sliceTables(): Int32Array[] {
  const flat = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let crc = T0[n]!;
    flat[n] = crc;
    for (let k = 1; k < 16; k++) {
      crc = (crc >>> 8) ^ T0[crc & 0xff]!;
      flat[k * 256 + n] = crc;
    }
  }
  const tables: Int32Array[] = [];
  for (let k = 0; k < 16; k++) tables.push(flat.subarray(k * 256, (k + 1) * 256));
  return tables;
}

const [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15] = sliceTables() as [
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
];

/** CRC-32C of buf[start, end) as an unsigned 32-bit integer. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end - start < WORD_PATH_MIN_BYTES || !LITTLE_ENDIAN) {
    return packageCrc(start === 0 && end === buf.length ? buf : buf.subarray(start, end), 0) >>> 0;
  }
  return crcWords(buf, start, end);
}

function crcWords(buf: Uint8Array, start: number, end: number): number {
  let crc = -1;
  let at = start;
  // Bytes until the absolute address is 4-aligned, so the Int32Array view is legal.
  const headEnd = at + ((4 - ((buf.byteOffset + at) & 3)) & 3);
  for (; at < headEnd; at++) crc = (crc >>> 8) ^ t0[(crc ^ buf[at]!) & 0xff]!;
  const wordCount = ((end - at) >>> 4) << 2;
  const words = new Int32Array(buf.buffer, buf.byteOffset + at, wordCount);
  for (let index = 0; index < wordCount; index += 4) {
    const a = crc ^ words[index]!;
    const b = words[index + 1]!;
    const c = words[index + 2]!;
    const d = words[index + 3]!;
    crc =
      t15[a & 0xff]! ^ t14[(a >>> 8) & 0xff]! ^ t13[(a >>> 16) & 0xff]! ^ t12[a >>> 24]! ^
      t11[b & 0xff]! ^ t10[(b >>> 8) & 0xff]! ^ t9[(b >>> 16) & 0xff]! ^ t8[b >>> 24]! ^
      t7[c & 0xff]! ^ t6[(c >>> 8) & 0xff]! ^ t5[(c >>> 16) & 0xff]! ^ t4[c >>> 24]! ^
      t3[d & 0xff]! ^ t2[(d >>> 8) & 0xff]! ^ t1[(d >>> 16) & 0xff]! ^ t0[d >>> 24]!;
  }
  at += wordCount * 4;
  for (; at < end; at++) crc = (crc >>> 8) ^ t0[(crc ^ buf[at]!) & 0xff]!;
  return ~crc >>> 0;
}
