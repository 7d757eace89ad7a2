// `bench/cli.ts group`: the consumer-group benchmark (throughput and failover), from the CLI.
// Fills a topic of --partitions (default 8) with --messages of --size bytes, then:
//   throughput  a group of 1, 2 and 4 members (--members), each a child process
//               (group-worker.ts), consuming the whole topic with run({ eachBatch }) and
//               auto-commit; members join with partitions paused; the clock starts when
//               the group is stable and every member is told to go, and stops at the
//               last message consumed. msgs/s of the group in total.
//   failover    3 members with a --session-timeout-ms session while messages keep
//               arriving (~8k msg/s); one is SIGKILLed; the time until each of its
//               partitions is consumed again by a survivor (max over its partitions).
//               Expected: roughly the session timeout, plus up to one heartbeat interval.

import type { Client } from '../../src/client/index.js';
import type { BenchBroker } from './broker-process.js';
import { benchClient, benchTopicName, createBenchTopic, deleteBenchTopic, fillTopic, sleep, waitUntil, wallNow } from './common.js';
import type { MachineInfo } from './machine.js';
import { failed, groupStable, Member, stopMembers } from './members.js';
import { Progress } from './progress.js';
import { makeBenchResult, type BenchResult } from './result.js';

export interface GroupBenchOptions {
  messages: number;
  size: number;
  partitions: number;
  memberCounts: number[];
  sessionTimeoutMs: number;
  failover: boolean;
  timeoutMs: number;
}

function check(members: Member[]): void {
  const failure = failed(members);
  if (failure !== undefined) throw new Error(`a group member failed: ${failure}`);
}

async function throughput(client: Client, address: string, topic: string, options: GroupBenchOptions, count: number): Promise<{ messages: number; bytes: number; seconds: number; complete: boolean }> {
  const group = benchTopicName(`group-${count}`);
  const members = Array.from({ length: count }, () => new Member({ broker: address, group, topic, sessionTimeoutMs: 10_000, paused: true }));
  const progress = new Progress(`group of ${count}`, options.messages);
  try {
    await waitUntil(async () => (check(members), groupStable(client, group, count, options.partitions)), 60_000, `a stable group of ${count}`);
    await waitUntil(() => (check(members), members.reduce((sum, member) => sum + member.assigned.size, 0) >= options.partitions), 30_000, 'every partition assigned');
    const goWallMs = wallNow();
    for (const member of members) member.go();
    const counted = (): number => members.reduce((sum, member) => sum + member.count, 0);
    const deadline = Date.now() + options.timeoutMs;
    while (counted() < options.messages && Date.now() < deadline) {
      check(members);
      progress.update(counted());
      await sleep(20);
    }
    const endWallMs = Math.max(...members.map((member) => member.lastWallMs));
    const messages = counted();
    return { messages, bytes: members.reduce((sum, member) => sum + member.bytes, 0), seconds: Math.max(0, endWallMs - goWallMs) / 1000, complete: messages >= options.messages };
  } finally {
    progress.done();
    await stopMembers(members);
  }
}

async function failover(client: Client, address: string, topic: string, options: GroupBenchOptions): Promise<{ failoverMs: number; moved: number }> {
  const group = benchTopicName('failover');
  // Start at the end: only the messages produced from now on are consumed.
  await client.admin().resetOffsets({ groupId: group, topic, to: 'latest' });
  const members = Array.from({ length: 3 }, () => new Member({ broker: address, group, topic, sessionTimeoutMs: options.sessionTimeoutMs, paused: false }));
  const producer = client.producer({ acks: 1, lingerMs: 2 });
  let producing = true;
  const messages = Array.from({ length: options.partitions * 10 }, (_, index) => ({ value: 'x', partition: index % options.partitions }));
  const feeding = (async () => {
    while (producing) {
      await producer.send({ topic, messages });
      await sleep(10); // every partition gets data every ~10 ms
    }
  })();
  try {
    await waitUntil(async () => (check(members), groupStable(client, group, 3, options.partitions)), 60_000, 'a stable group of 3');
    await waitUntil(() => members.every((member) => member.assigned.size > 0 && member.count > 0), 30_000, 'every member consuming');
    await waitUntil(() => members.reduce((sum, member) => sum + member.assigned.size, 0) === options.partitions, 30_000, 'revocations reported');
    const [victim, ...survivors] = members;
    if (!victim) throw new Error('no members');
    const moved = [...victim.assigned];
    for (const member of survivors) member.firsts.clear();
    const killWallMs = wallNow();
    victim.child.kill('SIGKILL');
    const takenOver = (partition: number): number | undefined => {
      const times = survivors.map((member) => member.firsts.get(partition)).filter((time): time is number => time !== undefined);
      return times.length > 0 ? Math.min(...times) : undefined;
    };
    await waitUntil(() => (check(survivors), moved.every((partition) => takenOver(partition) !== undefined)), 60_000, 'the partitions consumed again');
    const resumedWallMs = Math.max(...moved.map((partition) => takenOver(partition) ?? killWallMs));
    return { failoverMs: Math.round(resumedWallMs - killWallMs), moved: moved.length };
  } finally {
    producing = false;
    await feeding.catch(() => undefined); // a send failing while we stop does not change the result
    await producer.close();
    await stopMembers(members);
  }
}

export async function benchGroup(options: GroupBenchOptions, broker: BenchBroker, machine: MachineInfo): Promise<BenchResult[]> {
  const client = benchClient(broker.address, 'spool-bench');
  const topic = benchTopicName('group');
  const results: BenchResult[] = [];
  const common = {
    messageBytes: options.size,
    acks: '1 (fill)',
    fsyncMode: broker.fsyncMode,
    partitions: options.partitions,
    broker: broker.own ? 'own' : broker.address,
  };
  try {
    await createBenchTopic(client, topic, options.partitions);
    const filling = new Progress('fill', options.messages);
    await fillTopic(client, topic, options.messages, options.size, options.partitions, (done) => filling.update(done));
    filling.done();
    for (const count of options.memberCounts) {
      const measured = await throughput(client, broker.address, topic, options, count);
      results.push(
        makeBenchResult(
          { ...common, workload: 'group-throughput', title: `group of ${count} member process${count === 1 ? '' : 'es'}, ${options.partitions} partitions`, consumers: count },
          { ...measured, error: measured.complete ? undefined : `timeout after ${options.timeoutMs} ms` },
          machine,
        ),
      );
    }
    if (options.failover) {
      const { failoverMs, moved } = await failover(client, broker.address, topic, options);
      const result = makeBenchResult(
        { ...common, workload: 'group-failover', title: `3 members, SIGKILL one (${moved} partitions move), session ${options.sessionTimeoutMs} ms`, consumers: 3, failoverMs },
        { messages: 0, bytes: 0, seconds: failoverMs / 1000, complete: true },
        machine,
      );
      results.push(result);
    }
    return results;
  } finally {
    if (!broker.own) await deleteBenchTopic(client, topic);
    await client.close();
  }
}
