// lz4 (codec 3): the LZ4 *frame* format (what Kafka's clients write since magic 1; not the
// bare block format), decoded here in plain TypeScript so the bound is exact, and encoded
// with lz4-napi's compressFrameSync (Rust lz4_flex, prebuilt binaries as npm optional
// dependencies; loaded on first use by native.ts).
//
// Frame  => magic: 04 22 4d 18 (0x184D2204 LE) | FLG: u8 | BD: u8 | [contentSize: u64 LE]
//           [dictionaryId: u32 LE] | headerChecksum: u8 | Block... | endMark: 00 00 00 00
//           [contentChecksum: u32 LE]
//   FLG: bits 7-6 version (01), 5 block independence, 4 block checksum, 3 content size,
//        2 content checksum, 1 reserved (0), 0 dictionary id
//   BD:  bits 6-4 block max size (4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB)
// Block  => size: u32 LE (bit 31 set = stored uncompressed) | data | [checksum: u32 LE]
// Block data (compressed) => sequences: token: u8 (literal length << 4 | match length - 4),
//   [literal length extension: 255...], literals, matchOffset: u16 LE,
//   [match length extension: 255...]; the last sequence has literals only.
// Skippable frames (magic 0x184D2A5?) are skipped. The xxHash32 checksums are not verified:
// the batch's CRC-32C already covers these bytes.
//
// Bound: block headers are walked first to size the output (a compressed block yields at
// most its max block size, and at most 255x its bytes); the output buffer is
// min(that, bound) and a write past the bound stops decoding with INVALID_RECORD.

import { malformed, tooLarge } from './bounds.js';
import { lz4Package } from './native.js';

export const LZ4_FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC = 0x184d2a50;
const UNCOMPRESSED_BIT = 0x8000_0000;
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
/** The most bytes one compressed byte can expand to (a 255 length-extension byte). */
const MAX_EXPANSION = 255;
/** Below this, a byte loop beats Buffer.copy's call overhead (most LZ4 sequences are short). */
const SHORT_COPY_BYTES = 32;

interface FrameWalk {
  /** Upper bound on the decompressed size of every frame. */
  maxOutputBytes: number;
}

export function lz4Decompress(input: Buffer, maxOutputBytes: number): Buffer {
  const estimate = walkFrames(input).maxOutputBytes;
  const capacity = Math.min(estimate, maxOutputBytes);
  const output = Buffer.allocUnsafe(capacity);
  const decoder = { input, output, capacity, bounded: capacity === maxOutputBytes, maxOutputBytes, written: 0 };
  let at = 0;
  while (at < input.length) {
    const magic = input.readUInt32LE(at);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      at += 8 + input.readUInt32LE(at + 4);
      continue;
    }
    at = decodeFrame(decoder, at);
  }
  return output.subarray(0, decoder.written);
}

/** The frame structure, checked without decoding: where blocks are and how big they can get. */
function walkFrames(input: Buffer): FrameWalk {
  let total = 0;
  let at = 0;
  while (at < input.length) {
    if (at + 8 <= input.length && (input.readUInt32LE(at) & 0xfffffff0) === SKIPPABLE_MAGIC) {
      at += 8 + input.readUInt32LE(at + 4);
      if (at > input.length) throw malformed('lz4', 'skippable frame cut off');
      continue;
    }
    const header = readFrameHeader(input, at);
    at = header.blocksStart;
    for (;;) {
      if (at + 4 > input.length) throw malformed('lz4', `block size cut off at byte ${at}`);
      const word = input.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const size = (word & ~UNCOMPRESSED_BIT) >>> 0;
      if (size > header.blockMaxBytes) throw malformed('lz4', `block of ${size} bytes is larger than the frame's block size ${header.blockMaxBytes}`);
      at += size + header.blockChecksumBytes;
      if (at > input.length) throw malformed('lz4', 'block cut off');
      total += (word & UNCOMPRESSED_BIT) !== 0 ? size : Math.min(header.blockMaxBytes, size * MAX_EXPANSION);
    }
    at += header.contentChecksumBytes;
    if (at > input.length) throw malformed('lz4', 'content checksum cut off');
  }
  return { maxOutputBytes: total };
}

interface FrameHeader {
  blocksStart: number;
  blockMaxBytes: number;
  blockChecksumBytes: number;
  contentChecksumBytes: number;
}

