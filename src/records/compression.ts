// Compression of the records section (everything after recordCount) as one block, the way
// Kafka does it: attributes bits 0-2 name the codec, and recordCount stays in the clear.
//
// codec | reads                              | writes
// 0 none| -                                  | -
// 1 gzip| node:zlib gunzipSync               | gzipSync
// 2 snappy | raw block or xerial framing (codecs/snappy.ts, napi-rs `snappy`) | raw block
// 3 lz4 | LZ4 frame (codecs/lz4.ts, plain TS) | LZ4 frame (lz4-napi)
// 4 zstd| zstd frame (codecs/zstd.ts, fzstd) | not offered (UNSUPPORTED_COMPRESSION)
// 5-7 are not defined by Kafka: UNSUPPORTED_COMPRESSION (validateBatch says CORRUPT_MESSAGE
// first, from the header).
//
// Every decompression is bounded: output past `maxOutputBytes` aborts at once, so a bomb
// (a 204 KB gzip of 200 MiB) costs at most the bound in memory and time. zlib's
// maxOutputLength stops at the first chunk past it; snappy checks the lengths its blocks
// declare before decompressing; lz4 and zstd walk their frames' headers first and count
// output as they go. The broker's bound is the topic's max.message.bytes; the SDK's is
// DEFAULT_MAX_UNCOMPRESSED_BYTES.

import { gunzipSync, gzipSync } from 'node:zlib';
import { malformed, tooLarge } from './codecs/bounds.js';
import { lz4Compress, lz4Decompress } from './codecs/lz4.js';
import { snappyCompress, snappyDecompress } from './codecs/snappy.js';
import { zstdDecompress } from './codecs/zstd.js';
import { unsupportedCompression } from './errors.js';
import { Compression } from './layout.js';

/**
 * The bound on a decompressed records section when the caller names none (the SDK's
 * consumer): 256 MiB. The broker passes max.message.bytes instead.
 */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;

/**
 * Returns the uncompressed records section of a batch, given its (possibly compressed)
 * bytes. Output larger than `maxOutputBytes` is refused with INVALID_RECORD naming the
 * bound, without decompressing further; bytes that do not decompress give CORRUPT_MESSAGE.
 */
export function decompressRecords(codec: number, records: Buffer, maxOutputBytes: number): Buffer {
  const bound = Math.max(maxOutputBytes, 1);
  switch (codec) {
    case Compression.none:
      return records;
    case Compression.gzip:
      return gunzip(records, bound);
    case Compression.snappy:
      return snappyDecompress(records, bound);
    case Compression.lz4:
      return lz4Decompress(records, bound);
    case Compression.zstd:
      return zstdDecompress(records, bound);
    default:
      throw unsupportedCompression(codec);
  }
}

function gunzip(records: Buffer, maxOutputBytes: number): Buffer {
  try {
    return gunzipSync(records, { maxOutputLength: maxOutputBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', records.length, maxOutputBytes);
    throw malformed('gzip', (error as Error).message);
  }
}

/** Compresses a records section with `codec` (the builder's side); zstd is not offered. */
export function compressRecords(codec: number, records: Buffer): Buffer {
  switch (codec) {
    case Compression.gzip:
      return gzipSync(records);
    case Compression.snappy:
      return snappyCompress(records);
    case Compression.lz4:
      return lz4Compress(records);
    default:
      throw unsupportedCompression(codec);
  }
}
