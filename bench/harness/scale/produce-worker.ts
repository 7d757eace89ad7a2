// A producer process of the scale benchmark: opens `connections` Clients (one TCP
// connection each: a Client's producer uses its one default connection), and on 'go' runs
// the harness's throughput loop (runner.ts) on every one of them at once. Keyed: every
// message has a key from a key space of at least twice the partition count, cycled in
// send() calls of `batchMessages`, so a run touches every partition (murmur2, as Kafka).
// IPC protocol as produce-worker.ts: start -> ready, go -> done (or failed).

import { Client } from '../../../src/client/index.js';
import { LatencyHistogram } from '../histogram.js';
import { runThroughput } from '../runner.js';
import { WORKLOADS, type TargetProducer } from '../workloads.js';
import { wallNow } from '../common.js';
import { serveRunWorker } from '../worker-process.js';

export interface ScaleProduceConfig {
  broker: string;
  topic: string;
  connections: number;
  /** Messages per connection. */
  messages: number;
  messageBytes: number;
  /** Key space = max(batchMessages, 2 x partitions), so every partition gets messages. */
  partitions: number;
  batchMessages: number;
  /** Unacknowledged messages per connection, at most. */
  maxInFlightMessages: number;
  timeoutMs: number;
  /** A distinct key range per worker process. */
  workerIndex: number;
}

export type ScaleProduceMessage =
  | { type: 'ready' }
  | { type: 'done'; startWallMs: number; endWallMs: number; messages: number; complete: boolean; error?: string; histogram: string }
  | { type: 'failed'; error: string };

/** send() arrays covering the key space: built once, reused (the runner sends the same payload). */
function keyedBatches(config: ScaleProduceConfig, value: Buffer): Array<Array<{ key: Buffer; value: Buffer }>> {
  const keySpace = Math.max(config.batchMessages, 2 * config.partitions);
  const arrays = Math.ceil(keySpace / config.batchMessages);
  return Array.from({ length: arrays }, (_, array) =>
    Array.from({ length: config.batchMessages }, (_, index) => ({ key: Buffer.from(`w${config.workerIndex}-k${array * config.batchMessages + index}`), value })),
  );
}

async function run(config: ScaleProduceConfig, send: (message: ScaleProduceMessage) => void, go: Promise<void>): Promise<void> {
  const clients = Array.from({ length: config.connections }, (_, index) => new Client({ brokers: [config.broker], clientId: `scale-producer-${config.workerIndex}-${index}`, connectTimeoutMs: 30_000 }));
  try {
    // Connect (and learn the partition count) before the clock starts, a few at a time
    // so 250 handshakes do not all time out together on a busy machine.
    for (let index = 0; index < clients.length; index += 50) {
      await Promise.all(clients.slice(index, index + 50).map((client) => client.admin().describeTopics({ topics: [config.topic] })));
    }
    const value = Buffer.alloc(config.messageBytes, 0x61);
    const batches = keyedBatches(config, value);
    send({ type: 'ready' });
    await go;
    const histogram = new LatencyHistogram();
    const startWallMs = wallNow();
    const workload = { ...WORKLOADS.W1, messages: config.messages, messageBytes: config.messageBytes, timeoutMs: config.timeoutMs };
    const results = await Promise.all(
      clients.map((client, clientIndex) => {
        const producer = client.producer({ acks: 'all' });
        let next = clientIndex;
        const target: TargetProducer = {
          batchMessages: config.batchMessages,
          maxInFlightMessages: config.maxInFlightMessages,
          async publish(_value: Buffer, count: number) {
            const batch = batches[next++ % batches.length]!;
            await producer.send({ topic: config.topic, messages: count === batch.length ? batch : batch.slice(0, count) });
          },
          close: () => producer.close(),
        };
        return runThroughput(target, workload, histogram);
      }),
    );
    const endWallMs = wallNow();
    const errors = results.filter((result) => result.error !== undefined).map((result) => result.error);
    send({
      type: 'done',
      startWallMs,
      endWallMs,
      messages: results.reduce((sum, result) => sum + result.messages, 0),
      complete: results.every((result) => result.complete),
      ...(errors.length > 0 ? { error: [...new Set(errors)].join('; ') } : {}),
      histogram: histogram.encode(),
    });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

if (process.send !== undefined) serveRunWorker(run);
