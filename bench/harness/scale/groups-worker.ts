// A consumer process of the scale benchmark's groups point: hosts `groups.length` consumer
// groups of one member each (one Client each: its own connections), every one reading the
// whole topic from the beginning. Members join with their partitions paused, so no fetch
// work happens before the clock starts; 'go' resumes them all.
// IPC: start -> ready (every group has its whole assignment); go -> one 'finished' per
// group when it has read `expectedMessages`; stop -> close and exit.

import { Client, type Consumer } from '../../../src/client/index.js';
import { wallNow } from '../common.js';
import { serveMemberWorker } from '../worker-process.js';

export interface ScaleGroupsConfig {
  broker: string;
  topic: string;
  partitions: number;
  groups: string[];
  expectedMessages: number;
}

export type ScaleGroupsMessage = { type: 'ready' } | { type: 'finished'; group: string; wallMs: number; messages: number } | { type: 'failed'; error: string };

interface Member {
  client: Client;
  consumer: Consumer;
  assigned: Set<number>;
}

async function join(config: ScaleGroupsConfig, group: string, send: (message: ScaleGroupsMessage) => void, started: () => boolean): Promise<Member> {
  const client = new Client({ brokers: [config.broker], clientId: `scale-${group}`, connectTimeoutMs: 30_000 });
  // Small fetch slices and buffers: 25 members share a process; the topic is read, not kept.
  const consumer = client.consumer({ groupId: group, sessionTimeoutMs: 60_000, autoCommit: false, maxBytesPerPartition: 1024 * 1024, maxBufferedBytes: 8 * 1024 * 1024 });
  const member: Member = { client, consumer, assigned: new Set() };
  await consumer.subscribe({
    topics: [config.topic],
    fromBeginning: true,
    onAssigned: (partitions) => {
      if (!started()) consumer.pause(partitions);
      for (const { partition } of partitions) member.assigned.add(partition);
    },
  });
  let count = 0;
  const running = consumer.run({
    eachBatch: ({ batch }) => {
      count += batch.messages.length;
      if (count >= config.expectedMessages && count - batch.messages.length < config.expectedMessages) {
        send({ type: 'finished', group, wallMs: wallNow(), messages: count });
      }
    },
  });
  running.catch((error: unknown) => send({ type: 'failed', error: `${group}: ${error instanceof Error ? error.message : String(error)}` }));
  return member;
}

async function start(config: ScaleGroupsConfig, send: (message: ScaleGroupsMessage) => void): Promise<{ go(): void; stop(): Promise<void> }> {
  let going = false;
  const members = await Promise.all(config.groups.map((group) => join(config, group, send, () => going)));
  // Ready once every member holds every partition (one member per group).
  const deadline = Date.now() + 120_000;
  while (members.some((member) => member.assigned.size < config.partitions)) {
    if (Date.now() > deadline) throw new Error('groups did not get their assignments in 120 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  send({ type: 'ready' });
  return {
    go() {
      going = true;
      for (const member of members) member.consumer.resume(member.consumer.assigned());
    },
    async stop() {
      await Promise.all(members.map((member) => member.client.close()));
    },
  };
}

if (process.send !== undefined) serveMemberWorker(start);
