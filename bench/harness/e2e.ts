// `bench/cli.ts e2e`: end-to-end latency. One producer sends --size-byte messages at a fixed
// --rate for --duration, one send() per message (lingerMs 0 by default: a latency workload
// should not wait for a batch to fill); one consumer in the same process, assigned every
// partition of the fresh topic, long-polls (maxWaitMs) and records, for every message, the
// time from its *scheduled* send time (written into its first 8 bytes) to its arrival in
// eachBatch. Counting from the schedule, not from the actual send() call, means a stall of
// the sender or the broker is charged to every message that should have gone out during it
// (no coordinated omission). The broker is a separate process; producer and consumer share
// this one, so one clock (performance.now()) serves both ends.

import { performance } from 'node:perf_hooks';
import type { Acks } from '../../src/client/index.js';
import type { BenchBroker } from './broker-process.js';
import { benchClient, benchTopicName, createBenchTopic, deleteBenchTopic, sleep } from './common.js';
import { LatencyHistogram } from './histogram.js';
import type { MachineInfo } from './machine.js';
import { Progress } from './progress.js';
import { makeBenchResult, type BenchResult } from './result.js';
import { makePayload } from './runner.js';

export interface E2eBenchOptions {
  ratePerSec: number;
  durationMs: number;
  size: number;
  partitions: number;
  acks: Acks;
  lingerMs: number;
  maxWaitMs: number;
  compression: 'none' | 'gzip';
  /** How long after the last scheduled send the consumer may take to receive everything. */
  drainMs: number;
}

export const TIMESTAMP_BYTES = 8;

export async function benchE2e(options: E2eBenchOptions, broker: BenchBroker, machine: MachineInfo): Promise<BenchResult> {
  if (options.size < TIMESTAMP_BYTES) throw new Error(`--size must be at least ${TIMESTAMP_BYTES} bytes for e2e (the send time rides in the message)`);
  const client = benchClient(broker.address, 'spool-bench');
  const topic = benchTopicName('e2e');
  const total = Math.max(1, Math.round((options.ratePerSec * options.durationMs) / 1000));
  const histogram = new LatencyHistogram();
  const progress = new Progress('e2e', total);
  let received = 0;
  let bytes = 0;
  let sendError: string | undefined;
  const consumer = client.consumer({ maxWaitMs: options.maxWaitMs, maxBytesPerPartition: 4 * 1024 * 1024 });
  const producer = client.producer({ acks: options.acks, lingerMs: options.lingerMs, compression: options.compression });
  try {
    await createBenchTopic(client, topic, options.partitions);
    await consumer.assign(Array.from({ length: options.partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    let lastReceived = 0;
    const running = consumer.run({
      eachBatch: ({ batch }) => {
        const now = performance.now();
        for (const message of batch.messages) {
          const value = message.value;
          if (value === null || value.length < TIMESTAMP_BYTES) continue;
          histogram.recordMs(now - value.readDoubleLE(0));
          bytes += value.length;
        }
        received += batch.messages.length;
        lastReceived = now;
        progress.update(received);
      },
    });
    // Connect the producer and learn the partitions before the schedule starts.
    await client.admin().describeTopics({ topics: [topic] });

    const base = makePayload(options.size);
    const intervalMs = 1000 / options.ratePerSec;
    const start = performance.now();
    let sent = 0;
    while (sent < total && sendError === undefined) {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) {
        const value = Buffer.from(base);
        value.writeDoubleLE(start + sent * intervalMs, 0);
        sent++;
        producer.send({ topic, messages: [{ value }] }).catch((error: unknown) => {
          sendError ??= error instanceof Error ? error.message : String(error);
        });
      }
      // Timers fire at ~1 ms granularity; the lateness counts, since latency starts at the schedule.
      await sleep(Math.max(0, start + sent * intervalMs - performance.now()));
    }
    const deadline = performance.now() + options.drainMs;
    while (received < sent && sendError === undefined && performance.now() < deadline) await sleep(5);
    progress.done();
    await consumer.close();
    await running.catch(() => undefined); // closing ends run(); an earlier failure shows as missing messages
    const complete = received >= total && sendError === undefined;
    return makeBenchResult(
      {
        workload: 'e2e',
        title: `${options.ratePerSec.toLocaleString('en-US')} msg/s for ${options.durationMs / 1000} s, send to receive, linger ${options.lingerMs} ms`,
        messageBytes: options.size,
        acks: String(options.acks),
        fsyncMode: broker.fsyncMode,
        partitions: options.partitions,
        producers: 1,
        consumers: 1,
        lingerMs: options.lingerMs,
        compression: options.compression,
        ratePerSec: options.ratePerSec,
        broker: broker.own ? 'own' : broker.address,
      },
      {
        messages: received,
        bytes,
        seconds: (Math.max(lastReceived, start) - start) / 1000,
        latency: histogram.summary(),
        complete,
        error: sendError ?? (complete ? undefined : `received ${received} of ${total} within ${options.drainMs} ms after the last send`),
      },
      machine,
    );
  } finally {
    progress.done();
    await consumer.close();
    if (!broker.own) await deleteBenchTopic(client, topic);
    await client.close();
  }
}
