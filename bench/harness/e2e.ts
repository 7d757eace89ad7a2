// `bench/cli.ts e2e`: end-to-end latency. One producer sends --size-byte messages at a fixed
// --rate for --duration, one send() per message (lingerMs 0 by default: a latency workload
// should not wait for a batch to fill); one consumer in the same process, assigned every
// partition of the fresh topic, long-polls (maxWaitMs) and records, for every message, the
// time from its *scheduled* send time (written into its first 8 bytes) to its arrival in
// eachBatch. Counting from the schedule, not from the actual send() call, means a stall of
// the sender or the broker is charged to every message that should have gone out during it
// (no coordinated omission). The broker is a separate process; producer and consumer share
// this one, so one clock (performance.now()) serves both ends.

import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Acks } from '../../src/client/index.js';
import { Stage, stageTraceOn, stamp } from '../../src/util/stage-trace.js';
import type { BenchBroker } from './broker-process.js';
import { benchClient, benchTopicName, createBenchTopic, deleteBenchTopic, sleep } from './common.js';
import { LatencyHistogram } from './histogram.js';
import type { MachineInfo } from './machine.js';
import { Progress } from './progress.js';
import { makeBenchResult, type BenchResult } from './result.js';
import { pace, type PacerKind } from './pacer.js';
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
  /** worker: a worker thread keeps the schedule (default); timer: 1 ms setTimeout ticks (the loop before 2026-11-30). */
  pacer: PacerKind;
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
          if (stageTraceOn) stamp(Stage.delivered, Number(message.offset));
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
    const cpuBefore = { client: process.cpuUsage(), brokerMs: processCpuMs(broker.child?.pid) };
    const onSendError = (error: unknown): void => {
      sendError ??= error instanceof Error ? error.message : String(error);
    };
    // A worker thread keeps the schedule (pacer.ts): 1 ms timers would add up to 1 ms to every message.
    const run = pace({
      ratePerSec: options.ratePerSec,
      total,
      stopped: () => sendError !== undefined,
      send(index, scheduledMs) {
        const value = Buffer.from(base);
        value.writeDoubleLE(scheduledMs, 0);
        if (stageTraceOn) traceSend(index, scheduledMs);
        producer.send({ topic, messages: [{ value }] }).catch(onSendError);
      },
    }, options.pacer);
    const start = run.startMs;
    const sent = await run.done;
    const deadline = performance.now() + options.drainMs;
    while (received < sent && sendError === undefined && performance.now() < deadline) await sleep(5);
    progress.done();
    await consumer.close();
    await running.catch(() => undefined); // closing ends run(); an earlier failure shows as missing messages
    const clientCpu = process.cpuUsage(cpuBefore.client);
    const brokerCpuMs = processCpuMs(broker.child?.pid);
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
        clientCpuUsPerMsg: Math.round(((clientCpu.user + clientCpu.system) / Math.max(1, received)) * 10) / 10,
        ...(brokerCpuMs !== undefined && cpuBefore.brokerMs !== undefined ? { brokerCpuUsPerMsg: Math.round(((brokerCpuMs - cpuBefore.brokerMs) * 1000 / Math.max(1, received)) * 10) / 10 } : {}),
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

/** SPOOL_STAGE_TRACE: message n (offset n of the fresh 1-partition topic) was due at `scheduledMs` and is sent now. */
function traceSend(key: number, scheduledMs: number): void {
  const nowUs = Number(process.hrtime.bigint() / 1000n);
  stamp(Stage.scheduled, key, nowUs - (performance.now() - scheduledMs) * 1000);
  stamp(Stage.enqueued, key, nowUs);
}

/**
 * CPU time of a process so far in ms (the sum of its threads' /proc/<pid>/task/<tid>/schedstat,
 * ns on CPU); undefined without a pid (an external broker) or without /proc.
 */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let totalNs = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        totalNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between the listing and the read: its time is lost (a few µs at most).
      }
    }
    return totalNs / 1e6;
  } catch {
    return undefined; // No /proc (not Linux): the record leaves the broker's CPU out.
  }
}
