// snappy (codec 2), decoded in both framings Kafka clients write, encoded raw.
//
// raw block (librdkafka, kafkajs codecs, spool):
//   uncompressedLength: uvarint (LEB128, 1-5 bytes) | snappy elements...
// xerial framing (the Java client, via snappy-java's SnappyOutputStream):
//   magic: 82 53 4e 41 50 50 59 00   (0x82 "SNAPPY" 0x00)
//   version: int32 BE (1)  compatibleVersion: int32 BE (1)
//   [ blockLength: int32 BE | raw block of blockLength bytes ]...
//
// Bound: every raw block states its uncompressed length up front, so the sum is checked
// against the bound before anything is decompressed. The napi-rs `snappy` package (Rust
// snap crate, prebuilt binaries as npm optional dependencies; loaded on first use by
// native.ts) does the block work.

import { malformed, tooLarge } from './bounds.js';
import { snappyPackage } from './native.js';

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** magic + version + compatibleVersion */
export const XERIAL_HEADER_BYTES = 16;

export function snappyDecompress(input: Buffer, maxOutputBytes: number): Buffer {
  if (input.length >= XERIAL_HEADER_BYTES && input.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return xerialDecompress(input, maxOutputBytes);
  }
  const length = rawLength(input, 0, input.length);
  if (length > maxOutputBytes) throw tooLarge('snappy', input.length, maxOutputBytes);
  return rawBlock(input);
}

function xerialDecompress(input: Buffer, maxOutputBytes: number): Buffer {
  const blocks: Array<[number, number]> = [];
  let total = 0;
  for (let at = XERIAL_HEADER_BYTES; at < input.length; ) {
    if (at + 4 > input.length) throw malformed('snappy', `xerial block length cut off at byte ${at}`);
    const blockBytes = input.readInt32BE(at);
    const start = at + 4;
    if (blockBytes <= 0 || start + blockBytes > input.length) throw malformed('snappy', `xerial block of ${blockBytes} bytes at byte ${at} does not fit`);
    total += rawLength(input, start, start + blockBytes);
    if (total > maxOutputBytes) throw tooLarge('snappy', input.length, maxOutputBytes);
    blocks.push([start, start + blockBytes]);
    at = start + blockBytes;
  }
  const parts = blocks.map(([start, end]) => rawBlock(input.subarray(start, end)));
  const output = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  return output;
}

/** The uncompressed length a raw block states (its leading uvarint). */
function rawLength(input: Buffer, start: number, end: number): number {
  let value = 0;
  for (let index = 0, at = start; index < 5; index++, at++) {
    if (at >= end) throw malformed('snappy', 'length preamble cut off');
    const byte = input[at]!;
    value += (byte & 0x7f) * 2 ** (7 * index);
    if (byte < 0x80) return value;
  }
  throw malformed('snappy', 'length preamble longer than 5 bytes');
}

function rawBlock(block: Buffer): Buffer {
  const snappy = snappyPackage();
  try {
    return snappy.uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (error) {
    throw malformed('snappy', (error as Error).message);
  }
}

/** One raw snappy block (what librdkafka writes; Java's reader accepts it as well). */
export function snappyCompress(input: Buffer): Buffer {
  return snappyPackage().compressSync(input);
}
