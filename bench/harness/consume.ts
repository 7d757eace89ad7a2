// `bench/cli.ts consume`: replay of a topic from its beginning. Without --topic, it first
// fills a fresh topic of --partitions with --messages of --size bytes (not measured). Then:
//   --consumers 1  one consumer in this process, every partition assigned from 'earliest'
//                  (no group), read with run({ eachBatch }); clock from the first request
//                  to the last message.
//   --consumers N  a group of N members, each a child process (group-worker.ts); they join
//                  with their partitions paused, the clock starts when the group is stable
//                  and all are told to go, and stops at the last message any consumed.

import { performance } from 'node:perf_hooks';
import type { Client } from '../../src/client/index.js';
import type { BenchBroker } from './broker-process.js';
import { benchClient, benchTopicName, createBenchTopic, deleteBenchTopic, fillTopic, sleep, waitUntil, wallNow } from './common.js';
import type { MachineInfo } from './machine.js';
import { failed, groupStable, Member, stopMembers } from './members.js';
import { Progress } from './progress.js';
import { makeBenchResult, type BenchMeasurement, type BenchResult } from './result.js';

export interface ConsumeBenchOptions {
  messages: number;
  size: number;
  partitions: number;
  consumers: number;
  /** Replay this existing topic instead of filling a fresh one. */
  topic?: string;
  timeoutMs: number;
}

async function topicSize(client: Client, topic: string): Promise<{ partitions: number; messages: number }> {
  const [earliest, latest] = await Promise.all([client.admin().listOffsets({ topic, timestamp: 'earliest' }), client.admin().listOffsets({ topic, timestamp: 'latest' })]);
  let messages = 0;
  for (const end of latest) messages += end.offset - (earliest.find((start) => start.partition === end.partition)?.offset ?? 0);
  return { partitions: latest.length, messages };
}

async function replayAlone(client: Client, topic: string, partitions: number, total: number, timeoutMs: number, progress: Progress): Promise<BenchMeasurement> {
  const consumer = client.consumer({ maxBytesPerPartition: 4 * 1024 * 1024 });
  let count = 0;
  let bytes = 0;
  const start = performance.now();
  let last = start;
  const timer = setTimeout(() => void consumer.close(), timeoutMs);
  try {
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    await consumer.run({
      eachBatch: ({ batch }) => {
        count += batch.messages.length;
        for (const message of batch.messages) bytes += message.value?.length ?? 0;
        last = performance.now();
        progress.update(count);
        if (count >= total) void consumer.close();
      },
    });
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
  const complete = count >= total;
  return { messages: count, bytes, seconds: (last - start) / 1000, complete, error: complete ? undefined : `timeout after ${timeoutMs} ms` };
}

async function replayGroup(client: Client, address: string, topic: string, partitions: number, consumers: number, total: number, timeoutMs: number, progress: Progress): Promise<BenchMeasurement> {
  const group = benchTopicName('consume-group');
  const members = Array.from({ length: consumers }, () => new Member({ broker: address, group, topic, sessionTimeoutMs: 10_000, paused: true }));
  try {
    const check = (): void => {
      const failure = failed(members);
      if (failure !== undefined) throw new Error(`a group member failed: ${failure}`);
    };
    await waitUntil(async () => (check(), groupStable(client, group, consumers, partitions)), 60_000, `a stable group of ${consumers}`);
    await waitUntil(() => (check(), members.reduce((sum, member) => sum + member.assigned.size, 0) >= partitions), 30_000, 'every partition assigned');
    const goWallMs = wallNow();
    for (const member of members) member.go();
    const counted = (): number => members.reduce((sum, member) => sum + member.count, 0);
    const deadline = Date.now() + timeoutMs;
    while (counted() < total && Date.now() < deadline) {
      check();
      progress.update(counted());
      await sleep(20);
    }
    const count = counted();
    const complete = count >= total;
    const endWallMs = Math.max(...members.map((member) => member.lastWallMs));
    return {
      messages: count,
      bytes: members.reduce((sum, member) => sum + member.bytes, 0),
      seconds: Math.max(0, endWallMs - goWallMs) / 1000,
      complete,
      error: complete ? undefined : `timeout after ${timeoutMs} ms`,
    };
  } finally {
    await stopMembers(members);
  }
}

export async function benchConsume(options: ConsumeBenchOptions, broker: BenchBroker, machine: MachineInfo): Promise<BenchResult> {
  const client = benchClient(broker.address, 'spool-bench');
  const ownTopic = options.topic === undefined;
  const topic = options.topic ?? benchTopicName('consume');
  try {
    let partitions = options.partitions;
    let total = options.messages;
    if (ownTopic) {
      await createBenchTopic(client, topic, partitions);
      const filling = new Progress('fill', total);
      await fillTopic(client, topic, total, options.size, partitions, (done) => filling.update(done));
      filling.done();
    } else {
      ({ partitions, messages: total } = await topicSize(client, topic));
      if (total === 0) throw new Error(`topic ${topic} is empty`);
    }
    const progress = new Progress('consume', total);
    const measurement =
      options.consumers === 1
        ? await replayAlone(client, topic, partitions, total, options.timeoutMs, progress)
        : await replayGroup(client, broker.address, topic, partitions, options.consumers, total, options.timeoutMs, progress);
    progress.done();
    const messageBytes = measurement.messages > 0 ? Math.round(measurement.bytes / measurement.messages) : options.size;
    const w3 = ownTopic && options.consumers === 1 && partitions === 1 && total === 1_000_000 && options.size === 100;
    return makeBenchResult(
      {
        workload: 'consume',
        title: `replay ${ownTopic ? '' : `${topic} `}from start, ${options.consumers === 1 ? '1 consumer' : `group of ${options.consumers}`}, ${partitions} partition${partitions === 1 ? '' : 's'}`,
        messageBytes,
        acks: ownTopic ? '1 (fill)' : 'n/a',
        fsyncMode: broker.fsyncMode,
        partitions,
        consumers: options.consumers,
        broker: broker.own ? 'own' : broker.address,
        ...(w3 ? { comparableTo: 'W3' as const } : {}),
      },
      measurement,
      machine,
    );
  } finally {
    if (ownTopic && !broker.own) await deleteBenchTopic(client, topic);
    await client.close();
  }
}
