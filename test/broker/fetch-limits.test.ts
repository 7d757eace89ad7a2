// Proves the broker bounds what fetches make it hold: a fetch returns at most
// --fetch-max-bytes (but at least one whole batch) whatever maxBytes it asks for, a fetch
// that names one partition twice is refused (INVALID_REQUEST naming it), and clients that
// never read their sockets cannot grow a child broker's RSS (VmRSS from /proc) past about
// the per-connection byte budget, neither with huge fetches nor with many parked fetches
// answered by one produce. Each abuse is measured against the RSS right before it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import { Errors } from '../../src/util/errors.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { peakRssBytes } from '../helpers/rss.js';
import { batchOf, recordsOf } from './records.js';

const MiB = 1024 * 1024;
const FETCH_MAX_BYTES = 4 * MiB;
/** One batch of about 512 KiB, appended many times. */
const BIG_BATCH = batchOf(['x'.repeat(512 * 1024 - 200)]);

let broker: BrokerProcess;
let client: RawClient;
const opened: RawClient[] = [];

beforeAll(async () => {
  broker = await startBroker({ args: ['--fsync', 'never', '--fetch-max-bytes', String(FETCH_MAX_BYTES)] });
  client = await RawClient.connect(broker.port);
});

afterAll(async () => {
  for (const other of opened) other.destroy();
  await client?.close();
  await broker?.stop();
  broker?.cleanup();
});

async function connect(): Promise<RawClient> {
  const other = await RawClient.connect(broker.port);
  opened.push(other);
  return other;
}

/** A topic whose partition 0 holds `batches` big batches. */
async function filledTopic(batches: number): Promise<string> {
  const topic = randomTopic();
  await client.createTopic(topic, 1);
  for (let sent = 0; sent < batches; sent += 8) {
    const count = Math.min(8, batches - sent);
    await client.produce(topic, 0, Buffer.concat(Array.from({ length: count }, () => BIG_BATCH)), 1);
  }
  return topic;
}

/** A few round trips on another connection: requests written before them have been dispatched. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await client.request(ApiKey.ApiVersions, {});
}

describe('fetch size caps', () => {
  it('returns at most --fetch-max-bytes whatever the request asks, and at least one batch', async () => {
    const topic = await filledTopic(16);
    const { header, parts } = await client.fetch([{ topic, partition: 0, offset: 0, maxBytes: 2 ** 40 }], { maxBytes: 2 ** 40 });
    expect(header.errorCode).toBe(0);
    expect(parts[0]!.length).toBeGreaterThan(0);
    expect(parts[0]!.length).toBeLessThanOrEqual(FETCH_MAX_BYTES);
    expect(recordsOf(parts[0]!)[0]!.offset).toBe(0);
    // A batch larger than what is asked still comes whole.
    const one = await client.fetch([{ topic, partition: 0, offset: 3, maxBytes: 1 }], { maxBytes: 1 });
    expect(one.parts[0]!.length).toBe(BIG_BATCH.length);
  });

  it('refuses a fetch that names one partition twice', async () => {
    const topic = await filledTopic(1);
    const response = await client.request<{ errorCode: number; errorMessage: string }>(ApiKey.Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1024,
      partitions: [
        { topic, partition: 0, offset: 0, maxBytes: 1024 },
        { topic, partition: 0, offset: 0, maxBytes: 1024 },
      ],
    });
    expect(response.header.errorCode).toBe(Errors.INVALID_REQUEST.code);
    expect(response.header.errorMessage).toContain('partitions[1]');
    expect(response.header.errorMessage).toContain(`${topic}-0`);
  });

  it('clients that never read cannot make huge fetches grow the broker', async () => {
    const topic = await filledTopic(96); // 48 MiB in one partition
    await settle();
    const before = await peakRssBytes(broker.child.pid!);
    for (let i = 0; i < 6; i++) {
      const reader = await connect();
      reader.socket.pause();
      reader.send(ApiKey.Fetch, { maxWaitMs: 0, minBytes: 1, maxBytes: 2 ** 40, partitions: [{ topic, partition: 0, offset: 0, maxBytes: 2 ** 40 }] });
    }
    await settle();
    const grown = (await peakRssBytes(broker.child.pid!)) - before;
    // Without the cap each fetch reads the whole 48 MiB: ~290 MiB.
    expect(grown).toBeLessThan(120 * MiB);
  });
});

describe('parked fetches', () => {
  it('1000 parked fetches of a client that never reads, answered by one produce, stay within the byte budget', async () => {
    const topic = randomTopic();
    await client.createTopic(topic, 1);
    const reader = await connect();
    reader.socket.pause();
    for (let i = 0; i < 1000; i++) {
      reader.send(ApiKey.Fetch, { maxWaitMs: 60_000, minBytes: 1, maxBytes: 2 ** 30, partitions: [{ topic, partition: 0, offset: 0, maxBytes: 2 ** 30 }] });
    }
    await settle();
    const before = await peakRssBytes(broker.child.pid!);
    // 2 MiB: each parked fetch wakes and could read all of it.
    await client.produce(topic, 0, Buffer.concat([BIG_BATCH, BIG_BATCH, BIG_BATCH, BIG_BATCH]), 1);
    await settle();
    const grown = (await peakRssBytes(broker.child.pid!)) - before;
    // Without the budget: ~1000 x 2 MiB. With it: about the 64 MiB budget.
    expect(grown).toBeLessThan(160 * MiB);
  });
});
