// Proves the cluster placement of groups (src/groups/coordinator-placement.ts) without a
// network: the group -> partition hash is Kafka's (Java String.hashCode & 0x7fffffff, mod
// N; pinned against values Java computes, including a MIN_VALUE hash and non-ASCII ids),
// stable and spread over the partitions; a coordinator with test-supplied roles serves
// only the groups of the partitions it leads (NOT_COORDINATOR for the others), loads a
// partition's committed offsets when it becomes leader and drops them when it stops; its
// FindCoordinator answers the leader; a share group is placed by its state partition the
// same way; a single node's existing one-partition __consumer_offsets still loads when
// cluster mode asks for more partitions.

import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { coordinatorPartitionOf, javaStringHash, type CoordinatorAddress, type CoordinatorRoles, type InternalReplication } from '../../src/groups/coordinator-placement.js';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { LogOffsetStore, MemoryOffsetStore, OFFSETS_TOPIC } from '../../src/groups/offset-store.js';
import { MemoryShareStateStore, SHARE_STATE_TOPIC } from '../../src/groups/share-state-store.js';
import { LogManager } from '../../src/storage/index.js';
import { isSpoolError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/broker.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('group -> partition', () => {
  it('is Java String.hashCode & 0x7fffffff mod N, as Kafka computes it', () => {
    // Well-known Java values: "".hashCode() = 0, "a" = 97, "hello" = 99162322,
    // "polygenelubricants" = Integer.MIN_VALUE. Over UTF-16 code units: "é" (U+00E9) = 233;
    // "𝄞" (U+1D11E, surrogates 0xD834 0xDD1E) = 55348 * 31 + 56606 = 1772394.
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('a')).toBe(97);
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
    expect(javaStringHash('\u00e9')).toBe(233);
    expect(javaStringHash('\u{1d11e}')).toBe(1772394);
    // Kafka's Utils.abs(MIN_VALUE) is 0, not MIN_VALUE: partition 0.
    expect(coordinatorPartitionOf('polygenelubricants', 16)).toBe(0);
    expect(coordinatorPartitionOf('hello', 50)).toBe(99162322 % 50);
    expect(coordinatorPartitionOf('anything', 1)).toBe(0);
    // A negative hash: "zzzzzzzzzz" overflows.
    const negative = javaStringHash('zzzzzzzzzz');
    expect(negative).toBeLessThan(0);
    expect(coordinatorPartitionOf('zzzzzzzzzz', 16)).toBe((negative & 0x7fffffff) % 16);
    expect(() => coordinatorPartitionOf('g', 0)).toThrow();
  });

  it('spreads group ids over the partitions', () => {
    const counts = new Array<number>(16).fill(0);
    for (let index = 0; index < 16_000; index++) counts[coordinatorPartitionOf(`group-${index}`, 16)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(600);
  });
});

/** Roles of one broker, set by the test. */
class TestRoles implements CoordinatorRoles {
  readonly led = new Set<string>();
  readonly leaders = new Map<string, CoordinatorAddress>();
  private readonly listeners = new Set<(topic: string, partition: number) => void>();
  leads(topic: string, partition: number): boolean {
    return this.led.has(`${topic}/${partition}`);
  }
  leader(topic: string, partition: number): CoordinatorAddress | null {
    return this.leaders.get(`${topic}/${partition}`) ?? null;
  }
  onChange(listener: (topic: string, partition: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(topic: string, partition: number, leads: boolean): void {
    if (leads) this.led.add(`${topic}/${partition}`);
    else this.led.delete(`${topic}/${partition}`);
    for (const listener of this.listeners) listener(topic, partition);
  }
}

const noReplication: InternalReplication = { beforeAppend: () => undefined, afterAppend: () => Promise.resolve() };

async function openLogs(): Promise<LogManager> {
  const dataDir = tempDir();
  const logs = await LogManager.open({ dataDir, fsync: { kind: 'never' }, warn: () => undefined });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => logs.close());
  return logs;
}

function codeOf(error: unknown): string | undefined {
  return isSpoolError(error) ? error.code : undefined;
}

describe('a coordinator in cluster mode', () => {
  it('serves only the groups of the partitions it leads, loading and dropping them as leadership moves', async () => {
    const logs = await openLogs();
    await logs.createTopic('orders', 2);
    const offsets = new MemoryOffsetStore(4);
    const roles = new TestRoles();
    // Two groups on different partitions.
    const groupA = 'group-1';
    let groupB = 'group-2';
    for (let index = 2; coordinatorPartitionOf(groupB, 4) === coordinatorPartitionOf(groupA, 4); index++) groupB = `group-${index}`;
    const partitionA = coordinatorPartitionOf(groupA, 4);
    const partitionB = coordinatorPartitionOf(groupB, 4);
    offsets.records.push({ groupId: groupA, topic: 'orders', partition: 0, value: { offset: 7, metadata: '', commitTimestampMs: 1 } });
    offsets.records.push({ groupId: groupB, topic: 'orders', partition: 1, value: { offset: 9, metadata: '', commitTimestampMs: 1 } });
    roles.led.add(`${OFFSETS_TOPIC}/${partitionA}`);
    const other: CoordinatorAddress = { nodeId: 2, host: '127.0.0.1', port: 1234, kafka: null };
    roles.leaders.set(`${OFFSETS_TOPIC}/${partitionB}`, other);
    const coordinator = await GroupCoordinator.open(logs, {
      offsetStore: offsets,
      shareStateStore: new MemoryShareStateStore(4),
      cluster: { roles, replication: noReplication, offsetsTopicPartitions: 4, shareStateTopicPartitions: 4 },
      warn: () => undefined,
    });
    cleanups.push(() => coordinator.close());

    expect((await coordinator.fetchOffsets({ groupId: groupA, partitions: null })).offsets).toMatchObject([{ topic: 'orders', partition: 0, offset: 7 }]);
    const refused = await coordinator.fetchOffsets({ groupId: groupB, partitions: null }).catch((error: unknown) => error);
    expect(codeOf(refused)).toBe('NOT_COORDINATOR');
    expect(codeOf(await coordinator.heartbeat({ groupId: groupB, memberId: '', memberEpoch: 0, topics: ['orders'] }).catch((error: unknown) => error))).toBe('NOT_COORDINATOR');
    expect(codeOf(await coordinator.commitOffsets({ groupId: groupB, memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1 }] }).catch((error: unknown) => error))).toBe('NOT_COORDINATOR');
    expect(coordinator.findCoordinator(groupB)).toEqual(other);
    expect(coordinator.findCoordinator(groupA)).toBeNull(); // the test gave no address for A's partition
    expect((await coordinator.listGroups()).groups.map((group) => group.groupId)).toEqual([groupA]);

    // B's partition comes here: its offsets load; A's goes away: its group (and members) are dropped.
    const joined = await coordinator.heartbeat({ groupId: groupA, memberId: '', memberEpoch: 0, topics: ['orders'] });
    expect(joined.errorCode).toBe(0);
    roles.set(OFFSETS_TOPIC, partitionB, true);
    roles.set(OFFSETS_TOPIC, partitionA, false);
    expect((await coordinator.fetchOffsets({ groupId: groupB, partitions: null })).offsets).toMatchObject([{ topic: 'orders', partition: 1, offset: 9 }]);
    expect(codeOf(await coordinator.fetchOffsets({ groupId: groupA, partitions: null }).catch((error: unknown) => error))).toBe('NOT_COORDINATOR');
    expect((await coordinator.listGroups()).groups.map((group) => group.groupId)).toEqual([groupB]);

    // A comes back: loaded again from the store, without its old member (it must rejoin).
    roles.set(OFFSETS_TOPIC, partitionA, true);
    expect((await coordinator.fetchOffsets({ groupId: groupA, partitions: null })).offsets).toMatchObject([{ offset: 7 }]);
    const stale = await coordinator.heartbeat({ groupId: groupA, memberId: joined.memberId, memberEpoch: joined.memberEpoch, topics: ['orders'] }).catch((error: unknown) => error);
    expect((stale as { errorCode?: number }).errorCode ?? codeOf(stale)).toBe(32); // UNKNOWN_MEMBER_ID
  });

  it('places share groups by their state partition', async () => {
    const logs = await openLogs();
    await logs.createTopic('orders', 1);
    const roles = new TestRoles();
    const coordinator = await GroupCoordinator.open(logs, {
      offsetStore: new MemoryOffsetStore(4),
      shareStateStore: new MemoryShareStateStore(4),
      cluster: { roles, replication: noReplication, offsetsTopicPartitions: 4, shareStateTopicPartitions: 4 },
      warn: () => undefined,
    });
    cleanups.push(() => coordinator.close());
    const spec = { groupId: 'share-1', memberId: 'm', maxRecords: 10, maxBytes: 1 << 20, partitions: [{ topic: 'orders', partition: 0 }] };
    // The share-partition leader (every partition: this test gives no share leadership) reads
    // the share-partition's state from the group's coordinator, which is not this broker yet.
    expect(coordinator.shares.acquire(spec).partitions[0]!.errorCode).toBe(89);
    const leader: CoordinatorAddress = { nodeId: 3, host: '127.0.0.1', port: 4321, kafka: null };
    roles.leaders.set(`${SHARE_STATE_TOPIC}/${coordinatorPartitionOf('share-1', 4)}`, leader);
    expect(coordinator.findCoordinator('share-1', true)).toEqual(leader);
    roles.set(SHARE_STATE_TOPIC, coordinatorPartitionOf('share-1', 4), true);
    expect(coordinator.shares.acquire(spec).partitions[0]!.errorCode).toBe(0);
  });
});

