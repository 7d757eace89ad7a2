// Proves share groups across processes (the test): 8 share consumers, each in its
// own node process running the built SDK (fixtures/share-worker.mjs), on a 2-partition
// topic of 20,000 messages (SPOOL_TEST_SHARE_MESSAGES overrides, e.g. the 100,000),
// each handler sleeping 0-2 ms: every consumer accepts at least 5% of the messages and
// every message is accepted exactly once (the broker confirmed each accept once, and the
// share group's start offsets reach the log end). The workers start together on a "go"
// line, after all of them subscribed, so process start-up time does not decide the shares.
// SPOOL_TEST_SHARE_VERBOSE=1 prints each process's count. Needs `npm run build` (dist/).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const WORKER = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/share-worker.mjs');
const MESSAGES = Number(process.env.SPOOL_TEST_SHARE_MESSAGES ?? 20_000);
const WORKERS = 8;

const shared = useBroker();
const workers: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
});

interface Worker {
  process: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: string;
}

function startWorker(topic: string, groupId: string): Worker {
  const child = spawn(process.execPath, [WORKER, shared.address(), topic, groupId]);
  workers.push(child);
  const worker: Worker = { process: child, lines: [], stderr: '' };
  createInterface({ input: child.stdout }).on('line', (line) => worker.lines.push(line));
  child.stderr.on('data', (chunk: Buffer) => (worker.stderr += chunk.toString()));
  return worker;
}

describe('share consumers in separate processes', () => {
  it(`8 processes share ${MESSAGES} messages on 2 partitions: each at least 5%, each message accepted once`, async () => {
    const client = shared.client();
    const topic = randomTopic('share-procs');
    const groupId = `g-${topic}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = client.producer();
    for (let start = 0; start < MESSAGES; start += 1_000) {
      const messages = Array.from({ length: Math.min(1_000, MESSAGES - start) }, (_, i) => ({ value: `m${start + i}`, partition: (start + i) % 2 }));
      await producer.send({ topic, messages });
    }
    await producer.close();

    const started = Array.from({ length: WORKERS }, () => startWorker(topic, groupId));
    await waitFor(() => started.every((worker) => worker.lines.includes('ready')), 30_000);
    for (const worker of started) worker.process.stdin.write('go\n');

    // Done when the group's start offset reached the log end on both partitions.
    const total = async (): Promise<number> => {
      const [description] = await client.admin().describeShareGroups({ groupIds: [groupId] }).catch(() => []);
      return (description?.partitions ?? []).reduce((sum, entry) => sum + entry.startOffset, 0);
    };
    await waitFor(async () => (await total()) === MESSAGES, 120_000, 200);

    for (const worker of started) worker.process.stdin.write('stop\n');
    await waitFor(() => started.every((worker) => worker.lines.length >= 2), 30_000);
    const perWorker = started.map((worker) => JSON.parse(worker.lines[worker.lines.length - 1]!) as string[]);
    const all = perWorker.flat();
    expect(all.length, started.map((worker) => worker.stderr).join('')).toBe(MESSAGES);
    expect(new Set(all).size).toBe(MESSAGES);
    if (process.env.SPOOL_TEST_SHARE_VERBOSE !== undefined) console.log(`accepted per process: ${perWorker.map((accepted) => accepted.length).join(" ")}`);
    for (const accepted of perWorker) expect(accepted.length).toBeGreaterThanOrEqual(MESSAGES * 0.05);
  }, 180_000);
});
