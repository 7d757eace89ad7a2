// The share (work-queue) workload against one peer server (started by servers.sh):
//
//   tsx bench/peers/share.ts --system nats|redis|spool --port N
//       [--messages 1000000] [--size 100] [--consumers 4] [--json results.jsonl]
//
// Fills a fresh stream with --messages of --size bytes through the target's W1 producer
// (not measured), then --consumers workers drain it as a work queue, each message handed
// to one worker and acknowledged (NATS JetStream: one durable pull consumer shared by the
// workers, share-nats.ts; Redis Streams: XREADGROUP consumers + XACK, share-redis.ts;
// spool: a share group, share-spool.ts). Prints one JSON line: msgs/s of the drain and
// each worker's share in percent (the target: ahead of NATS and Redis with each
// of 4 consumers at 25% +/- 10%). `spool bench share` (bench/cli.ts) is the spool side
// with its own broker.

import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Target, TargetProducer } from '../harness/workloads.js';
import { NatsTarget } from './nats.js';
import { RedisTarget } from './redis.js';
import { ShareDrain } from './share-common.js';
import { natsWorkQueue } from './share-nats.js';
import { redisWorkQueue } from './share-redis.js';
import { spoolWorkQueue } from './share-spool.js';
import { SpoolTarget } from './spool.js';

const TIMEOUT_MS = 300_000;

async function fill(producer: TargetProducer, messages: number, size: number): Promise<void> {
  const payload = Buffer.alloc(size, 97);
  const inFlight: Array<{ count: number; done: Promise<void> }> = [];
  let outstanding = 0;
  for (let sent = 0; sent < messages; ) {
    const count = Math.min(producer.batchMessages, messages - sent);
    inFlight.push({ count, done: producer.publish(payload, count) });
    outstanding += count;
    sent += count;
    while (outstanding > producer.maxInFlightMessages) {
      const oldest = inFlight.shift()!;
      await oldest.done;
      outstanding -= oldest.count;
    }
  }
  await Promise.all(inFlight.map((entry) => entry.done));
}

function target(system: string, port: number): Target {
  if (system === 'nats') return new NatsTarget(port);
  if (system === 'redis') return new RedisTarget(port);
  if (system === 'spool') return new SpoolTarget(port, process.env['SPOOL_FSYNC'] ?? '1000');
  throw new Error(`unknown system ${system} (nats, redis, spool)`);
}

const { values } = parseArgs({
  options: {
    system: { type: 'string' },
    port: { type: 'string' },
    messages: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '100' },
    consumers: { type: 'string', default: '4' },
    json: { type: 'string' },
  },
});
try {
  if (!values.system || !values.port) throw new Error('usage: share.ts --system nats|redis|spool --port N [--messages M] [--size B] [--consumers C] [--json file]');
  const port = Number(values.port);
  const messages = Number(values.messages);
  const size = Number(values.size);
  const consumers = Number(values.consumers);
  const system = target(values.system, port);
  const stream = `bench-share-${Math.random().toString(36).slice(2, 8)}`;
  await system.setup();
  try {
    await system.createStream(stream);
    const producer = await system.producer(stream, 'throughput');
    await fill(producer, messages, size);
    process.stderr.write(`${system.name}: filled ${messages}, draining with ${consumers} workers\n`);
    await producer.close();
    const drain = new ShareDrain(consumers, messages);
    const deadline = setTimeout(() => drain.finish(), TIMEOUT_MS);
    const run = values.system === 'nats' ? natsWorkQueue : values.system === 'redis' ? redisWorkQueue : spoolWorkQueue;
    await run(port, stream, consumers, drain);
    clearTimeout(deadline);
    const complete = drain.received >= messages;
    const line = JSON.stringify({
      system: system.name,
      workload: 'share',
      messages: drain.received,
      messageBytes: size,
      consumers,
      seconds: Math.round(drain.seconds * 1000) / 1000,
      msgsPerSec: Math.round(drain.received / drain.seconds),
      splitPercent: drain.splitPercent(),
      complete,
      loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      date: new Date().toISOString(),
    });
    process.stdout.write(`${line}\n`);
    if (values.json) appendFileSync(values.json, `${line}\n`);
    await system.deleteStream(stream);
  } finally {
    await system.close();
  }
} catch (error) {
  process.stderr.write(`bench/peers/share: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
