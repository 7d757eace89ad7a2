// Broker memory under sustained load: `npx tsx bench/memory.ts [--gib 10] [--size 16384] [--tiny]`.
// Run `npx tsc -p tsconfig.json` first (the broker is dist/cli/main.js in a process of its own).
//
// Two phases, each against a fresh broker process (`--fsync 1000`, the default policy):
// 1. flow: one producer (acks 1, --size B values, send() of 64 messages, 16 sends
//    outstanding) pushes --gib GiB through one partition while a consumer in the same
//    process reads everything with run({ eachBatch }) as fast as it can;
// 2. slow consumer: the same producer pushes --slow-gib GiB while a consumer reads only a
//    few batches per second (it sleeps --slow-sleep-ms in each eachBatch), so the broker
//    has data a reader is far behind on and a socket that drains slowly.
// The broker's resident set size is sampled every 100 ms from /proc/<pid>/status (VmRSS,
// VmHWM at the end); the report gives the maximum, the median, and the last sample.
// The promise to check: RSS stays flat (< 200 MiB) whatever flows through, and a slow
// consumer does not grow it (fetch reads are bounded by the request's maxBytes and the
// connection's response-byte budget; the page cache, not the broker, holds the log).
//
// Back of the envelope: 10 GiB at ~300 MB/s is ~35 s; the disk needs 10 GiB free (the
// temp data directory is removed at the end).

import { readFileSync } from 'node:fs';
import { Client } from '../src/client/index.js';
import { startBroker, type BrokerProcess } from '../test/helpers/broker.js';
import { sendAll } from './send-loop.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const tiny = process.argv.includes('--tiny');
const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
const flowBytes = argument('--gib', tiny ? 0.01 : 10) * GIB;
const slowBytes = argument('--slow-gib', tiny ? 0.005 : 2) * GIB;
const size = argument('--size', 16 * 1024);
const slowSleepMs = argument('--slow-sleep-ms', tiny ? 5 : 200);
const perSend = 64;
const outstanding = 16;

interface RssSummary {
  maxMiB: number;
  medianMiB: number;
  lastMiB: number;
  hwmMiB: number;
  samples: number;
}

/** VmRSS / VmHWM of a process in MiB, from /proc (0 where there is no /proc). */
function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
    return { rssMiB: field('VmRSS'), hwmMiB: field('VmHWM') };
  } catch {
    return { rssMiB: 0, hwmMiB: 0 };
  }
}

function sampler(broker: BrokerProcess): { stop(): RssSummary } {
  const pid = broker.child.pid!;
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(memoryOf(pid).rssMiB), 100);
  return {
    stop() {
      clearInterval(timer);
      const { rssMiB, hwmMiB } = memoryOf(pid);
      samples.push(rssMiB);
      const sorted = [...samples].sort((a, b) => a - b);
      return {
        maxMiB: sorted[sorted.length - 1]!,
        medianMiB: sorted[Math.floor(sorted.length / 2)]!,
        lastMiB: rssMiB,
        hwmMiB,
        samples: samples.length,
      };
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Produces `totalBytes` of `size`-byte values while a consumer reads them; returns the broker's RSS summary. */
async function phase(name: string, totalBytes: number, consumerSleepMs: number): Promise<void> {
  const broker = await startBroker({ args: ['--fsync', '1000'] });
  const client = new Client({ brokers: [broker.address] });
  const rss = sampler(broker);
  const start = performance.now();
  let consumed = 0;
  try {
    const topic = 'memory';
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const total = Math.ceil(totalBytes / size);
    const consumer = client.consumer({ autoOffsetReset: 'earliest', maxBytesPerPartition: 4 * MIB });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const reading = consumer.run({
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length;
        if (consumerSleepMs > 0) await sleep(consumerSleepMs);
        if (consumed >= total) void consumer.close();
      },
    });

    const value = Buffer.alloc(size, 'm');
    const messages = Array.from({ length: perSend }, () => ({ value }));
    const producer = client.producer({ acks: 1, lingerMs: 5 });
    await sendAll(producer, topic, messages, total, outstanding);
    await producer.close();
    const producedSeconds = (performance.now() - start) / 1000;
    // The slow consumer is not waited for: what matters is the broker while it lags.
    if (consumerSleepMs > 0) void consumer.close();
    await reading;
    const summary = rss.stop();
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `${name.padEnd(14)} ${(totalBytes / GIB).toFixed(2)} GiB of ${size} B values produced in ${producedSeconds.toFixed(1)} s ` +
        `(${((totalBytes / MIB) / producedSeconds).toFixed(0)} MiB/s), consumer read ${consumed} of ${total} msgs in ${seconds.toFixed(1)} s; ` +
        `broker RSS max ${summary.maxMiB.toFixed(0)} MiB, median ${summary.medianMiB.toFixed(0)} MiB, last ${summary.lastMiB.toFixed(0)} MiB, ` +
        `VmHWM ${summary.hwmMiB.toFixed(0)} MiB (${summary.samples} samples; acks=1, fsync 1000)`,
    );
  } finally {
    rss.stop();
    await client.close();
    await broker.stop();
    broker.cleanup();
  }
}

if (!process.argv.includes('--slow-only')) await phase('flow', flowBytes, 0);
if (!process.argv.includes('--flow-only')) await phase('slow consumer', slowBytes, slowSleepMs);