describe('__consumer_offsets partitions', () => {
  it('keeps an existing single-partition topic (its data stays readable) when more are asked for', async () => {
    const logs = await openLogs();
    const single = await LogOffsetStore.open(logs, { nowMs: () => 1, monotonicMs: () => 1 }, () => undefined);
    expect(single.partitionCount).toBe(1);
    await single.append([{ groupId: 'old', topic: 'orders', partition: 0, value: { offset: 5, metadata: '', commitTimestampMs: 1 } }]);
    const warnings: string[] = [];
    const reopened = await LogOffsetStore.open(logs, { nowMs: () => 1, monotonicMs: () => 1 }, (message) => warnings.push(message), { partitions: 16 });
    expect(reopened.partitionCount).toBe(1);
    expect(warnings.join('\n')).toContain('keeping that count');
    const seen: unknown[] = [];
    await reopened.load((record) => seen.push(record));
    expect(seen).toMatchObject([{ groupId: 'old', value: { offset: 5 } }]);
  });

  it('creates N partitions and writes each group to its own', async () => {
    const logs = await openLogs();
    const store = await LogOffsetStore.open(logs, { nowMs: () => 1, monotonicMs: () => 1 }, () => undefined, { partitions: 8 });
    expect(logs.getTopic(OFFSETS_TOPIC)!.partitions).toBe(8);
    const groups = ['a', 'b', 'c', 'group-1', 'group-2'];
    await store.append(groups.map((groupId) => ({ groupId, topic: 'orders', partition: 0, value: { offset: 1, metadata: '', commitTimestampMs: 1 } })));
    for (const groupId of groups) {
      const seen: string[] = [];
      await store.load((record) => seen.push(record.groupId), coordinatorPartitionOf(groupId, 8));
      expect(seen).toContain(groupId);
      expect(seen.every((id) => coordinatorPartitionOf(id, 8) === coordinatorPartitionOf(groupId, 8))).toBe(true);
    }
  });
});
