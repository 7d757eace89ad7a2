// The idempotent producer's gain from pipelining: `npm run build && npx tsx bench/idempotent-in-flight.ts
// [--scale 0.2] [--rounds 2]`. Starts a broker process (dist/, port 0, temp dir, the bench
// default --fsync 1000), then runs W1 (1M x 100 B) and W2 (200k x 1 KiB), both scaled by
// --scale, through an idempotent producer (acks all) on a fresh 1-partition topic with
// maxInFlight 1 and 5 (Kafka's limit per partition with idempotence), alternating, --rounds
// times: one JSON line per run with msgs/s. The runner (bench/harness/runner.ts) keeps the
// same window of messages in flight for both; only the producer's request pipelining differs.

import { Client } from '../src/client/index.js';
import { startBroker } from '../test/helpers/broker.js';
import { runThroughput } from './harness/runner.js';
import { scaleWorkload, WORKLOADS, type TargetProducer } from './harness/workloads.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const scale = argument('--scale', 0.2);
const rounds = argument('--rounds', 2);
const broker = await startBroker({ args: ['--fsync', '1000'] });
try {
  for (let round = 0; round < rounds; round++) {
    for (const id of ['W1', 'W2'] as const) {
      for (const maxInFlight of [1, 5]) {
        const workload = scaleWorkload(WORKLOADS[id], scale);
        const client = new Client({ brokers: [broker.address] });
        const topic = `idem-${id}-${maxInFlight}-${round}-${process.pid}`;
        await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
        const producer = client.producer({ acks: 'all', idempotent: true, maxInFlight });
        const cache = new Map<number, Array<{ value: Buffer }>>();
        const target: TargetProducer = {
          batchMessages: 100,
          maxInFlightMessages: 20_000,
          async publish(value, count) {
            let messages = cache.get(count);
            if (!messages) cache.set(count, (messages = Array.from({ length: count }, () => ({ value }))));
            await producer.send({ topic, messages });
          },
          close: () => producer.close(),
        };
        const measurement = await runThroughput(target, workload);
        await producer.close();
        await client.admin().deleteTopics({ topics: [topic] });
        await client.close();
        process.stdout.write(`${JSON.stringify({ workload: id, messages: measurement.messages, messageBytes: workload.messageBytes, maxInFlight, seconds: Number(measurement.seconds.toFixed(3)), msgsPerSec: Math.round(measurement.messages / measurement.seconds), complete: measurement.complete })}\n`);
      }
    }
  }
} finally {
  await broker.stop();
  broker.cleanup();
}
