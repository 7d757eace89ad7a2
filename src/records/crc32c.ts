// CRC-32C (Castagnoli), the checksum of RecordBatch v2. It covers attributes .. end of the
// records (see layout.ts).
//
// The table and the short-input path are the crc-32 package's (its crc32c module, reflected
// polynomial 0x82F63B78, slice-by-16 in JS). Inputs of WASM_MIN_BYTES or more run the same
// algorithm in a small WebAssembly module (crc32c-wasm.ts), about 1.25x faster here.
// test/records/crc32c.test.ts checks both paths against the package on random data at
// every alignment and across the 64 KiB window of the wasm path.

import CRC32C from 'crc-32/crc32c.js';
import { createWasmCrc32c } from './crc32c-wasm.js';

const packageCrc = CRC32C.buf;
const table = (CRC32C as unknown as { table: Int32Array }).table;
const wasmCrc = createWasmCrc32c(table);

/** Below this, the package's loop beats the call and the copy into wasm memory. */
const WASM_MIN_BYTES = 512;

/** CRC-32C of buf[start, end) as an unsigned 32-bit integer. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (wasmCrc !== undefined && end - start >= WASM_MIN_BYTES) return wasmCrc(buf, start, end);
  return packageCrc(start === 0 && end === buf.length ? buf : buf.subarray(start, end), 0) >>> 0;
}
