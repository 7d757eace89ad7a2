// `bench/cli.ts share`: share groups as a work queue (the target: 4 share consumers
// on a 1-partition topic, 1,000,000 x 100 B, ahead of NATS JetStream and Redis Streams with
// each consumer at 25% +/- 10%). Fills a fresh 1-partition topic with --messages of --size
// bytes (not measured), then --consumers share consumers of one group, each with its own
// Client (own connections) in this process (or, with --processes, each in its own child
// process: share-worker.ts), drain it with run({ eachMessage }) (an empty handler:
// accept). The clock runs from the first consumer's start to the last message;
// the result carries each consumer's share of the messages in percent (`splitPercent`).
// `bench/peers/share.ts` runs the same work against NATS JetStream and Redis Streams.

import { performance } from 'node:perf_hooks';
import { Client } from '../../src/client/index.js';
import type { BenchBroker } from './broker-process.js';
import { benchClient, benchTopicName, createBenchTopic, deleteBenchTopic, fillTopic, forkWorker, sleep, waitUntil, wallNow } from './common.js';
import type { ShareWorkerReport, ShareWorkerStart } from './share-worker.js';
import type { MachineInfo } from './machine.js';
import { Progress } from './progress.js';
import { makeBenchResult, type BenchMeasurement, type BenchResult } from './result.js';

export interface ShareBenchOptions {
  messages: number;
  size: number;
  consumers: number;
  /** The share consumer's maxRecords (records one ShareFetch acquires at most). */
  maxRecords: number;
  /** Each consumer in its own process (share-worker.ts) instead of all in this one. */
  processes?: boolean;
  timeoutMs: number;
}

/** Drains `total` messages of `topic` with `consumers` share consumers; counts per consumer. */
export async function drainShared(address: string, topic: string, total: number, consumers: number, maxRecords: number, timeoutMs: number, progress?: Progress): Promise<BenchMeasurement & { counts: number[] }> {
  const counts = new Array<number>(consumers).fill(0);
  let done = 0;
  let bytes = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(() => finish(), timeoutMs);
  const clients = counts.map((_, index) => new Client({ brokers: [address], clientId: `spool-bench-share-${index}` }));
  const groupId = benchTopicName('share-group');
  const startMs = performance.now();
  let lastMs = startMs;
  try {
    await Promise.all(
      clients.map(async (client, index) => {
        const consumer = client.shareConsumer({ groupId, maxRecords });
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({
          eachMessage: async ({ message }) => {
            counts[index]!++;
            bytes += message.value?.length ?? 0;
            if (++done % 10_000 === 0) progress?.update(done);
            if (done === total) {
              lastMs = performance.now();
              finish();
            }
          },
        });
      }),
    );
    await finished;
  } finally {
    clearTimeout(timer);
    await Promise.all(clients.map((client) => client.close({ timeoutMs: 2_000 })));
  }
  const complete = done >= total;
  return { messages: done, bytes, seconds: ((complete ? lastMs : performance.now()) - startMs) / 1000, complete, error: complete ? undefined : `timeout after ${timeoutMs} ms`, counts };
}

/** drainShared with each consumer in its own process; the clock starts when all are subscribed. */
async function drainInProcesses(address: string, topic: string, total: number, consumers: number, maxRecords: number, timeoutMs: number, progress: Progress): Promise<BenchMeasurement & { counts: number[] }> {
  const groupId = benchTopicName('share-group');
  const workers = Array.from({ length: consumers }, () => forkWorker('share-worker'));
  const reports = workers.map(() => ({ ready: false, count: 0, bytes: 0, lastWallMs: 0, error: undefined as string | undefined }));
  workers.forEach((worker, index) => {
    worker.on('message', (message: ShareWorkerReport) => {
      const report = reports[index]!;
      if (message.type === 'ready') report.ready = true;
      else if (message.type === 'failed') report.error = message.error;
      else Object.assign(report, { count: message.count, bytes: message.bytes, lastWallMs: message.lastWallMs });
    });
    worker.send({ type: 'start', broker: address, topic, groupId, maxRecords } satisfies ShareWorkerStart);
  });
  const failure = (): void => {
    const failed = reports.find((report) => report.error !== undefined);
    if (failed !== undefined) throw new Error(`a share worker failed: ${failed.error}`);
  };
  try {
    await waitUntil(() => (failure(), reports.every((report) => report.ready)), 30_000, 'every share worker subscribed');
    const goWallMs = wallNow();
    for (const worker of workers) worker.send({ type: 'go' });
    const counted = (): number => reports.reduce((sum, report) => sum + report.count, 0);
    const deadline = Date.now() + timeoutMs;
    while (counted() < total && Date.now() < deadline) {
      failure();
      progress.update(counted());
      await sleep(20);
    }
    const complete = counted() >= total;
    const endWallMs = Math.max(...reports.map((report) => report.lastWallMs));
    return {
      messages: counted(),
      bytes: reports.reduce((sum, report) => sum + report.bytes, 0),
      seconds: Math.max(0, endWallMs - goWallMs) / 1000,
      complete,
      error: complete ? undefined : `timeout after ${timeoutMs} ms`,
      counts: reports.map((report) => report.count),
    };
  } finally {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null || !worker.connected) return resolve();
            worker.once('exit', () => resolve());
            worker.send({ type: 'stop' });
            setTimeout(() => (worker.kill(), resolve()), 5_000).unref();
          }),
      ),
    );
  }
}

export async function benchShare(options: ShareBenchOptions, broker: BenchBroker, machine: MachineInfo): Promise<BenchResult> {
  const client = benchClient(broker.address, 'spool-bench');
  const topic = benchTopicName('share');
  try {
    await createBenchTopic(client, topic, 1);
    const filling = new Progress('fill', options.messages);
    await fillTopic(client, topic, options.messages, options.size, 1, (done) => filling.update(done));
    filling.done();
    const progress = new Progress('share', options.messages);
    const measurement =
      options.processes === true
        ? await drainInProcesses(broker.address, topic, options.messages, options.consumers, options.maxRecords, options.timeoutMs, progress)
        : await drainShared(broker.address, topic, options.messages, options.consumers, options.maxRecords, options.timeoutMs, progress);
    progress.done();
    const result = makeBenchResult(
      {
        workload: 'share',
        title: `share group work queue, ${options.consumers} consumers${options.processes === true ? ' (own processes)' : ''}, 1 partition, accept each`,
        messageBytes: options.size,
        acks: 'accept per message (ShareAcknowledge ranges)',
        fsyncMode: broker.fsyncMode,
        partitions: 1,
        consumers: options.consumers,
        broker: broker.own ? 'own' : broker.address,
      },
      measurement,
      machine,
    );
    result.splitPercent = measurement.counts.map((count) => Math.round((count / Math.max(1, measurement.messages)) * 1000) / 10);
    result.title += ` (split ${result.splitPercent.join(' / ')} %)`;
    return result;
  } finally {
    if (!broker.own) await deleteBenchTopic(client, topic);
    await client.close();
  }
}
