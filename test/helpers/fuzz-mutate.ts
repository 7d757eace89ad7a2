// The fuzz test's mutators. Each takes a valid request (a RequestSeed or its frame bytes)
// and returns bytes to write to a broker:
//   - structure-aware: a header field replaced by an interesting value of another type or
//     size (negative, NaN, 2^53, huge strings and arrays, deep nesting, binary), a field
//     dropped or added; re-encoded so the frame is well formed and reaches the checks;
//   - msgpack-aware: the msgpack bytes mutated (type bytes, lying lengths, deep nesting)
//     with headerLength and size recomputed, so the bytes reach the msgpack decoder;
//   - record-batch-aware: a batch field or record byte mutated and the CRC recomputed, so
//     the batch passes the CRC check and reaches the deeper validation;
//   - byte-level: bit flips, interesting bytes / uint16 / uint32 (sizes, lengths),
//     truncation, garbage appended, a lying size prefix, a changed api key or version.
// fuzz-stream.ts combines them (several frames per write, split writes).

import { Packr } from 'msgpackr';
import { BatchLayout, crc32c } from '../../src/records/index.js';
import { cloneValue, encodeSeed, type Prng, type RequestSeed } from './fuzz-corpus.js';

const packr = new Packr({ useRecords: false, int64AsType: 'number' });

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x10, 0xc0, 0xc1, 0xdc, 0xdd, 0xde, 0xdf, 0xd9, 0xdb, 0xcb, 0x91, 0x81];
const INTERESTING_UINT32 = [0, 1, 7, 8, 11, 12, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x100000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function interestingValue(prng: Prng, original: unknown): unknown {
  switch (prng.int(12)) {
    case 0:
      return prng.pick([0, -1, 1, -2, 127, 128, 255, 256, 32767, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 2 ** 63]);
    case 1:
      return prng.pick([NaN, Infinity, -Infinity, 0.5, -0.5, -0, Number.MAX_VALUE, Number.MIN_VALUE, 1e300]);
    case 2:
      return prng.pick(['', 'x', '__consumer_offsets', '..', '.', '../../../../tmp/x', 'a/b', 'a\u0000b', 'CON', '\u{1F600}', 'A'.repeat(250), 'é'.repeat(300)]);
    case 3:
      return 'x'.repeat(prng.pick([255, 256, 65535, 65536, 200_000]));
    case 4:
      return prng.pick([null, true, false, undefined]);
    case 5:
      return prng.pick([[], {}, [[]], { '': 1 }, JSON.parse('{"__proto__":{"polluted":1}}') as unknown, [null], [-1]]);
    case 6:
      return Buffer.alloc(prng.pick([0, 1, 300, 70_000]), 0x41);
    case 7: {
      // A long array: of the original element when it was an array, else of numbers.
      const element = Array.isArray(original) && original.length > 0 ? original[0] : prng.int(5);
      // Bounded by the element's size: an earlier mutation may have made it a long array itself.
      const length = Math.min(prng.pick([100, 1000, 10_000]), Math.floor(MAX_MUTATED_HEADER_BYTES / Math.max(1, encodedBytes(element))));
      return Array.from({ length }, () => element);
    }
    case 8: {
      // Deep nesting.
      let nested: unknown = original;
      for (let i = 0, depth = prng.pick([10, 100, 1000]); i < depth; i++) nested = prng.chance(0.5) ? [nested] : { a: nested };
      return nested;
    }
    case 9:
      return typeof original === 'number' ? String(original) : typeof original === 'string' ? original.length : [original];
    case 10:
      return typeof original === 'number' ? original + prng.pick([-1, 1, -1000, 1_000_000]) : original;
    default:
      return typeof original === 'string' && original.length > 0 ? original.slice(0, prng.int(original.length)) + String.fromCharCode(prng.int(256)) : 0;
  }
}

/** Every (parent, key) slot of a header tree, so any field at any depth can be changed. */
function slots(value: unknown, out: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = []): typeof out {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      out.push({ parent: value, key: index });
      slots(item, out);
    });
  } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, field] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key });
      slots(field, out);
    }
  }
  return out;
}

