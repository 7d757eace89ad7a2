// Compression of the records section (everything after recordCount) as one block, the way
// Kafka does it: attributes bits 0-2 name the codec, and recordCount stays in the clear.
// spool reads and writes none and gzip (node:zlib); snappy, lz4 and zstd are recognised
// and refused with UNSUPPORTED_COMPRESSION, as are the undefined codes 5-7.
//
// Every decompression is bounded: output past `maxOutputBytes` aborts at once (zlib's
// maxOutputLength stops inflating at the first chunk past it), so a bomb (a 204 KB gzip
// of 200 MiB) costs at most the bound in memory and time. The broker's bound is the
// topic's max.message.bytes; the SDK's is DEFAULT_MAX_UNCOMPRESSED_BYTES.

import { gunzipSync } from 'node:zlib';
import { Compression } from './layout.js';
import type { SpoolError } from '../util/errors.js';
import { corrupt, invalidRecord, unsupportedCompression } from './errors.js';

/**
 * The bound on a decompressed records section when the caller names none (the SDK's
 * consumer): 256 MiB. The broker passes max.message.bytes instead.
 */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * Returns the uncompressed records section of a batch, given its (possibly compressed)
 * bytes. Output larger than `maxOutputBytes` is refused with INVALID_RECORD naming the
 * bound, without inflating further; bytes that do not decompress give CORRUPT_MESSAGE.
 */
export function decompressRecords(codec: number, records: Buffer, maxOutputBytes: number): Buffer {
  if (codec === Compression.none) return records;
  if (codec !== Compression.gzip) throw unsupportedCompression(codec);
  try {
    return gunzipSync(records, { maxOutputLength: Math.max(maxOutputBytes, 1) });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', records.length, maxOutputBytes);
    throw corrupt(`gzip records section does not inflate: ${(error as Error).message}`);
  }
}

export function tooLarge(codec: string, compressedBytes: number, maxOutputBytes: number): SpoolError {
  return invalidRecord(
    `${codec} records section of ${compressedBytes} bytes decompresses to more than ${maxOutputBytes} bytes, the bound on a decompressed batch (max.message.bytes on the broker)`,
  );
}
