// zstd (codec 4): the standard zstd frame (RFC 8878), decoded with fzstd (pure JS, no
// native code). Encoding is not offered: of the zstd compressors on npm checked, zstd-napi
// and @mongodb-js/zstd 7 download their binaries (prebuild-install), @mongodb-js/zstd 1.x
// is async only (the builder is synchronous), and the rest are little used.
//
// Frame => magic: 28 b5 2f fd | frameHeaderDescriptor: u8 | [windowDescriptor: u8]
//          [dictionaryId: 0/1/2/4 bytes] [frameContentSize: 0/1/2/4/8 bytes]
//          Block... (blockHeader: u24 LE = last:1 | type:2 | size:21) [checksum: u32]
// Skippable frames (magic 0x184D2A5?) are allowed and skipped by fzstd.
//
// Bound: every frame's header and block headers are walked before decoding (no output):
// a window (the buffer fzstd allocates for back-references) larger than max(bound, 8 MiB)
// is refused, and so is a declared content size past the bound; then output is counted
// block by block (<= 128 KiB each) and decoding stops at the first block past the bound.

import { Decompress } from 'fzstd';
import { SpoolError } from '../../util/errors.js';
import { malformed, tooLarge } from './bounds.js';

export const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** The window every decoder must support (RFC 8878 recommends at least 8 MiB). */
const MIN_WINDOW_LIMIT_BYTES = 8 * 1024 * 1024;

export function zstdDecompress(input: Buffer, maxOutputBytes: number): Buffer {
  checkFrames(input, maxOutputBytes);
  const parts: Uint8Array[] = [];
  let total = 0;
  const stream = new Decompress((chunk) => {
    total += chunk.length;
    if (total > maxOutputBytes) throw tooLarge('zstd', input.length, maxOutputBytes);
    parts.push(chunk);
  });
  try {
    stream.push(input, true);
  } catch (error) {
    if (error instanceof SpoolError) throw error;
    throw malformed('zstd', (error as Error).message);
  }
  const output = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    output.set(part, at);
    at += part.length;
  }
  return output;
}

/** Walks every frame's header and block headers (no decoding) and checks each against the bound. */
function checkFrames(input: Buffer, maxOutputBytes: number): void {
  let at = 0;
  while (at < input.length) {
    if (at + 8 <= input.length && (input.readUInt32LE(at) & 0xfffffff0) === SKIPPABLE_MAGIC) {
      at += 8 + input.readUInt32LE(at + 4);
      continue;
    }
    at = checkFrame(input, at, maxOutputBytes);
  }
}

/** Checks the frame at `at`; returns where the next one starts. */
function checkFrame(input: Buffer, start: number, maxOutputBytes: number): number {
  if (start + 6 > input.length || input.readUInt32LE(start) !== ZSTD_MAGIC) throw malformed('zstd', `no frame magic at byte ${start}`);
  const descriptor = input[start + 4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const contentSizeFlag = descriptor >> 6;
  const hasChecksum = (descriptor >> 2) & 1;
  if ((descriptor & 3) !== 0) throw malformed('zstd', 'frames with a dictionary are not supported');
  const contentSizeBytes = contentSizeFlag === 0 ? singleSegment : 1 << contentSizeFlag;
  const contentSizeAt = start + 5 + (singleSegment ? 0 : 1);
  if (contentSizeAt + contentSizeBytes > input.length) throw malformed('zstd', 'frame header cut off');
  if (contentSizeBytes > 0) {
    let contentSize = contentSizeBytes === 2 ? 256 : 0;
    for (let index = 0; index < contentSizeBytes; index++) contentSize += input[contentSizeAt + index]! * 2 ** (8 * index);
    if (contentSize > maxOutputBytes) throw tooLarge('zstd', input.length, maxOutputBytes);
  }
  if (!singleSegment) {
    const windowDescriptor = input[start + 5]!;
    const windowBase = 2 ** (10 + (windowDescriptor >> 3));
    const windowBytes = windowBase + (windowBase / 8) * (windowDescriptor & 7);
    if (windowBytes > Math.max(maxOutputBytes, MIN_WINDOW_LIMIT_BYTES)) throw tooLarge('zstd', input.length, maxOutputBytes);
  }
  let at = contentSizeAt + contentSizeBytes;
  for (;;) {
    if (at + 3 > input.length) throw malformed('zstd', `block header cut off at byte ${at}`);
    const blockHeader = input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16);
    const last = blockHeader & 1;
    const type = (blockHeader >> 1) & 3;
    const size = blockHeader >>> 3;
    if (type === 3) throw malformed('zstd', `reserved block type at byte ${at}`);
    at += 3 + (type === 1 ? 1 : size);
    if (at > input.length) throw malformed('zstd', 'block cut off');
    if (last) break;
  }
  return at + hasChecksum * 4;
}
