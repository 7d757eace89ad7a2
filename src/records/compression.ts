// Compression of the records section (everything after recordCount) as one block, the way
// Kafka does it: attributes bits 0-2 name the codec, and recordCount stays in the clear.
// spool reads and writes none and gzip (node:zlib); snappy, lz4 and zstd are recognised
// and refused with UNSUPPORTED_COMPRESSION, as are the undefined codes 5-7.

import { gunzipSync } from 'node:zlib';
import { Compression } from './layout.js';
import { corrupt, unsupportedCompression } from './errors.js';

/**
 * The bound on a decompressed records section when the caller names none (the SDK's
 * consumer): 256 MiB. The broker passes max.message.bytes instead.
 */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * Returns the uncompressed records section of a batch, given its (possibly compressed)
 * bytes. `maxOutputBytes` bounds the inflated size, so a small bomb cannot exhaust memory.
 */
export function decompressRecords(codec: number, records: Buffer, maxOutputBytes: number): Buffer {
  if (codec === Compression.none) return records;
  if (codec !== Compression.gzip) throw unsupportedCompression(codec);
  try {
    return gunzipSync(records, { maxOutputLength: maxOutputBytes });
  } catch (error) {
    throw corrupt(`gzip records section does not inflate: ${(error as Error).message}`);
  }
}
