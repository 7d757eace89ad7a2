// Proves that a commit is invisible until its append is acknowledged (Kafka's pending
// offset commits), with an offset store whose appends resolve or fail when the test says
// (HeldOffsetStore: the record is in the store at once, as in a log, but not yet
// acknowledged): OffsetFetch and describe (committed, lag) show the old value while the
// commit is in flight and the new one once it is acknowledged, never a failed one; of two
// racing commits the later wins whatever order they are acknowledged in, and a failed one
// leaves the other visible; a group deleted while a commit is in flight is tombstoned for
// that partition too and does not come back when the commit is acknowledged; a coordinator
// that stops leading the group's partition meanwhile does not recreate the group. Also the
// PendingCommits bookkeeping on its own (pending value, nothing left behind). Member commits
// of both kinds (consumer epoch, classic generation) are answered only once acknowledged.

import { afterEach, describe, expect, it } from 'vitest';
import type { CoordinatorAddress, CoordinatorRoles } from '../../src/groups/coordinator-placement.js';
import { coordinatorPartitionOf } from '../../src/groups/coordinator-placement.js';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { MemoryOffsetStore, OFFSETS_TOPIC, type OffsetRecord } from '../../src/groups/offset-store.js';
import { PendingCommits } from '../../src/groups/pending-commits.js';
import { MemoryShareStateStore } from '../../src/groups/share-state-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors, SpoolError } from '../../src/util/errors.js';
import { ClassicClient, assignment } from './classic-helpers.js';
import { FakeLogs, settle, SimMember } from './helpers.js';

/** A store whose appends are written at once and acknowledged (or failed) by the test. */
class HeldOffsetStore extends MemoryOffsetStore {
  readonly held: Array<{ records: readonly OffsetRecord[]; acknowledge(): void; fail(error: Error): void }> = [];

  override append(records: readonly OffsetRecord[]): Promise<void> {
    void super.append(records);
    return new Promise<void>((resolve, reject) => this.held.push({ records, acknowledge: resolve, fail: reject }));
  }

  /** The index-th append still held (in call order). */
  take(index = 0): { acknowledge(): void; fail(error: Error): void } {
    const [entry] = this.held.splice(index, 1);
    if (entry === undefined) throw new Error(`no held append ${index}`);
    return entry;
  }
}

const clock = new ManualClock();
let coordinator: GroupCoordinator | undefined;
afterEach(async () => {
  await coordinator?.close();
  coordinator = undefined;
});

async function open(store: HeldOffsetStore): Promise<{ coordinator: GroupCoordinator; logs: FakeLogs }> {
  const logs = new FakeLogs();
  logs.createTopic('orders', 2);
  logs.partition('orders', 0).produce(100);
  coordinator = await GroupCoordinator.open(logs.asLogManager(), { clock, offsetStore: store, classicInitialRebalanceDelayMs: 0, warn: () => undefined });
  return { coordinator, logs };
}

const simpleCommit = (target: GroupCoordinator, offset: number, groupId = 'g', partition = 0) =>
  target.commitOffsets({ groupId, memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition, offset, metadata: `at ${offset}` }] });

async function fetched(target: GroupCoordinator, groupId = 'g', partition = 0): Promise<number> {
  const result = await target.fetchOffsets({ groupId, partitions: [{ topic: 'orders', partition }] });
  return result.offsets[0]!.offset;
}

