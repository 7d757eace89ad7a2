// Proves the SDK's consumer groups against a real broker process over TCP, with every
// consumer in this process (each with its own Client, so its own sockets): subscribe
// spreads a 6-partition topic over 3 members (2 each) and every message is consumed
// exactly once while members join during production; a 4th member moves only the
// partition the assignor moves (the others are never revoked and keep flowing); commit()
// and close() store the processed positions and a restarted member resumes after them;
// fromBeginning / autoOffsetReset pick the start without a commit; reset to earliest
// replays and reset by time starts at the right offset; two groups each see everything;
// a commit with a stale epoch, from a non-member, or of a partition not owned is refused.
import { afterAll, describe, expect, it } from 'vitest';
import { Client, type Consumer, type TopicPartition } from '../../src/client/index.js';
import { ApiKey } from '../../src/protocol/index.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const { address, client: admin } = useBroker(['--fsync', 'never']);
const clients: Client[] = [];

// Registered after useBroker, so it runs first: these clients close before the broker stops.
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
});

const SESSION_MS = 1000;

function newClient(): Client {
  const client = new Client({ brokers: [address()], retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
  clients.push(client);
  return client;
}

async function createTopic(partitions: number): Promise<string> {
  const topic = randomTopic('g');
  await admin().admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  return topic;
}

/** Produces `count` messages "prefix-i" round-robin over the partitions (explicit partition). */
async function produce(topic: string, partitions: number, count: number, prefix = 'm', timestamp?: number): Promise<void> {
  const producer = admin().producer({ lingerMs: 1 });
  const messages = Array.from({ length: count }, (_, index) => ({
    value: `${prefix}-${index}`,
    partition: index % partitions,
    ...(timestamp !== undefined ? { timestamp } : {}),
  }));
  await producer.send({ topic, messages });
  await producer.close();
}

interface Member {
  consumer: Consumer;
  seen: string[];
  assigned: TopicPartition[];
  revoked: TopicPartition[];
  running: Promise<void>;
}

const key = (entry: TopicPartition): string => `${entry.topic}/${entry.partition}`;

async function startMember(groupId: string, topic: string, options: { fromBeginning?: boolean; autoCommit?: boolean } = {}): Promise<Member> {
  const consumer = newClient().consumer({ groupId, sessionTimeoutMs: SESSION_MS, maxWaitMs: 100, autoCommitIntervalMs: 200, ...(options.autoCommit === false ? { autoCommit: false } : {}) });
  const member: Member = { consumer, seen: [], assigned: [], revoked: [], running: Promise.resolve() };
  await consumer.subscribe({
    topics: [topic],
    fromBeginning: options.fromBeginning ?? true,
    onAssigned: (partitions) => void member.assigned.push(...partitions),
    onRevoked: (partitions) => {
      member.revoked.push(...partitions);
      member.assigned = member.assigned.filter((entry) => !partitions.some((gone) => key(gone) === key(entry)));
    },
  });
  member.running = consumer.run({ eachMessage: ({ message }) => void member.seen.push(`${message.partition}:${message.offset}:${message.value!.toString()}`) });
  return member;
}

async function stable(groupId: string, members: number): Promise<void> {
  await waitFor(async () => {
    const [group] = await admin().admin().describeGroups({ groupIds: [groupId] });
    return group !== undefined && group.state === 'stable' && group.members.length === members;
  }, 15_000);
}

describe('a group of members', () => {
  it('3 members share 6 partitions (2 each), every message exactly once; a 4th moves only 1 partition', async () => {
    const topic = await createTopic(6);
    const groupId = randomTopic('grp');
    const members: Member[] = [];
    await produce(topic, 6, 300, 'a');
    // Members join one after the other while data is there: partitions move between them.
    for (let index = 0; index < 3; index++) {
      members.push(await startMember(groupId, topic));
      await produce(topic, 6, 60, `b${index}`);
    }
    await stable(groupId, 3);
    await waitFor(() => members.every((member) => member.assigned.length === 2), 10_000);
    for (const member of members) expect(member.consumer.assigned()).toHaveLength(2);
    await produce(topic, 6, 300, 'c');
    const total = 300 + 3 * 60 + 300;
    await waitFor(() => members.reduce((sum, member) => sum + member.seen.length, 0) >= total, 15_000);

    // A 4th member: the uniform assignor moves 1 partition (2,2,2 -> 2,2,1,1); the rest are never revoked.
    const revokedBefore = members.map((member) => member.revoked.length);
    const ownersBefore = new Map(members.flatMap((member, index) => member.assigned.map((entry) => [key(entry), index] as const)));
    const countsBefore = members.map((member) => member.seen.length);
    const producing = (async () => {
      for (let round = 0; round < 10; round++) await produce(topic, 6, 30, `d${round}`);
    })();
    members.push(await startMember(groupId, topic));
    await stable(groupId, 4);
    await producing;
    await waitFor(() => members[3]!.assigned.length === 1, 10_000);
    const moved = members.slice(0, 3).flatMap((member, index) => member.revoked.slice(revokedBefore[index]).map(key));
    expect(moved).toHaveLength(1);
    expect(members[3]!.assigned.map(key).sort()).toEqual([...moved].sort());
    const stayed = [...ownersBefore.keys()].filter((partition) => !moved.includes(partition));
    expect(stayed).toHaveLength(5);
    const grand = total + 300;
    await waitFor(() => members.reduce((sum, member) => sum + member.seen.length, 0) >= grand, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would arrive now
    // Partitions that did not move kept being consumed by their owner during the rebalance.
    for (const partition of stayed) {
      const owner = members[ownersBefore.get(partition)!]!;
      const number = Number(partition.split('/')[1]);
      const during = owner.seen.slice(countsBefore[ownersBefore.get(partition)!]).filter((entry) => entry.startsWith(`${number}:`));
      expect(during.length).toBe(50); // 10 rounds x 30 messages / 6 partitions
    }

    const all = members.flatMap((member) => member.seen);
    expect(all).toHaveLength(grand);
    expect(new Set(all).size).toBe(grand);
    await Promise.all(members.map((member) => member.consumer.close()));
    await Promise.all(members.map((member) => member.running));
    // close() left the group and committed everything.
    const [group] = await admin().admin().describeGroups({ groupIds: [groupId] });
    expect(group!.state).toBe('empty');
    expect(group!.offsets.every((entry) => entry.lag === 0)).toBe(true);
  });

  it('two groups on one topic each see every message', async () => {
    const topic = await createTopic(3);
    await produce(topic, 3, 90);
    const first = await startMember(randomTopic('g1'), topic);
    const second = await startMember(randomTopic('g2'), topic);
    await waitFor(() => first.seen.length === 90 && second.seen.length === 90, 10_000);
    expect(new Set(first.seen)).toEqual(new Set(second.seen));
    await Promise.all([first.consumer.close(), second.consumer.close()]);
  });
});

describe('committed positions', () => {
  it('a member that closes and comes back resumes after its last commit; commit() with explicit offsets', async () => {
    const topic = await createTopic(2);
    const groupId = randomTopic('grp');
    await produce(topic, 2, 40);
    const consumer = newClient().consumer({ groupId, sessionTimeoutMs: SESSION_MS, autoCommit: false, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let count = 0;
    for await (const message of consumer) {
      count++;
      if (count === 10) {
        await consumer.commit(); // the message being handled counts as processed
        break;
      }
      void message;
    }
    const committed = await admin().admin().fetchOffsets({ groupId });
    expect(committed.reduce((sum, entry) => sum + entry.offset, 0)).toBe(10);
    // Explicit offsets: partition 0 back to 3.
    await consumer.commit([{ topic, partition: 0, offset: 3 }]);
    await expect(consumer.commit([{ topic, partition: 9, offset: 3 }])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const offsets = Object.fromEntries((await admin().admin().fetchOffsets({ groupId })).map((entry) => [entry.partition, entry.offset]));
    expect(offsets[0]).toBe(3);
    await consumer.close(); // autoCommit off: nothing more is committed

    const again = await startMember(groupId, topic, { fromBeginning: true });
    await waitFor(() => again.seen.length === 40 - 3 - (offsets[1] ?? 0), 10_000);
    const firstOffsets = new Map<number, number>();
    for (const entry of again.seen) {
      const [partition, offset] = entry.split(':').map(Number) as [number, number];
      if (!firstOffsets.has(partition)) firstOffsets.set(partition, offset);
    }
    expect(firstOffsets.get(0)).toBe(3);
    expect(firstOffsets.get(1) ?? 20).toBe(offsets[1] ?? 0);
    await again.consumer.close();
  });

  it('without a commit, fromBeginning false (or autoOffsetReset latest) starts at the end', async () => {
    const topic = await createTopic(1);
    await produce(topic, 1, 10, 'old');
    const member = await startMember(randomTopic('grp'), topic, { fromBeginning: false });
    await waitFor(() => member.assigned.length === 1);
    await waitFor(() => member.consumer.position({ topic, partition: 0 }) === 10);
    await produce(topic, 1, 5, 'new');
    await waitFor(() => member.seen.length === 5);
    expect(member.seen.every((entry) => entry.includes(':new-'))).toBe(true);
    await member.consumer.close();
  });

  it('the start position of a partition with no commit is committed even before a message of it is read', async () => {
    // Partition 1 gets no messages while the member runs; with only processed positions
    // committed, a later member without fromBeginning would start it at the end and skip
    // what arrived in between. What must survive: partition 1's start (0) as the commit.
    const topic = await createTopic(2);
    await produce(topic, 1, 5, 'p0');
    const groupId = randomTopic('grp');
    const member = await startMember(groupId, topic, { fromBeginning: true });
    await waitFor(() => member.seen.length === 5);
    await member.consumer.close();
    const offsets = await admin().admin().fetchOffsets({ groupId });
    const byPartition = new Map(offsets.map((entry) => [entry.partition, entry.offset]));
    expect(byPartition.get(0)).toBe(5);
    expect(byPartition.get(1)).toBe(0);
    await produce(topic, 2, 4, 'later');
    const next = await startMember(groupId, topic, { fromBeginning: false });
    await waitFor(() => next.seen.length === 4);
    expect(next.seen.filter((entry) => entry.startsWith('1:')).length).toBe(2);
    await next.consumer.close();
  });

  it('reset to earliest replays the whole topic; reset by time starts at the first newer message', async () => {
    const topic = await createTopic(2);
    const groupId = randomTopic('grp');
    await produce(topic, 2, 20, 'early', 1_000_000);
    await produce(topic, 2, 20, 'late', 2_000_000);
    const first = await startMember(groupId, topic);
    await waitFor(() => first.seen.length === 40);
    await first.consumer.close();

    await admin().admin().resetOffsets({ groupId, topic, to: 'earliest' });
    const replay = await startMember(groupId, topic, { fromBeginning: false });
    await waitFor(() => replay.seen.length === 40);
    expect(new Set(replay.seen)).toEqual(new Set(first.seen));
    await replay.consumer.close();

    await admin().admin().resetOffsets({ groupId, topic, to: new Date(1_500_000) });
    const byTime = await startMember(groupId, topic, { fromBeginning: false });
    await waitFor(() => byTime.seen.length === 20);
    expect(byTime.seen.every((entry) => entry.includes(':late-'))).toBe(true);
    expect(byTime.seen.filter((entry) => entry.startsWith('0:'))[0]).toMatch(/^0:10:/);
    await byTime.consumer.close();
  });
});

describe('fencing of commits', () => {
  it('a stale epoch, a non-member and a fenced member cannot commit', async () => {
    const topic = await createTopic(2);
    const groupId = randomTopic('grp');
    await produce(topic, 2, 10);
    const first = await startMember(groupId, topic);
    await waitFor(() => first.assigned.length === 2);
    const firstId = first.consumer.groupMembership()!;
    const second = await startMember(groupId, topic);
    await stable(groupId, 2);
    const now = first.consumer.groupMembership()!;
    expect(now.memberEpoch).toBeGreaterThan(firstId.memberEpoch);

    const commitAs = async (memberId: string, memberEpoch: number): Promise<string> => {
      try {
        await admin().request(ApiKey.OffsetCommit, { groupId, memberId, memberEpoch, offsets: [{ topic, partition: 0, offset: 1 }] }, undefined, { retry: false });
        return 'ok';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    expect(await commitAs(now.memberId, firstId.memberEpoch)).toBe('STALE_MEMBER_EPOCH');
    expect(await commitAs('nobody', now.memberEpoch)).toBe('UNKNOWN_MEMBER_ID');
    expect(await commitAs('', -1)).toBe('NON_EMPTY_GROUP');
    expect(await commitAs(now.memberId, now.memberEpoch)).toBe('ok');
    await first.consumer.close();
    // A member that left is no longer in the group: its id cannot commit.
    expect(await commitAs(now.memberId, now.memberEpoch)).toBe('UNKNOWN_MEMBER_ID');
    await second.consumer.close();
  });

  it('subscribe() needs a groupId; assign() is refused after subscribe()', async () => {
    const topic = await createTopic(1);
    const plain = newClient().consumer();
    await expect(plain.subscribe({ topics: [topic] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(plain.commit()).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const grouped = newClient().consumer({ groupId: randomTopic('grp'), sessionTimeoutMs: SESSION_MS });
    await grouped.subscribe({ topics: [topic] });
    expect(() => grouped.assign([{ topic, partition: 0 }])).toThrow(/subscribe/);
    const bad = newClient().consumer({ groupId: randomTopic('grp'), sessionTimeoutMs: 10 });
    await expect(bad.subscribe({ topics: [topic] })).rejects.toMatchObject({ code: 'INVALID_SESSION_TIMEOUT' });
    await Promise.all([plain.close(), grouped.close(), bad.close()]);
  });
});
