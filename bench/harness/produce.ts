// `bench/cli.ts produce`: N producers, each a child process of its own (produce-worker.ts),
// send --messages in total (split evenly) of --size bytes to a fresh topic of --partitions,
// each driven by the harness's throughput loop (runner.ts: send() of 1,000 messages per call,
// at most 20,000 unacknowledged per producer, as the peer benchmarks drive spool). The clock
// runs from the common "go" to the last acknowledgement of any producer; the send-to-ack
// latency histograms of the producers are merged.

import type { ChildProcess } from 'node:child_process';
import type { Acks } from '../../src/client/index.js';
import { LatencyHistogram } from './histogram.js';
import type { MachineInfo } from './machine.js';
import { Progress } from './progress.js';
import type { ProduceWorkerConfig, ProduceWorkerDone, WorkerToParent } from './produce-worker.js';
import { makeBenchResult, type BenchResult } from './result.js';
import { benchClient, benchTopicName, createBenchTopic, deleteBenchTopic, forkWorker, wallNow } from './common.js';
import type { BenchBroker } from './broker-process.js';
import type { WorkloadId } from './workloads.js';

export interface ProduceBenchOptions {
  messages: number;
  size: number;
  partitions: number;
  producers: number;
  acks: Acks;
  lingerMs?: number;
  batchBytes?: number;
  compression: 'none' | 'gzip';
  timeoutMs: number;
}

const BATCH_MESSAGES = 1000;
const MAX_IN_FLIGHT_MESSAGES = 20_000;

/** The peer workload these settings reproduce (W1, W2), if any. */
function comparable(options: ProduceBenchOptions): WorkloadId | undefined {
  const plain = options.partitions === 1 && options.producers === 1 && options.acks === 'all' && options.compression === 'none' && options.lingerMs === undefined && options.batchBytes === undefined;
  if (!plain) return undefined;
  if (options.messages === 1_000_000 && options.size === 100) return 'W1';
  if (options.messages === 200_000 && options.size === 1024) return 'W2';
  return undefined;
}

function workerConfig(options: ProduceBenchOptions, address: string, topic: string, messages: number): ProduceWorkerConfig {
  return {
    broker: address,
    topic,
    messages,
    messageBytes: options.size,
    acks: options.acks,
    compression: options.compression,
    batchMessages: BATCH_MESSAGES,
    maxInFlightMessages: MAX_IN_FLIGHT_MESSAGES,
    timeoutMs: options.timeoutMs,
    ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
    ...(options.batchBytes !== undefined ? { batchBytes: options.batchBytes } : {}),
  };
}

/** Forks one producer process and sends it its config; `ready` and `done` follow its reports. */
function spawnProducer(index: number, config: ProduceWorkerConfig, onProgress: (acked: number) => void): { worker: ChildProcess; ready: Promise<void>; done: Promise<ProduceWorkerDone> } {
  const worker = forkWorker('produce-worker');
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const done = new Promise<ProduceWorkerDone>((resolve, reject) => {
    worker.on('message', (message: WorkerToParent) => {
      if (message.type === 'ready') onReady();
      else if (message.type === 'progress') onProgress(message.acked);
      else if (message.type === 'done') resolve(message);
      else reject(new Error(`producer ${index + 1}: ${message.error}`));
    });
    worker.once('exit', (code, signal) => reject(new Error(`producer ${index + 1} exited (${signal ?? code}) before it reported`)));
  });
  worker.send({ type: 'start', config });
  return { worker, ready, done };
}

export async function benchProduce(options: ProduceBenchOptions, broker: BenchBroker, machine: MachineInfo): Promise<BenchResult> {
  const client = benchClient(broker.address, 'spool-bench');
  const topic = benchTopicName('produce');
  const workers: ChildProcess[] = [];
  const progress = new Progress('produce', options.messages);
  try {
    await createBenchTopic(client, topic, options.partitions);
    const acked = new Array<number>(options.producers).fill(0);
    const producers = Array.from({ length: options.producers }, (_, index) => {
      const share = Math.floor(options.messages / options.producers) + (index < options.messages % options.producers ? 1 : 0);
      const producer = spawnProducer(index, workerConfig(options, broker.address, topic, share), (count) => {
        acked[index] = count;
        progress.update(acked.reduce((sum, value) => sum + value, 0));
      });
      workers.push(producer.worker);
      return producer;
    });
    const results = producers.map((producer) => producer.done);
    // A worker that dies before it is ready fails the run instead of hanging it.
    await Promise.race([Promise.all(producers.map((producer) => producer.ready)), Promise.all(results)]);
    const goWallMs = wallNow();
    for (const worker of workers) worker.send({ type: 'go' });
    const done = await Promise.all(results);
    progress.done();
    const histogram = new LatencyHistogram();
    for (const report of done) histogram.add(LatencyHistogram.decode(report.histogram));
    const endWallMs = Math.max(...done.map((report) => report.startWallMs + report.seconds * 1000));
    const errors = done.filter((report) => report.error !== undefined).map((report) => report.error);
    const like = comparable(options);
    return makeBenchResult(
      {
        workload: 'produce',
        title: `${options.producers} producer${options.producers === 1 ? '' : 's'}, ${options.partitions} partition${options.partitions === 1 ? '' : 's'}, acks ${options.acks}${options.compression === 'none' ? '' : `, ${options.compression}`}`,
        messageBytes: options.size,
        acks: String(options.acks),
        fsyncMode: broker.fsyncMode,
        partitions: options.partitions,
        producers: options.producers,
        lingerMs: options.lingerMs ?? 5,
        batchBytes: options.batchBytes ?? 256 * 1024,
        compression: options.compression,
        broker: broker.own ? 'own' : broker.address,
        ...(like ? { comparableTo: like } : {}),
      },
      {
        messages: done.reduce((sum, report) => sum + report.messages, 0),
        bytes: done.reduce((sum, report) => sum + report.bytes, 0),
        seconds: (endWallMs - goWallMs) / 1000,
        latency: histogram.summary(),
        complete: done.every((report) => report.complete),
        error: errors.length > 0 ? errors.join('; ') : undefined,
      },
      machine,
    );
  } finally {
    progress.done();
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
    if (!broker.own) await deleteBenchTopic(client, topic);
    await client.close();
  }
}
