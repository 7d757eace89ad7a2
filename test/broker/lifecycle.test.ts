// Proves the broker process keeps what it acknowledged across restarts: produce, stop
// gracefully (SIGTERM -> exit 0, "spool listening on" printed once), restart on the same
// data directory, fetch everything back; with --fsync always, a SIGKILL right after the
// acks loses nothing acknowledged either. Also checks in-flight parked fetches are
// answered during shutdown, and auto-create-topics.

import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { startBroker, randomTopic, tempDir } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf, recordsOf } from './records.js';

async function produceMany(client: RawClient, topic: string, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => client.produce(topic, 0, batchOf([`r${i}`]), -1)));
}

async function fetchAll(port: number, topic: string): Promise<string[]> {
  const client = await RawClient.connect(port);
  const { header, parts } = await client.fetch([{ topic, partition: 0, offset: 0, maxBytes: 10 * 1024 * 1024 }]);
  await client.close();
  expect(header.partitions[0]!.errorCode).toBe(0);
  return parts[0] ? recordsOf(parts[0]).map((r) => r.value) : [];
}

describe('restart', () => {
  it('graceful SIGTERM exits 0 and keeps every record', async () => {
    const dataDir = tempDir();
    const topic = randomTopic();
    const first = await startBroker({ dataDir });
    const client = await RawClient.connect(first.port);
    await client.createTopic(topic, 1);
    await produceMany(client, topic, 50);
    // A parked fetch in flight is answered (empty) during shutdown, not dropped.
    const parked = client.fetch([{ topic, partition: 0, offset: 50 }], { maxWaitMs: 30_000, minBytes: 1 });
    await new Promise((r) => setTimeout(r, 50));
    const stopped = first.stop();
    expect((await parked).header.partitions[0]).toMatchObject({ errorCode: 0, size: 0 });
    expect(await stopped).toBe(0);

    const second = await startBroker({ dataDir });
    expect(await fetchAll(second.port, topic)).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
    const again = await RawClient.connect(second.port);
    expect((await again.produce(topic, 0, batchOf(['after']))).baseOffset).toBe(50);
    await again.close();
    expect(await second.stop()).toBe(0);
    second.cleanup();
  });

  it('--fsync always: SIGKILL after acks loses nothing acknowledged', async () => {
    const dataDir = tempDir();
    const topic = randomTopic();
    const first = await startBroker({ dataDir, args: ['--fsync', 'always'] });
    const client = await RawClient.connect(first.port);
    await client.createTopic(topic, 1);
    await produceMany(client, topic, 30);
    await first.kill();
    const second = await startBroker({ dataDir });
    expect(await fetchAll(second.port, topic)).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`));
    expect(await second.stop()).toBe(0);
    second.cleanup();
  });
});

describe('auto-create topics', () => {
  it('creates unknown topics on produce when enabled, with --default-partitions', async () => {
    const broker = await startBroker({ args: ['--auto-create-topics', '--default-partitions', '3', '--fsync', 'never'] });
    const client = await RawClient.connect(broker.port);
    const topic = randomTopic();
    const batch = batchOf(['auto']);
    const results = await Promise.all([client.produce(topic, 0, batch), client.produce(topic, 2, batch)]);
    expect(results.map((r) => r.errorCode)).toEqual([0, 0]);
    const metadata = await client.request<M.MetadataResponse>(ApiKey.Metadata, { topics: [topic] });
    expect(metadata.header.topics[0]).toMatchObject({ errorCode: 0, partitions: 3 });
    const reserved = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks: 1, timeoutMs: 1, partitions: [{ topic: '__reserved', partition: 0, size: batch.length }] }, batch);
    expect(reserved.header.partitions[0]!.errorCode).toBe(6);
    await client.close();
    expect(await broker.stop()).toBe(0);
    broker.cleanup();
  });
});
