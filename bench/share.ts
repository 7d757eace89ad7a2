// Share groups as a work queue: `npx tsc && npx tsx bench/share.ts [--messages N] [--consumers C] [--size B]`.
// Starts a broker process (dist/cli/main.js serve, port 0, temp dir, --fsync never), fills a
// 1-partition topic with N (default 1,000,000) messages of B (100) bytes, then C (4) share
// consumers (one Client each, in this process) drain it with run({ eachMessage }) (an empty
// handler: accept). Prints one JSON line: messages/s of the drain and each consumer's share
// in percent. The target: ahead of NATS JetStream (~160k msg/s) and Redis Streams
// (~330k) splitting a stream 4 ways, with each consumer at 25% +/- 10%. No numbers asserted.

import { readFileSync } from 'node:fs';
import { Client } from '../src/client/index.js';
import { startBroker } from '../test/helpers/broker.js';

/** user + system CPU of a process, from /proc/<pid>/stat (Linux; 0 elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0; // not Linux: the field is left out of the comparison
  }
}

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const topicAt = process.argv.indexOf('--topic');
/** --topic T --no-fill: drain a topic filled by an earlier run (to profile the drain alone). */
const topic = topicAt >= 0 ? process.argv[topicAt + 1]! : `work-${process.pid}`;
const fill = !process.argv.includes('--no-fill');
const total = argument('--messages', 1_000_000);
const consumerCount = argument('--consumers', 4);
const size = argument('--size', 100);
const at = process.argv.indexOf('--broker');
const external = at >= 0 ? process.argv[at + 1]! : undefined;
const broker = external === undefined ? await startBroker({ args: ['--fsync', 'never'] }) : undefined;
const address = external ?? broker!.address;
try {
  const admin = new Client({ brokers: [address] });
  if (fill) await admin.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = admin.producer({ lingerMs: 5 });
  const value = Buffer.alloc(size, 97);
  for (let sent = 0; fill && sent < total; sent += 10_000) {
    const count = Math.min(10_000, total - sent);
    await Promise.all(Array.from({ length: count }, () => producer.send({ topic, messages: [{ value }] })));
  }
  await producer.close();
  const counts = new Array<number>(consumerCount).fill(0);
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const clients = counts.map(() => new Client({ brokers: [address] }));
  const brokerCpuBefore = broker === undefined ? 0 : processCpuMs(broker.child.pid!);
  const clientCpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  await Promise.all(
    clients.map(async (client, index) => {
      const consumer = client.shareConsumer({ groupId: `cooks-${process.pid}` });
      await consumer.subscribe({ topics: [topic] });
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
  // CPU per message (client process with every consumer; broker process): steadier than
  // msgs/s on a shared machine, where wall time depends on the neighbours.
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const clientMicrosPerMessage = (clientCpu.user + clientCpu.system) / total;
  const brokerMicrosPerMessage = broker === undefined ? undefined : ((processCpuMs(broker.child.pid!) - brokerCpuBefore) * 1000) / total;
  const split = counts.map((count) => Number(((count / total) * 100).toFixed(1)));
  process.stdout.write(`${JSON.stringify({ bench: 'share', messages: total, size, consumers: consumerCount, seconds: Number(seconds.toFixed(2)), messagesPerSecond: Math.round(total / seconds), splitPercent: split, clientMicrosPerMessage: Number(clientMicrosPerMessage.toFixed(2)), brokerMicrosPerMessage: brokerMicrosPerMessage === undefined ? undefined : Number(brokerMicrosPerMessage.toFixed(2)) })}\n`);
  await Promise.all(clients.map((client) => client.close()));
  await admin.close();
} finally {
  await broker?.stop();
  broker?.cleanup();
}
