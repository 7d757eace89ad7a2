// One producer of `bench/cli.ts produce`, run as a child process (child_process.fork, IPC)
// so N producers do not share one event loop with each other or with the coordinating
// CLI process. Protocol (IPC messages):
//   parent -> worker  { type: 'start', config }     worker connects, answers { type: 'ready' }
//   parent -> worker  { type: 'go' }                worker runs the harness's throughput loop
//   worker -> parent  { type: 'progress', acked }   at most every 100 ms
//   worker -> parent  { type: 'done', startWallMs, measurement, histogram }  then it exits
// The histogram travels as HdrHistogram's compressed base64 so the parent can merge them.

import { performance } from 'node:perf_hooks';
import { Client } from '../../src/client/index.js';
import type { Acks } from '../../src/client/index.js';
import { LatencyHistogram } from './histogram.js';
import { runThroughput } from './runner.js';
import { WORKLOADS, type TargetProducer, type Workload } from './workloads.js';
import { serveRunWorker } from './worker-process.js';

export interface ProduceWorkerConfig {
  broker: string;
  topic: string;
  messages: number;
  messageBytes: number;
  acks: Acks;
  lingerMs?: number;
  batchBytes?: number;
  compression: 'none' | 'gzip';
  /** Messages per send() call. */
  batchMessages: number;
  /** Messages sent but not yet acknowledged, at most. */
  maxInFlightMessages: number;
  timeoutMs: number;
}

export interface ProduceWorkerDone {
  type: 'done';
  startWallMs: number;
  messages: number;
  bytes: number;
  seconds: number;
  complete: boolean;
  error?: string;
  histogram: string;
}

export type WorkerToParent = { type: 'ready' } | { type: 'progress'; acked: number } | ProduceWorkerDone | { type: 'failed'; error: string };

const wallNow = (): number => performance.timeOrigin + performance.now();

async function produce(config: ProduceWorkerConfig, send: (message: WorkerToParent) => void, go: Promise<void>): Promise<void> {
  const client = new Client({ brokers: [config.broker], clientId: 'spool-bench-producer' });
  const producer = client.producer({
    acks: config.acks,
    compression: config.compression,
    ...(config.lingerMs !== undefined ? { lingerMs: config.lingerMs } : {}),
    ...(config.batchBytes !== undefined ? { batchBytes: config.batchBytes } : {}),
  });
  try {
    // Connect and learn the partitions before the clock starts.
    await client.admin().describeTopics({ topics: [config.topic] });
    send({ type: 'ready' });
    await go;
    let acked = 0;
    let reportedMs = 0;
    const cache = new Map<number, Array<{ value: Buffer }>>();
    const target: TargetProducer = {
      batchMessages: config.batchMessages,
      maxInFlightMessages: config.maxInFlightMessages,
      async publish(value: Buffer, count: number) {
        let messages = cache.get(count);
        if (!messages) cache.set(count, (messages = Array.from({ length: count }, () => ({ value }))));
        await producer.send({ topic: config.topic, messages });
        acked += count;
        const now = Date.now();
        if (now - reportedMs >= 100) {
          reportedMs = now;
          send({ type: 'progress', acked });
        }
      },
      close: () => producer.close(),
    };
    const workload: Workload = { ...WORKLOADS.W1, messages: config.messages, messageBytes: config.messageBytes, timeoutMs: config.timeoutMs };
    const histogram = new LatencyHistogram();
    const startWallMs = wallNow();
    const measurement = await runThroughput(target, workload, histogram);
    send({
      type: 'done',
      startWallMs,
      messages: measurement.messages,
      bytes: measurement.bytes,
      seconds: measurement.seconds,
      complete: measurement.complete,
      ...(measurement.error !== undefined ? { error: measurement.error } : {}),
      histogram: histogram.encode(),
    });
  } finally {
    await client.close();
  }
}

if (process.send !== undefined) serveRunWorker(produce);