/** A mutated header is built up to about this size: past the broker's 1 MiB limit is only slower. */
const MAX_MUTATED_HEADER_BYTES = 1024 * 1024;

function encodedBytes(value: unknown): number {
  try {
    return packr.pack(value).length;
  } catch {
    return MAX_MUTATED_HEADER_BYTES;
  }
}

/** Structure-aware: change, drop, add or duplicate one field of the header. */
export function mutateHeader(prng: Prng, seed: RequestSeed): RequestSeed {
  const header = cloneValue(seed.header);
  const all = slots(header);
  const mutated: RequestSeed = { ...seed, header, batches: seed.batches };
  const roll = prng.int(10);
  if (all.length === 0 || roll === 0) {
    // defineProperty, so '__proto__' becomes an own key on the wire, not the prototype here.
    const key = prng.pick(['topics', 'partitions', 'names', 'groupIds', 'acks', 'extra', '__proto__', 'constructor']);
    Object.defineProperty(header, key, { value: interestingValue(prng, undefined), enumerable: true, writable: true, configurable: true });
    return mutated;
  }
  const slot = prng.pick(all);
  const parent = slot.parent as Record<string | number, unknown>;
  if (roll === 1) {
    if (Array.isArray(parent)) parent.splice(slot.key as number, 1);
    else delete parent[slot.key];
  } else if (roll === 2 && Array.isArray(parent)) {
    // Duplicate an element many times (e.g. 5000 partitions of one produce).
    // Bounded by the element's size, so building the input stays cheap.
    const element = parent[slot.key as number];
    const elementBytes = encodedBytes(element);
    const copies = Math.min(prng.pick([2, 100, 5000]), Math.floor(MAX_MUTATED_HEADER_BYTES / Math.max(1, elementBytes)));
    for (let i = 0; i < copies; i++) parent.push(cloneValue(element));
  } else {
    parent[slot.key] = interestingValue(prng, parent[slot.key]);
  }
  return mutated;
}

/** Re-frames a request with consistent headerLength and size around raw msgpack bytes. */
export function frameWithMsgpack(seed: RequestSeed, msgpack: Buffer): Buffer {
  const payload = Buffer.concat(seed.batches);
  const frame = Buffer.alloc(16 + msgpack.length + payload.length);
  frame.writeUInt32BE(frame.length - 4, 0);
  frame.writeUInt32BE(seed.correlationId >>> 0, 4);
  frame.writeUInt16BE(seed.apiKey & 0xffff, 8);
  frame.writeUInt16BE(seed.apiVersion & 0xffff, 10);
  frame.writeUInt32BE(msgpack.length, 12);
  msgpack.copy(frame, 16);
  payload.copy(frame, 16 + msgpack.length);
  return frame;
}

/** msgpack-aware: mutate the header's msgpack bytes, keep the framing consistent. */
export function mutateMsgpack(prng: Prng, seed: RequestSeed): Buffer {
  let bytes: Buffer = Buffer.from(packr.pack(seed.header));
  const at = prng.int(bytes.length);
  switch (prng.int(7)) {
    case 0:
      bytes[at] = prng.pick(INTERESTING_BYTES);
      break;
    case 1: {
      // A container or string type byte with a lying 32-bit length.
      const lie = Buffer.alloc(5);
      lie[0] = prng.pick([0xdd, 0xdf, 0xdb, 0xc6]);
      lie.writeUInt32BE(prng.pick(INTERESTING_UINT32), 1);
      bytes = Buffer.concat([bytes.subarray(0, at), lie, bytes.subarray(at + 1)]);
      break;
    }
    case 2:
      bytes = bytes.subarray(0, at);
      break;
    case 3:
      bytes = Buffer.concat([bytes, prng.bytes(prng.range(1, 8))]);
      break;
    case 4: {
      // Deeply nested arrays or maps: a stack-depth test for the decoder and the checks.
      const depth = prng.pick([100, 1000, 10_000, 100_000]);
      const opener = prng.chance(0.5) ? [0x91] : [0x81, 0xa1, 0x61];
      const nest = Buffer.alloc(depth * opener.length);
      for (let i = 0; i < depth; i++) nest.set(opener, i * opener.length);
      bytes = Buffer.concat([Buffer.from([0x81, 0xa6, ...Buffer.from('topics')]), nest, Buffer.from([0xc0])]);
      break;
    }
    case 5: {
      // A float64 NaN or -Infinity where an integer was.
      const float = Buffer.alloc(9);
      float[0] = 0xcb;
      float.writeDoubleBE(prng.pick([NaN, -Infinity, 1.5, -0]), 1);
      bytes = Buffer.concat([bytes.subarray(0, at), float, bytes.subarray(at + 1)]);
      break;
    }
    default:
      for (let i = 0, flips = prng.range(1, 4); i < flips; i++) {
        const position = prng.int(bytes.length);
        bytes[position] = bytes[position]! ^ (1 << prng.int(8));
      }
  }
  return frameWithMsgpack(seed, bytes);
}

