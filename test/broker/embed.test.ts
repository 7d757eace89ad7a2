// Proves the embeddable broker (src/broker/embed.ts, published as `spool/broker`) is a real
// broker on 127.0.0.1 and a free port that the SDK talks to; that close() removes the temp
// data directory it made, keeps one the caller named (data survive a restart there), and is
// idempotent. The installed-package path (import by name through the exports map) is
// test/package/pack.test.ts.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/embed.js';
import { Client } from '../../src/client/index.js';

async function roundTrip(address: string, topic: string, create: boolean): Promise<string[]> {
  const client = new Client({ brokers: [address] });
  try {
    if (create) {
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await client.producer().send({ topic, messages: [{ value: 'kept' }] });
    }
    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const values: string[] = [];
    for await (const message of consumer) {
      values.push(message.value!.toString());
      break;
    }
    return values;
  } finally {
    await client.close();
  }
}

describe('startBroker from spool/broker', () => {
  it('listens on 127.0.0.1 and a free port, serves the SDK, and close() removes its temp dir', async () => {
    const broker = await startBroker();
    try {
      expect(broker.host).toBe('127.0.0.1');
      expect(broker.port).toBeGreaterThan(0);
      expect(broker.address).toBe(`127.0.0.1:${broker.port}`);
      expect(broker.kafkaAddress).toBeUndefined();
      expect(existsSync(broker.dataDir)).toBe(true);
      expect(await roundTrip(broker.address, 'embedded', true)).toEqual(['kept']);
    } finally {
      await broker.close();
    }
    expect(existsSync(broker.dataDir)).toBe(false);
    await broker.close(); // idempotent
  });

  it('keeps a data directory the caller named, so a restart finds the messages', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-embed-test-'));
    try {
      const first = await startBroker({ dataDir, fsync: { kind: 'always' } });
      await roundTrip(first.address, 'durable', true);
      await first.close();
      expect(existsSync(dataDir)).toBe(true);
      const second = await startBroker({ dataDir });
      try {
        expect(second.port).not.toBe(0);
        expect(await roundTrip(second.address, 'durable', false)).toEqual(['kept']);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