/** Lets the coordinator's continuations after an acknowledgement run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** 'pending' when the promise has not settled after the current microtasks and one macrotask. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('a commit in flight', () => {
  it('is not shown by OffsetFetch or describe until its append is acknowledged, and the answer waits for it', async () => {
    const store = new HeldOffsetStore();
    const { coordinator } = await open(store);
    const first = simpleCommit(coordinator, 10);
    store.take().acknowledge();
    expect((await first).partitions[0]!.errorCode).toBe(0);
    expect(await fetched(coordinator)).toBe(10);

    let answered = false;
    const second = simpleCommit(coordinator, 40).then((result) => ((answered = true), result));
    await turn();
    expect(store.records).toHaveLength(2); // appended...
    expect(answered).toBe(false); // ...not answered...
    expect(await fetched(coordinator)).toBe(10); // ...and not shown: OffsetFetch by partition,
    expect((await coordinator.fetchOffsets({ groupId: 'g' })).offsets).toMatchObject([{ partition: 0, offset: 10, metadata: 'at 10' }]); // every partition,
    const [described] = (await coordinator.describeGroups({ groupIds: ['g'] })).groups;
    expect(described!.offsets[0]).toMatchObject({ partition: 0, committed: 10, lag: 90 }); // describe and lag.

    store.take().acknowledge();
    expect((await second).partitions[0]!.errorCode).toBe(0);
    expect(await fetched(coordinator)).toBe(40);
    const [after] = (await coordinator.describeGroups({ groupIds: ['g'] })).groups;
    expect(after!.offsets[0]).toMatchObject({ committed: 40, lag: 60 });
  });

  it('of a member of either kind (consumer epoch, classic generation) is answered and shown only once acknowledged', async () => {
    const store = new HeldOffsetStore();
    const { coordinator } = await open(store);
    const member = new SimMember(coordinator, 'consumers', ['orders']);
    await settle(coordinator, 'consumers', [member]);
    const consumerCommit = coordinator.commitOffsets({
      groupId: 'consumers',
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      offsets: [{ topic: 'orders', partition: 0, offset: 7 }],
    });
    expect(await peek(consumerCommit)).toBe('pending');
    expect(await fetched(coordinator, 'consumers')).toBe(-1);
    store.take().acknowledge();
    expect((await consumerCommit).partitions[0]!.errorCode).toBe(0);
    expect(await fetched(coordinator, 'consumers')).toBe(7);

    const classic = new ClassicClient(coordinator, 'classics');
    const joined = (await classic.startJoin()).result;
    coordinator.runSessionExpiry(); // the (zero) initial rebalance delay ends
    expect((await joined).errorCode).toBe(0);
    expect((await classic.sync([{ memberId: classic.memberId, assignment: assignment([['orders', [0, 1]]]) }])).errorCode).toBe(0);
    const classicCommit = classic.commit(11);
    expect(await peek(classicCommit)).toBe('pending');
    expect(await fetched(coordinator, 'classics')).toBe(-1);
    store.take().acknowledge();
    expect(await classicCommit).toBe(0);
    expect(await fetched(coordinator, 'classics')).toBe(11);
  });

  it('does not create the group until acknowledged (a simple commit to a new group)', async () => {
    const store = new HeldOffsetStore();
    const { coordinator } = await open(store);
    const commit = simpleCommit(coordinator, 5, 'fresh');
    await turn();
    expect((await coordinator.listGroups()).groups).toEqual([]);
    expect(await fetched(coordinator, 'fresh')).toBe(-1);
    store.take().acknowledge();
    await commit;
    expect((await coordinator.listGroups()).groups.map((group) => group.groupId)).toEqual(['fresh']);
    expect(await fetched(coordinator, 'fresh')).toBe(5);
  });

  it('is never shown when its append fails; the value before it stays', async () => {
    const store = new HeldOffsetStore();
    const { coordinator } = await open(store);
    const first = simpleCommit(coordinator, 10);
    store.take().acknowledge();
    await first;
    const failing = simpleCommit(coordinator, 99);
    await turn();
    store.take().fail(new SpoolError(Errors.COORDINATOR_NOT_AVAILABLE, 'replication timed out'));
    expect((await failing).partitions[0]!.errorCode).toBe(Errors.COORDINATOR_NOT_AVAILABLE.code);
    expect(await fetched(coordinator)).toBe(10);
    // A new group whose only commit failed does not appear at all.
    const lost = simpleCommit(coordinator, 3, 'never');
    await turn();
    store.take().fail(new SpoolError(Errors.NOT_COORDINATOR, 'lost the leadership'));
    expect((await lost).partitions[0]!.errorCode).toBe(Errors.NOT_COORDINATOR.code);
    expect((await coordinator.listGroups()).groups.map((group) => group.groupId)).toEqual(['g']);
  });
});

describe('racing commits of one partition', () => {
  const cases: Array<{ name: string; settle: (store: HeldOffsetStore) => void; expected: number }> = [
    { name: 'acknowledged in order: the later wins', settle: (store) => (store.take(0).acknowledge(), store.take(0).acknowledge()), expected: 20 },
    { name: 'acknowledged out of order: the later still wins', settle: (store) => (store.take(1).acknowledge(), store.take(0).acknowledge()), expected: 20 },
    { name: 'the earlier fails: the later is shown', settle: (store) => (store.take(0).fail(new Error('disk')), store.take(0).acknowledge()), expected: 20 },
    { name: 'the later fails: the earlier is shown', settle: (store) => (store.take(1).fail(new Error('disk')), store.take(0).acknowledge()), expected: 10 },
    { name: 'both fail: the value before both stays', settle: (store) => (store.take(0).fail(new Error('disk')), store.take(0).fail(new Error('disk'))), expected: 1 },
  ];
  for (const { name, settle, expected } of cases) {
    it(name, async () => {
      const store = new HeldOffsetStore();
      const { coordinator } = await open(store);
      const base = simpleCommit(coordinator, 1);
      store.take().acknowledge();
      await base;
      const both = Promise.all([simpleCommit(coordinator, 10), simpleCommit(coordinator, 20)]);
      await turn();
      expect(await fetched(coordinator)).toBe(1);
      settle(store);
      await both;
      expect(await fetched(coordinator)).toBe(expected);
    });
  }
});

describe('a group deleted while a commit is in flight', () => {
  it('is tombstoned for the pending partition too and does not come back when the commit is acknowledged', async () => {
    const store = new HeldOffsetStore();
    const { coordinator } = await open(store);
    const base = simpleCommit(coordinator, 7, 'g', 0);
    store.take().acknowledge();
    await base;
    const inFlight = simpleCommit(coordinator, 8, 'g', 1);
    await turn();
    const deleted = coordinator.deleteGroups({ groupIds: ['g'] });
    await turn();
    // The tombstones cover the committed partition 0 and the pending partition 1, after the commit in the log.
    expect(store.records.slice(-2)).toEqual([
      { groupId: 'g', topic: 'orders', partition: 0, value: null },
      { groupId: 'g', topic: 'orders', partition: 1, value: null },
    ]);
    store.take(0).acknowledge(); // the commit
    store.take(0).acknowledge(); // the tombstones
    expect((await inFlight).partitions[0]!.errorCode).toBe(0);
    expect((await deleted).groups[0]!.errorCode).toBe(0);
    expect((await coordinator.listGroups()).groups).toEqual([]);
    expect(await fetched(coordinator, 'g', 1)).toBe(-1);
    // What the log replays agrees: nothing of g.
    const replayed = new Map<string, unknown>();
    await store.load((record) => replayed.set(`${record.groupId}/${record.partition}`, record.value));
    expect([...replayed.values()]).toEqual([null, null]);
  });

  it('is found when it exists only through a commit in flight', async () => {
    const store = new HeldOffsetStore();
    const { coordinator } = await open(store);
    const inFlight = simpleCommit(coordinator, 4, 'fresh');
    await turn();
    const deleted = coordinator.deleteGroups({ groupIds: ['fresh', 'missing'] });
    await turn();
    store.take(0).acknowledge();
    store.take(0).acknowledge();
    await inFlight;
    expect((await deleted).groups.map((group) => group.errorCode)).toEqual([0, Errors.GROUP_ID_NOT_FOUND.code]);
    expect((await coordinator.listGroups()).groups).toEqual([]);
    // A commit after the delete is a new one: shown once acknowledged.
    const again = simpleCommit(coordinator, 6, 'fresh');
    store.take().acknowledge();
    await again;
    expect(await fetched(coordinator, 'fresh')).toBe(6);
  });
});

/** Roles set by the test: one coordinator that leads a partition, then stops. */
class TestRoles implements CoordinatorRoles {
  readonly led = new Set<number>();
  private readonly listeners = new Set<(topic: string, partition: number) => void>();
  leads(topic: string, partition: number): boolean {
    return topic === OFFSETS_TOPIC && this.led.has(partition);
  }
  leader(): CoordinatorAddress | null {
    return null;
  }
  onChange(listener: (topic: string, partition: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(partition: number, leads: boolean): void {
    if (leads) this.led.add(partition);
    else this.led.delete(partition);
    for (const listener of this.listeners) listener(OFFSETS_TOPIC, partition);
  }
}

describe('a coordinator that stops leading while a commit is in flight', () => {
  it('does not recreate the group when the commit is acknowledged after the unload', async () => {
    const store = new HeldOffsetStore(4);
    const logs = new FakeLogs();
    logs.createTopic('orders', 1);
    const roles = new TestRoles();
    const partition = coordinatorPartitionOf('g', 4);
    roles.led.add(partition);
    coordinator = await GroupCoordinator.open(logs.asLogManager(), {
      clock,
      offsetStore: store,
      shareStateStore: new MemoryShareStateStore(4),
      cluster: { roles, replication: { beforeAppend: () => undefined, afterAppend: () => Promise.resolve() }, offsetsTopicPartitions: 4, shareStateTopicPartitions: 4 },
      warn: () => undefined,
    });
    const inFlight = simpleCommit(coordinator, 12);
    await turn();
    roles.set(partition, false);
    store.take().acknowledge();
    await inFlight;
    expect((await coordinator.listGroups()).groups).toEqual([]);
    expect(coordinator.pendingGroupCount()).toBe(0);
  });
});

describe('PendingCommits', () => {
  const record = (offset: number | null, partition = 0): OffsetRecord => ({
    groupId: 'g',
    topic: 't',
    partition,
    value: offset === null ? null : { offset, metadata: '', commitTimestampMs: 0 },
  });

  it('holds the newest value in flight per key and leaves nothing behind once every append settled', () => {
    const pending = new PendingCommits();
    const applied: Array<number | null> = [];
    const apply = (entry: OffsetRecord): void => void applied.push(entry.value?.offset ?? null);
    const first = pending.begin([record(1)]);
    const second = pending.begin([record(2), record(null, 1)]);
    expect(pending.pendingValue('g', 't', 0)?.offset).toBe(2);
    expect(pending.pendingValue('g', 't', 1)).toBeNull();
    expect(pending.keysOf('g')).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    pending.fail(second);
    expect(pending.pendingValue('g', 't', 0)?.offset).toBe(1); // the failed newest is gone: the older one is pending again
    expect(pending.pendingValue('g', 't', 1)).toBeUndefined();
    pending.complete(first, apply);
    expect(applied).toEqual([1]);
    expect(pending.groupCount()).toBe(0);
    // Settling the same append twice is a bug.
    expect(() => pending.complete(first, apply)).toThrow(/settled twice/);
  });

  it('applies records of one append in log order, and nothing of a cancelled group', () => {
    const pending = new PendingCommits();
    const applied: Array<number | null> = [];
    const apply = (entry: OffsetRecord): void => void applied.push(entry.value?.offset ?? null);
    const both = pending.begin([record(3), record(4)]);
    pending.complete(both, apply);
    expect(applied).toEqual([3, 4]);
    const cancelled = pending.begin([record(5)]);
    pending.cancelGroup('g');
    const after = pending.begin([record(6)]);
    pending.complete(cancelled, apply); // acknowledged after the cancel: ignored, and it does not disturb the new entry
    expect(pending.pendingValue('g', 't', 0)?.offset).toBe(6);
    pending.complete(after, apply);
    expect(applied).toEqual([3, 4, 6]);
    expect(pending.groupCount()).toBe(0);
  });
});
