// Proves the broker's per-connection budgets and lifecycle with startBroker in this
// process (so its internals are observable): a client that pipelines large fetches and
// does not read never makes the broker hold more than about the byte budget (checked
// through a parked-then-released reader, all answers in order), the parked-fetch bound
// answers at once beyond it, and close() is idempotent and leaves the data readable.

import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ApiKey } from '../../src/protocol/apis.js';
import { startBroker, silentLogger, type Broker } from '../../src/broker/index.js';
import { randomTopic, tempDir } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf, recordsOf } from './records.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function broker(options: Parameters<typeof startBroker>[0] extends infer O ? Partial<O> : never = {}): Promise<{ broker: Broker; dataDir: string }> {
  const dataDir = tempDir();
  const started = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, ...options });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  return { broker: started, dataDir };
}

describe('per-connection budgets', () => {
  it('serves a slow reader of large fetches in order under a small byte budget', async () => {
    const { broker: b } = await broker({ maxBufferedBytesPerConnection: 256 * 1024, maxInFlightPerConnection: 50 });
    const client = await RawClient.connect(b.port);
    const topic = randomTopic();
    await client.createTopic(topic, 1);
    await client.produce(topic, 0, batchOf(['v'.repeat(60_000)]));
    const reader = await RawClient.connect(b.port);
    reader.socket.pause();
    const answers = Array.from({ length: 200 }, () => reader.fetch([{ topic, partition: 0, offset: 0 }]));
    let maxHeld = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 10));
      maxHeld = Math.max(maxHeld, ...b.stats().heldResponseBytes);
    }
    // Stalled: something is held, but no more than the budget plus one response.
    expect(maxHeld).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThan(256 * 1024 + 70_000);
    expect(Math.max(...b.stats().inFlight)).toBeLessThanOrEqual(200);
    reader.socket.resume();
    const results = await Promise.all(answers);
    for (const { parts } of results) expect(recordsOf(parts[0]!).length).toBe(1);
    expect(reader.received.map((r) => r.correlationId)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await reader.close();
    await client.close();
  });

  it('answers a fetch at once when the parked-fetch bound is reached', async () => {
    const { broker: b } = await broker({ maxParkedFetches: 1 });
    const client = await RawClient.connect(b.port);
    const other = await RawClient.connect(b.port);
    const topic = randomTopic();
    await client.createTopic(topic, 1);
    const parked = client.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const immediate = await other.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(immediate.header.partitions[0]!.size).toBe(0);
    await client.produce(topic, 0, batchOf(['wake']));
    expect(recordsOf((await parked).parts[0]!)).toEqual([{ offset: 0, value: 'wake' }]);
    await client.close();
    await other.close();
  });
});

describe('lifecycle', () => {
  it('close() is idempotent and data survives a reopen', async () => {
    const { broker: first, dataDir } = await broker();
    const client = await RawClient.connect(first.port);
    const topic = randomTopic();
    await client.createTopic(topic, 1);
    await client.produce(topic, 0, batchOf(['kept']));
    await Promise.all([first.close(), first.close()]);
    await client.closed;
    const second = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger });
    cleanups.push(() => second.close());
    const again = await RawClient.connect(second.port);
    const { parts } = await again.fetch([{ topic, partition: 0, offset: 0 }]);
    expect(recordsOf(parts[0]!)).toEqual([{ offset: 0, value: 'kept' }]);
    const versions = await again.request(ApiKey.ApiVersions, {});
    expect(versions.header['errorCode']).toBe(0);
    await again.close();
  });
});
