// The fuzz test's seeded PRNG and its corpus of valid request frames: the golden request
// of every API (test/protocol/examples.ts, the source of test/fixtures/protocol/frames.json)
// aimed at the fuzz test's topics and groups, plus produce requests carrying real record
// batches (none and gzip, with keys, headers, null values, many records).

import { encodeBatch, type RecordInput } from '../../src/records/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { encodeRequestFrame } from '../../src/protocol/frame.js';
import { examples } from '../protocol/examples.js';

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uint32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() / 0x1_0000_0000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** One request before encoding: what the structure-aware mutators work on. */
export interface RequestSeed {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  header: Record<string, unknown>;
  /** Record batches (produce only); `header.partitions[i].size` describes them in order. */
  batches: Buffer[];
}

export interface FuzzNames {
  /** Topics the fuzzers may produce to, fetch from, describe: never deleted. */
  protectedTopics: string[];
  /** Topics the fuzzers may create and delete. */
  scratchTopics: string[];
  groups: string[];
  /** Only requests of these api keys (all when absent): to narrow a failure down. */
  apiKeys?: number[];
}

export function encodeSeed(seed: RequestSeed): Buffer {
  return Buffer.concat(encodeRequestFrame(seed.correlationId, seed.apiKey, seed.apiVersion, seed.header, seed.batches));
}

/** Deep copy of a msgpack-able value (Buffers kept as Buffers). */
export function cloneValue<T>(value: T): T {
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T;
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) Object.defineProperty(out, key, { value: cloneValue(field), enumerable: true, writable: true, configurable: true });
    return out as T;
  }
  return value;
}

function recordsFor(prng: Prng, count: number): RecordInput[] {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      key: prng.chance(0.5) ? null : `k${prng.int(50)}`,
      value: prng.chance(0.1) ? null : prng.bytes(prng.range(0, prng.chance(0.1) ? 4000 : 40)),
      ...(prng.chance(0.3) ? { headers: { h: 'x', [`n${prng.int(5)}`]: prng.bytes(3) } } : {}),
      timestamp: prng.chance(0.9) ? Date.now() + prng.range(-5000, 5000) : prng.range(0, 2 ** 31),
    });
  }
  return records;
}

/** One or more real batches back to back. */
export function realBatches(prng: Prng): Buffer {
  const parts: Buffer[] = [];
  const batchCount = prng.chance(0.8) ? 1 : prng.range(2, 3);
  for (let i = 0; i < batchCount; i++) {
    const count = prng.chance(0.05) ? prng.range(200, 1000) : prng.range(1, 5);
    parts.push(encodeBatch(recordsFor(prng, count), { compression: prng.chance(0.25) ? 'gzip' : 'none' }));
  }
  return Buffer.concat(parts);
}

/** Replaces the golden examples' "orders"/"kitchen"/"m-1" with the test's own names. */
function aim(value: unknown, prng: Prng, topicNames: readonly string[], names: FuzzNames): unknown {
  if (value === 'orders') return prng.pick(topicNames);
  if (value === 'kitchen') return prng.pick(names.groups);
  if (Array.isArray(value)) return value.map((item) => aim(item, prng, topicNames, names));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) out[key] = aim(field, prng, topicNames, names);
    return out;
  }
  return value;
}

const REQUEST_EXAMPLES = examples.filter((example) => example.kind === 'request');

/** A valid request of a random API, aimed at the test's topics and groups. */
export function validSeed(prng: Prng, names: FuzzNames, correlationId: number): RequestSeed {
  const candidates = names.apiKeys ? REQUEST_EXAMPLES.filter((example) => names.apiKeys!.includes(example.apiKey)) : REQUEST_EXAMPLES;
  const example = prng.pick(candidates.length > 0 ? candidates : REQUEST_EXAMPLES);
  // DeleteTopics and CreateTopics only ever name scratch topics, so the valid corpus never
  // deletes a topic the watchdog depends on (fuzz-stream.ts also guards mutated frames).
  const topicNames = example.apiKey === ApiKey.DeleteTopics || example.apiKey === ApiKey.CreateTopics
    ? names.scratchTopics
    : [...names.protectedTopics, ...names.protectedTopics, ...names.scratchTopics];
  const header = aim(cloneValue(example.header), prng, topicNames, names) as Record<string, unknown>;
  const seed: RequestSeed = { apiKey: example.apiKey, apiVersion: example.apiVersion, correlationId, header, batches: [] };
  switch (example.apiKey) {
    case ApiKey.Produce: {
      const partitionCount = prng.chance(0.8) ? 1 : prng.range(2, 3);
      const partitions: Array<Record<string, unknown>> = [];
      for (let i = 0; i < partitionCount; i++) {
        const batch = realBatches(prng);
        seed.batches.push(batch);
        partitions.push({ topic: prng.pick(topicNames), partition: prng.int(3), size: batch.length });
      }
      header['acks'] = prng.pick([-1, -1, 1, 0]);
      header['partitions'] = partitions;
      break;
    }
    case ApiKey.Fetch:
      header['maxWaitMs'] = prng.pick([0, 0, 10, 100]);
      header['partitions'] = [{ topic: prng.pick(topicNames), partition: prng.int(3), offset: prng.int(20), maxBytes: prng.pick([1, 1024, 1048576]) }];
      break;
    case ApiKey.CreateTopics:
      (header['topics'] as Array<Record<string, unknown>>)[0]!['partitions'] = prng.range(1, 3);
      break;
    case ApiKey.ListOffsets:
      (header['partitions'] as Array<Record<string, unknown>>)[0]!['timestamp'] = prng.pick([-1, -2, Date.now() - 1000]);
      break;
    default:
      break;
  }
  return seed;
}
