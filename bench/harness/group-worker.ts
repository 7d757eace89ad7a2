// One consumer-group member of `bench/cli.ts consume --consumers N` and `bench/cli.ts group`,
// run as a child process (child_process.fork, IPC) so members do not share an event loop.
// Protocol (IPC messages):
//   parent -> worker  { type: 'start', config }  worker subscribes; { type: 'ready' }
//   worker -> parent  { type: 'assigned' | 'revoked', partitions }
//                     { type: 'first', partition, wallMs }  first batch of a newly assigned partition
//                     { type: 'progress', count, bytes, lastWallMs }  every 50 ms while it changes
//   parent -> worker  { type: 'go' }    resumes partitions paused until then (config.paused)
//   parent -> worker  { type: 'stop' }  closes the consumer (leaves the group) and exits

import { performance } from 'node:perf_hooks';
import { Client } from '../../src/client/index.js';
import { serveMemberWorker } from './worker-process.js';

export interface GroupWorkerConfig {
  broker: string;
  group: string;
  topic: string;
  sessionTimeoutMs: number;
  /** Pause newly assigned partitions until 'go', so no fetch work happens before the clock starts. */
  paused: boolean;
}

export type GroupWorkerMessage =
  | { type: 'ready' }
  | { type: 'assigned' | 'revoked'; partitions: number[] }
  | { type: 'first'; partition: number; wallMs: number }
  | { type: 'progress'; count: number; bytes: number; lastWallMs: number }
  | { type: 'failed'; error: string };

const wallNow = (): number => performance.timeOrigin + performance.now();

async function member(config: GroupWorkerConfig, send: (message: GroupWorkerMessage) => void): Promise<{ go(): void; stop(): Promise<void> }> {
  const client = new Client({ brokers: [config.broker], clientId: 'spool-bench-member' });
  const consumer = client.consumer({ groupId: config.group, sessionTimeoutMs: config.sessionTimeoutMs, maxBytesPerPartition: 4 * 1024 * 1024 });
  let going = !config.paused;
  const fresh = new Set<number>();
  await consumer.subscribe({
    topics: [config.topic],
    fromBeginning: true,
    onAssigned: (partitions) => {
      if (!going) consumer.pause(partitions);
      for (const { partition } of partitions) fresh.add(partition);
      send({ type: 'assigned', partitions: partitions.map((entry) => entry.partition) });
    },
    onRevoked: (partitions) => send({ type: 'revoked', partitions: partitions.map((entry) => entry.partition) }),
  });
  send({ type: 'ready' });
  let count = 0;
  let bytes = 0;
  let lastWallMs = 0;
  let reported = 0;
  const timer = setInterval(() => {
    if (count === reported) return;
    reported = count;
    send({ type: 'progress', count, bytes, lastWallMs });
  }, 50);
  const running = consumer.run({
    eachBatch: ({ batch }) => {
      count += batch.messages.length;
      for (const message of batch.messages) bytes += message.value?.length ?? 0;
      lastWallMs = wallNow();
      if (fresh.delete(batch.partition)) send({ type: 'first', partition: batch.partition, wallMs: lastWallMs });
    },
  });
  running.catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }));
  return {
    go() {
      if (going) return;
      going = true;
      consumer.resume(consumer.assigned());
    },
    async stop() {
      clearInterval(timer);
      send({ type: 'progress', count, bytes, lastWallMs });
      await client.close();
    },
  };
}

if (process.send !== undefined) serveMemberWorker(member);