/** Positions of each batch in `bytes` (by batchLength, stopping at the first nonsense). */
function batchStarts(bytes: Buffer): number[] {
  const starts: number[] = [];
  let position = 0;
  while (position + BatchLayout.RECORDS <= bytes.length) {
    starts.push(position);
    const length = bytes.readInt32BE(position + BatchLayout.BATCH_LENGTH);
    if (length <= 0) break;
    position += 12 + length;
  }
  return starts;
}

function recomputeCrc(batch: Buffer): void {
  if (batch.length < BatchLayout.RECORDS) return;
  batch.writeUInt32BE(crc32c(batch.subarray(BatchLayout.ATTRIBUTES)) >>> 0, BatchLayout.CRC);
}

/**
 * Record-batch-aware: mutate one batch (a header field, a record byte, a varint, the
 * compression bits) and recompute its CRC (mostly), so it gets past the CRC check.
 */
export function mutateBatches(prng: Prng, seed: RequestSeed): RequestSeed {
  if (seed.batches.length === 0) return seed;
  const index = prng.int(seed.batches.length);
  const bytes = Buffer.from(seed.batches[index]!);
  const starts = batchStarts(bytes);
  if (starts.length === 0) return seed;
  const start = prng.pick(starts);
  const length = bytes.readInt32BE(start + BatchLayout.BATCH_LENGTH);
  const end = Math.min(bytes.length, start + 12 + Math.max(0, length));
  const batch = bytes.subarray(start, end);
  const fields: Array<[number, number]> = [
    [BatchLayout.BATCH_LENGTH, 4], [BatchLayout.MAGIC, 1], [BatchLayout.ATTRIBUTES, 2], [BatchLayout.LAST_OFFSET_DELTA, 4],
    [BatchLayout.BASE_TIMESTAMP, 8], [BatchLayout.MAX_TIMESTAMP, 8], [BatchLayout.PRODUCER_ID, 8], [BatchLayout.PRODUCER_EPOCH, 2],
    [BatchLayout.BASE_SEQUENCE, 4], [BatchLayout.RECORD_COUNT, 4], [BatchLayout.BASE_OFFSET, 8], [BatchLayout.PARTITION_LEADER_EPOCH, 4],
  ];
  const roll = prng.int(5);
  if (roll <= 1 || batch.length <= BatchLayout.RECORDS) {
    const [offset, width] = prng.pick(fields);
    if (offset + width <= batch.length) {
      const value = prng.pick(INTERESTING_UINT32);
      if (width === 1) batch[offset] = value & 0xff;
      else if (width === 2) batch.writeUInt16BE(value & 0xffff, offset);
      else if (width === 4) batch.writeUInt32BE(value >>> 0, offset);
      else {
        batch.writeUInt32BE(prng.chance(0.5) ? 0xffffffff : prng.pick(INTERESTING_UINT32), offset);
        batch.writeUInt32BE(value >>> 0, offset + 4);
      }
    }
  } else if (roll === 2) {
    // A record byte, often a varint (lengths, counts, deltas) set to an extreme.
    const at = prng.range(BatchLayout.RECORDS, batch.length - 1);
    const varint = prng.pick([[0x01], [0x7f], [0xff, 0xff, 0xff, 0xff, 0x0f], [0xfe, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]]);
    for (let i = 0; i < varint.length && at + i < batch.length; i++) batch[at + i] = varint[i]!;
  } else if (roll === 3) {
    // Claim a compression codec the records are not in (or an unknown one).
    const attributes = batch.readUInt16BE(BatchLayout.ATTRIBUTES);
    batch.writeUInt16BE((attributes & ~0x7) | prng.range(0, 7) | (prng.chance(0.3) ? 0x30 : 0), BatchLayout.ATTRIBUTES);
  } else {
    const at = prng.range(BatchLayout.ATTRIBUTES, batch.length - 1);
    batch[at] = batch[at]! ^ (1 << prng.int(8));
  }
  if (prng.chance(0.9)) recomputeCrc(batch);
  const batches = seed.batches.slice();
  batches[index] = bytes;
  return { ...seed, batches };
}

