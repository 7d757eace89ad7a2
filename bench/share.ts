// Share groups as a work queue: `npx tsc && npx tsx bench/share.ts [--messages N] [--consumers C] [--size B]`.
// Starts a broker process (dist/cli/main.js serve, port 0, temp dir, --fsync never), fills a
// 1-partition topic with N (default 1,000,000) messages of B (100) bytes, then C (4) share
// consumers (one Client each, in this process) drain it with run({ eachMessage }) (an empty
// handler: accept). Prints one JSON line: messages/s of the drain and each consumer's share
// in percent. The target: ahead of NATS JetStream (~160k msg/s) and Redis Streams
// (~330k) splitting a stream 4 ways, with each consumer at 25% +/- 10%. No numbers asserted.

import { Client } from '../src/client/index.js';
import { startBroker } from '../test/helpers/broker.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const total = argument('--messages', 1_000_000);
const consumerCount = argument('--consumers', 4);
const size = argument('--size', 100);
const broker = await startBroker({ args: ['--fsync', 'never'] });
try {
  const admin = new Client({ brokers: [broker.address] });
  await admin.admin().createTopics({ topics: [{ topic: 'work', numPartitions: 1 }] });
  const producer = admin.producer({ lingerMs: 5 });
  const value = Buffer.alloc(size, 97);
  for (let sent = 0; sent < total; sent += 10_000) {
    const count = Math.min(10_000, total - sent);
    await Promise.all(Array.from({ length: count }, () => producer.send({ topic: 'work', messages: [{ value }] })));
  }
  await producer.close();
  const counts = new Array<number>(consumerCount).fill(0);
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const clients = counts.map(() => new Client({ brokers: [broker.address] }));
  const startedMs = performance.now();
  await Promise.all(
    clients.map(async (client, index) => {
      const consumer = client.shareConsumer({ groupId: 'cooks' });
      await consumer.subscribe({ topics: ['work'] });
      await consumer.run({
        eachMessage: async () => {
          counts[index]!++;
          if (++done === total) finish();
        },
      });
    }),
  );
  await finished;
  const seconds = (performance.now() - startedMs) / 1000;
  const split = counts.map((count) => Number(((count / total) * 100).toFixed(1)));
  process.stdout.write(`${JSON.stringify({ bench: 'share', messages: total, size, consumers: consumerCount, seconds: Number(seconds.toFixed(2)), messagesPerSecond: Math.round(total / seconds), splitPercent: split })}\n`);
  await Promise.all(clients.map((client) => client.close()));
  await admin.close();
} finally {
  await broker.kill();
  broker.cleanup();
}
