// Pieces shared by the `bench/cli.ts` workloads: the Client of a run, topic set-up, filling a
// topic for the read benchmarks, forked worker processes, small waits.

import { fork, type ChildProcess } from 'node:child_process';
import { Client } from '../../src/client/index.js';
import { makePayload } from './runner.js';

export function benchClient(address: string, clientId: string): Client {
  return new Client({ brokers: [address], clientId, connectTimeoutMs: 3000, retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 } });
}

export function benchTopicName(kind: string): string {
  return `bench-${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createBenchTopic(client: Client, topic: string, partitions: number): Promise<void> {
  await client.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
}

/** Deletes a topic the bench created on an external broker; a failure is only a warning. */
export async function deleteBenchTopic(client: Client, topic: string): Promise<void> {
  try {
    await client.admin().deleteTopics({ topics: [topic] });
  } catch (error) {
    process.stderr.write(`spool bench: could not delete topic ${topic}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Writes `total` messages of `size` bytes round-robin over the partitions (not measured). */
export async function fillTopic(client: Client, topic: string, total: number, size: number, partitions: number, onProgress?: (done: number) => void): Promise<void> {
  const value = makePayload(size);
  const perSend = 1000;
  const messages = Array.from({ length: perSend }, (_, index) => ({ value, partition: index % partitions }));
  const producer = client.producer({ acks: 1, lingerMs: 5 });
  const inFlight = new Set<Promise<unknown>>();
  let done = 0;
  for (let sent = 0; sent < total; sent += perSend) {
    const count = Math.min(perSend, total - sent);
    const promise = producer.send({ topic, messages: count === perSend ? messages : messages.slice(0, count) }).then(() => {
      done += count;
      onProgress?.(done);
    });
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined); // the error surfaces through Promise.all below
    if (inFlight.size >= 32) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await producer.close();
}

/**
 * Forks `bench/harness/<module>.ts` with an IPC channel; its stderr goes to ours. The child
 * inherits process.execArgv, so it runs under the same tsx loader as this process.
 */
export function forkWorker(module: string): ChildProcess {
  const extension = import.meta.url.endsWith('.js') ? 'js' : 'ts';
  const path = new URL(`./${module}.${extension}`, import.meta.url);
  return fork(path, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export const wallNow = (): number => performance.timeOrigin + performance.now();
