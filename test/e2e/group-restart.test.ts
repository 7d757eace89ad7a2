// Proves that committed offsets are durable and that members find their way back: a
// member process commits part of a topic and leaves; the broker is killed with SIGKILL
// and restarted on the same data directory (and port). What must survive: the group's
// committed offsets, exactly; a member started afterwards resumes right after them (each
// message after the commit once, nothing before it). A second member that stays up
// through the broker crash rejoins on its own (its heartbeat gets UNKNOWN_MEMBER_ID from
// the new broker) and goes on from its group's last commit: every message is processed,
// and duplicates are only what it processed but had not committed before the crash.
import { afterAll, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { startBroker, randomTopic, tempDir, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { spawnMember, type ChildMember } from './helpers.js';

const dataDir = tempDir();
let broker: BrokerProcess | undefined;
const members: ChildMember[] = [];
const clients: Client[] = [];

afterAll(async () => {
  await Promise.allSettled(members.map((member) => member.kill()));
  await Promise.allSettled(clients.map((client) => client.close()));
  await broker?.stop();
  broker?.cleanup();
});

function connect(address: string): Client {
  const client = new Client({ brokers: [address] });
  clients.push(client);
  return client;
}

async function produce(client: Client, topic: string, count: number, prefix: string): Promise<void> {
  const producer = client.producer({ lingerMs: 1 });
  await producer.send({ topic, messages: Array.from({ length: count }, (_, index) => ({ value: `${prefix}-${index}`, partition: index % 2 })) });
  await producer.close();
}

const offsetsOf = (entries: string[], partition: number): number[] =>
  entries.filter((entry) => entry.startsWith(`${partition}:`)).map((entry) => Number(entry.split(':')[1]));

it('committed offsets survive a broker kill -9; a restarted member resumes after its last commit; a live member rejoins', async () => {
  broker = await startBroker({ dataDir, args: ['--fsync', 'never'] });
  const port = broker.port;
  let client = connect(broker.address);
  const topic = randomTopic('restart');
  const quitter = randomTopic('quit');
  const stayer = randomTopic('stay');
  await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
  await produce(client, topic, 200, 'a');

  // Group 1: a member takes 70 messages, commits them on close, and exits.
  const first = spawnMember({ broker: broker.address, group: quitter, topic, sessionMs: 1000, maxMessages: 70, fromBeginning: true });
  members.push(first);
  expect(await first.exited).toBe(0);
  expect(first.processed).toHaveLength(70);
  const before = await client.admin().fetchOffsets({ groupId: quitter });
  expect(before.reduce((sum, entry) => sum + entry.offset, 0)).toBe(70);

  // Group 2: a member that lives through the crash, committing every 300 ms.
  const live = spawnMember({ broker: broker.address, group: stayer, topic, sessionMs: 1000, commitIntervalMs: 300, fromBeginning: true });
  members.push(live);
  await waitFor(() => live.processed.length === 200, 20_000);
  await produce(client, topic, 40, 'b');
  await waitFor(() => live.processed.length === 240, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 700)); // an auto-commit has stored 120 + 120
  // Processed after the last auto-commit and before the crash: these may come again.
  await produce(client, topic, 20, 'c');
  await waitFor(() => live.processed.length === 260, 10_000);
  const liveBeforeCrash = live.processed.length;

  await broker.kill();
  broker = await startBroker({ dataDir, port, args: ['--fsync', 'never'] });
  client = connect(broker.address);
  const after = await client.admin().fetchOffsets({ groupId: quitter });
  expect(after.sort((a, b) => a.partition - b.partition)).toEqual(before.sort((a, b) => a.partition - b.partition));
  const stayerCommitted = new Map((await client.admin().fetchOffsets({ groupId: stayer })).map((entry) => [entry.partition, entry.offset]));

  // The live member goes on fetching from the new broker until its heartbeat learns that the
  // group forgot it (UNKNOWN_MEMBER_ID): then it drops its partitions uncommitted, rejoins,
  // and starts again at the group's last commit.
  await produce(client, topic, 40, 'd');
  await waitFor(() => live.events.lastIndexOf('assigned 0,1') > live.events.indexOf('lost 0,1') && live.events.includes('lost 0,1'), 20_000).catch((error: Error) => {
    throw new Error(`${error.message}; live member events: ${live.events.join(' | ')}; exit ${String(live.child.exitCode)}; stderr: ${live.stderr()}`);
  });
  const rejoinedAt = live.eventAt[live.events.lastIndexOf('assigned 0,1')]!;
  await waitFor(() => [0, 1].every((partition) => offsetsOf(live.processed.slice(rejoinedAt), partition).includes(149)), 20_000).catch((error: Error) => {
    throw new Error(`${error.message}; live member events: ${live.events.join(' | ')} at ${live.eventAt.join(',')}; processed ${live.processed.slice(liveBeforeCrash).join(' ')}`);
  });
  const again = live.processed.slice(rejoinedAt);
  for (const partition of [0, 1]) {
    const offsets = offsetsOf(again, partition);
    // After rejoining it resumed exactly at the group's last commit and lost nothing.
    expect(Math.min(...offsets)).toBe(stayerCommitted.get(partition));
    expect(offsets).toEqual(Array.from({ length: 150 - stayerCommitted.get(partition)! }, (_, index) => stayerCommitted.get(partition)! + index));
    expect(new Set(offsetsOf(live.processed, partition)).size).toBe(150);
  }

  // Group 1 again: a new member resumes right after the commit made before the crash.
  const second = spawnMember({ broker: broker.address, group: quitter, topic, sessionMs: 1000, fromBeginning: true });
  members.push(second);
  await waitFor(() => second.processed.length === 300 - 70, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(second.processed).toHaveLength(230);
  const committedBefore = new Map(before.map((entry) => [entry.partition, entry.offset]));
  for (const partition of [0, 1]) {
    const offsets = offsetsOf(second.processed, partition);
    expect(Math.min(...offsets)).toBe(committedBefore.get(partition) ?? 0);
    expect(new Set([...offsetsOf(first.processed, partition), ...offsets]).size).toBe(150);
  }
  await second.kill('SIGTERM');
});
