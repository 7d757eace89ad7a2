// Proves the SDK's idempotent producer (the default) end to end: 200,000 messages sent
// through a TCP proxy on 127.0.0.1 that cuts every connection at a random byte count
// (either direction: a request lost on its way, or an answer lost after the batch was
// written) arrive exactly once, in order per partition. The producer retries the same
// stamped batches; the broker drops the duplicates and answers with the original offsets,
// so the offsets send() resolves are the stored ones. The proxy's cut points come from a
// seeded generator (the seed is printed) so a failure can be replayed.

import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { BatchLayout, decodeBatch, forEachBatch, readInt64 } from '../../src/records/index.js';
import { randomTopic } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { useBroker } from '../helpers/use-broker.js';

/** mulberry32: a tiny seeded generator. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Forwards to `target`, cutting each connection (both sockets) after a random number of bytes. */
function cuttingProxy(target: { host: string; port: number }, next: () => number): { server: Server; cuts: () => number } {
  let cuts = 0;
  const server = createServer((downstream: Socket) => {
    const upstream = connect(target);
    // Between 30 KB and 600 KB per connection, counted over both directions (requests are at
    // most 4 batches of 32 KiB, so one always fits eventually).
    let budget = 30_000 + Math.floor(next() * 570_000);
    const cut = (): void => {
      cuts++;
      downstream.destroy();
      upstream.destroy();
    };
    const forward = (from: Socket, to: Socket) => (chunk: Buffer) => {
      if (budget <= 0) return;
      if (chunk.length >= budget) {
        to.write(chunk.subarray(0, budget));
        budget = 0;
        cut();
        return;
      }
      budget -= chunk.length;
      to.write(chunk);
    };
    downstream.on('data', forward(downstream, upstream));
    upstream.on('data', forward(upstream, downstream));
    for (const socket of [downstream, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        downstream.destroy();
        upstream.destroy();
      });
    }
  });
  return { server, cuts: () => cuts };
}

describe('idempotent producer through a connection-cutting proxy', () => {
  const shared = useBroker();
  const seed = Number(process.env['PROXY_SEED'] ?? Date.now() % 1_000_000);
  let proxy: ReturnType<typeof cuttingProxy>;
  let proxyPort = 0;

  beforeAll(async () => {
    console.log(`cutting proxy seed ${seed} (PROXY_SEED=${seed} replays it)`);
    proxy = cuttingProxy({ host: '127.0.0.1', port: shared.broker().port }, random(seed));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
  });

  it('200,000 messages: exact counts, no duplicates, order per partition, offsets as stored', async () => {
    const topic = randomTopic('idem-proxy');
    const partitions = 4;
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const client = new Client({ brokers: [`127.0.0.1:${proxyPort}`], requestTimeoutMs: 5000, retry: { retries: 1000, initialRetryTimeMs: 5, maxRetryTimeMs: 50 } });
    const producer = client.producer({ retries: 1000, batchBytes: 32 * 1024, ...(process.env['PROXY_IDEMPOTENT'] === '0' ? { idempotent: false, maxRequestBytes: 65_536 } : {}) });
    const total = 200_000;
    const perSend = 1000;
    const sends: Array<Promise<Array<{ partition: number; offset: number }>>> = [];
    for (let from = 0; from < total; from += perSend) {
      const messages = [];
      for (let i = from; i < from + perSend; i++) messages.push({ value: String(i), partition: i % partitions });
      sends.push(producer.send({ topic, messages }));
    }
    const answered = (await Promise.all(sends)).flat();
    await producer.close();
    await client.close();
    console.log(`the proxy cut ${proxy.cuts()} connections`);
    expect(proxy.cuts()).toBeGreaterThan(3);

    // Read everything back straight from the broker (not through the proxy).
    const raw = await RawClient.connect(shared.broker().port);
    const stored: Array<Array<{ offset: number; value: number }>> = [];
    const producerIds = new Set<number>();
    for (let partition = 0; partition < partitions; partition++) {
      const records: Array<{ offset: number; value: number }> = [];
      let offset = 0;
      for (;;) {
        const response = await raw.request<M.FetchResponse>(ApiKey.Fetch, { maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, partitions: [{ topic, partition, offset, maxBytes: 8 << 20 }] });
        if (response.payload.length === 0) break;
        forEachBatch(response.payload, (_header, at) => {
          producerIds.add(readInt64(response.payload, at + BatchLayout.PRODUCER_ID));
          for (const record of decodeBatch(response.payload, at).records) {
            records.push({ offset: record.offset, value: Number(record.value!.toString()) });
            offset = record.offset + 1;
          }
        });
      }
      stored.push(records);
    }
    raw.socket.destroy();
    for (let partition = 0; partition < partitions; partition++) {
      const values = stored[partition]!.map((record) => record.value);
      expect(values.length).toBe(total / partitions);
      // Exactly the partition's messages, in send order: no duplicate, no gap, no reordering.
      for (let i = 0; i < values.length; i++) {
        if (values[i] !== i * partitions + partition) expect({ partition, at: i, value: values[i] }).toEqual({ partition, at: i, value: i * partitions + partition });
      }
    }
    expect([...producerIds].every((id) => id >= 0)).toBe(true);
    // What send() resolved is where each message is stored.
    for (let i = 0; i < total; i += 997) {
      const { partition, offset } = answered[i]!;
      expect(stored[partition]![offset - stored[partition]![0]!.offset]!.value).toBe(i);
    }
  }, 120_000);
});