function readFrameHeader(input: Buffer, at: number): FrameHeader {
  if (at + 7 > input.length || input.readUInt32LE(at) !== LZ4_FRAME_MAGIC) throw malformed('lz4', `no LZ4 frame magic at byte ${at}`);
  const flags = input[at + 4]!;
  const descriptor = input[at + 5]!;
  if (flags >> 6 !== 1) throw malformed('lz4', `frame version ${flags >> 6}, expected 1`);
  if ((flags & 0x01) !== 0) throw malformed('lz4', 'frames with a dictionary are not supported');
  const blockMaxBytes = BLOCK_MAX_BYTES[(descriptor >> 4) & 7]!;
  if (blockMaxBytes === 0) throw malformed('lz4', `block max size code ${(descriptor >> 4) & 7} is not defined`);
  const headerBytes = 7 + ((flags & 0x08) !== 0 ? 8 : 0);
  if (at + headerBytes > input.length) throw malformed('lz4', 'frame header cut off');
  return {
    blocksStart: at + headerBytes,
    blockMaxBytes,
    blockChecksumBytes: (flags & 0x10) !== 0 ? 4 : 0,
    contentChecksumBytes: (flags & 0x04) !== 0 ? 4 : 0,
  };
}

interface Decoder {
  input: Buffer;
  output: Buffer;
  capacity: number;
  /** True when capacity is the caller's bound (a write past it is "too large", not corrupt). */
  bounded: boolean;
  maxOutputBytes: number;
  written: number;
}

function decodeFrame(decoder: Decoder, at: number): number {
  const header = readFrameHeader(decoder.input, at);
  at = header.blocksStart;
  for (;;) {
    const word = decoder.input.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = (word & ~UNCOMPRESSED_BIT) >>> 0;
    if ((word & UNCOMPRESSED_BIT) !== 0) {
      ensureRoom(decoder, size);
      decoder.input.copy(decoder.output, decoder.written, at, at + size);
      decoder.written += size;
    } else {
      decodeBlock(decoder, at, at + size);
    }
    at += size + header.blockChecksumBytes;
  }
  return at + header.contentChecksumBytes;
}

function ensureRoom(decoder: Decoder, bytes: number): void {
  if (decoder.written + bytes <= decoder.capacity) return;
  if (decoder.bounded) throw tooLarge('lz4', decoder.input.length, decoder.maxOutputBytes);
  throw malformed('lz4', 'a block decompresses to more than its frame allows');
}

/** One LZ4 block, input[start, end), appended to the output. */
function decodeBlock(decoder: Decoder, start: number, end: number): void {
  const input = decoder.input;
  const output = decoder.output;
  let at = start;
  let written = decoder.written;
  while (at < end) {
    const token = input[at++]!;
    let literalBytes = token >>> 4;
    if (literalBytes === 15) {
      let byte: number;
      do {
        if (at >= end) throw malformed('lz4', 'literal length cut off');
        byte = input[at++]!;
        literalBytes += byte;
      } while (byte === 255);
    }
    if (at + literalBytes > end) throw malformed('lz4', 'literals run past the block');
    decoder.written = written;
    ensureRoom(decoder, literalBytes);
    if (literalBytes < SHORT_COPY_BYTES) {
      for (let index = 0; index < literalBytes; index++) output[written + index] = input[at + index]!;
    } else {
      input.copy(output, written, at, at + literalBytes);
    }
    written += literalBytes;
    at += literalBytes;
    if (at === end) break; // the last sequence: literals only
    if (at + 2 > end) throw malformed('lz4', 'match offset cut off');
    const matchOffset = input[at]! | (input[at + 1]! << 8);
    at += 2;
    if (matchOffset === 0 || matchOffset > written) throw malformed('lz4', `match offset ${matchOffset} points before the output`);
    let matchBytes = (token & 15) + 4;
    if ((token & 15) === 15) {
      let byte: number;
      do {
        if (at >= end) throw malformed('lz4', 'match length cut off');
        byte = input[at++]!;
        matchBytes += byte;
      } while (byte === 255);
    }
    decoder.written = written;
    ensureRoom(decoder, matchBytes);
    let from = written - matchOffset;
    if (matchOffset >= matchBytes && matchBytes >= SHORT_COPY_BYTES) {
      output.copy(output, written, from, from + matchBytes);
      written += matchBytes;
    } else {
      // Short, or overlapping (repeating the last matchOffset bytes): copy forward byte by byte.
      const stop = written + matchBytes;
      while (written < stop) output[written++] = output[from++]!;
    }
  }
  decoder.written = written;
}

/** One LZ4 frame (lz4_flex defaults: 64 KiB blocks, linked, no checksums), as Kafka reads it. */
export function lz4Compress(input: Buffer): Buffer {
  return lz4Package().compressFrameSync(input);
}