/** Byte-level: mutate the encoded frame anywhere, including its fixed fields. */
export function mutateBytes(prng: Prng, frame: Buffer): Buffer {
  let bytes = Buffer.from(frame);
  switch (prng.int(9)) {
    case 0:
      for (let i = 0, flips = prng.range(1, 8); i < flips; i++) {
        const at = prng.int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 << prng.int(8));
      }
      break;
    case 1:
      bytes[prng.int(bytes.length)] = prng.pick(INTERESTING_BYTES);
      break;
    case 2: {
      const at = prng.int(Math.max(1, bytes.length - 3));
      if (at + 4 <= bytes.length) bytes.writeUInt32BE(prng.pick(INTERESTING_UINT32) >>> 0, at);
      break;
    }
    case 3:
      // Truncation (the size prefix still promises the whole frame).
      bytes = bytes.subarray(0, prng.int(bytes.length));
      break;
    case 4:
      bytes = Buffer.concat([bytes, prng.bytes(prng.range(1, 64))]);
      break;
    case 5: {
      // A lying size prefix: a little off, far off, too small for the fixed fields.
      const size = bytes.readUInt32BE(0);
      bytes.writeUInt32BE(prng.pick([0, 1, 4, 7, 8, 9, size - 1, size + 1, size - 10, size + 100, 0x7fffffff, 0xffffffff]) >>> 0, 0);
      break;
    }
    case 6:
      bytes.writeUInt16BE(prng.pick([15, 16, 99, 0x7fff, 0xffff, prng.int(15)]), 8);
      break;
    case 7:
      bytes.writeUInt16BE(prng.pick([1, 2, 0x7fff, 0xffff]), 10);
      break;
    default: {
      // A lying headerLength (the size prefix stays right).
      if (bytes.length >= 16) bytes.writeUInt32BE(prng.pick([0, 1, bytes.readUInt32BE(12) + 1, bytes.readUInt32BE(12) - 1, bytes.length, 0xffffffff]) >>> 0, 12);
    }
  }
  return bytes;
}

/** One mutated frame from a valid seed: one to three mutators, structural ones first. */
export function mutateSeed(prng: Prng, seed: RequestSeed): Buffer {
  let current = seed;
  let frame: Buffer | null = null;
  const roll = prng.int(10);
  if (roll <= 2) current = mutateHeader(prng, current);
  else if (roll <= 4 && current.batches.length > 0) current = mutateBatches(prng, current);
  else if (roll === 5) frame = mutateMsgpack(prng, current);
  if (prng.chance(0.3)) current = mutateHeader(prng, current);
  if (prng.chance(0.3)) current = mutateBatches(prng, current);
  try {
    frame ??= encodeSeed(current);
  } catch {
    // msgpackr refuses some values (e.g. too deep for its encoder): fall back to the seed;
    // the byte mutation below still applies.
    frame = encodeSeed(seed);
  }
  if (roll >= 6 || prng.chance(0.2)) frame = mutateBytes(prng, frame);
  return frame;
}
