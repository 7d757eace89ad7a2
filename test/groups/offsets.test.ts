// Proves the committed-offset rules with an in-memory OffsetStore and a fake topic
// table: member commits are fenced by epoch (stale, unknown, zombie), admin commits
// (memberId '', epoch -1) only while the group is empty, offsets are rebuilt from the
// store by a new coordinator, reset and delete only when the group is empty (delete
// writes tombstones), and describe reports committed offset, log end offset and lag.

import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { MemoryOffsetStore } from '../../src/groups/offset-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';
import { FakeLogs, settle, SimMember } from './helpers.js';

let coordinator: GroupCoordinator;
let logs: FakeLogs;
let store: MemoryOffsetStore;
const clock = new ManualClock();

async function open(): Promise<GroupCoordinator> {
  coordinator = await GroupCoordinator.open(logs.asLogManager(), { clock, offsetStore: store, warn: () => {} });
  return coordinator;
}

async function setup(): Promise<void> {
  logs = new FakeLogs();
  logs.createTopic('orders', 2);
  store = new MemoryOffsetStore();
  await open();
}

afterEach(async () => {
  await coordinator?.close();
});

const commit = (memberId: string, memberEpoch: number, offset = 5, partition = 0) =>
  coordinator.commitOffsets({ groupId: 'g', memberId, memberEpoch, offsets: [{ topic: 'orders', partition, offset, metadata: 'm' }] });

describe('offset commits', () => {
  it('accepts the current epoch and refuses stale, future, unknown and zombie members', async () => {
    await setup();
    const a = new SimMember(coordinator, 'g', ['orders']);
    await settle(coordinator, 'g', [a]);
    const ok = await commit(a.memberId, a.memberEpoch, 7);
    expect(ok.partitions[0]!.errorCode).toBe(0);

    // A second member joins: a's epoch moves on; a commit with the old one is stale.
    const b = new SimMember(coordinator, 'g', ['orders']);
    const oldEpoch = a.memberEpoch;
    await settle(coordinator, 'g', [a, b]);
    expect(a.memberEpoch).toBeGreaterThan(oldEpoch);
    expect((await commit(a.memberId, oldEpoch, 9)).partitions[0]!.errorCode).toBe(Errors.STALE_MEMBER_EPOCH.code);
    expect((await commit(a.memberId, a.memberEpoch + 1, 9)).errorCode).toBe(Errors.FENCED_MEMBER_EPOCH.code);
    expect((await commit('nobody', 1, 9)).errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    expect((await commit('', -1, 9)).errorCode).toBe(Errors.NON_EMPTY_GROUP.code);

    // a stops heartbeating and is fenced; its late commit (a zombie) cannot move the group.
    clock.advance(30_000);
    await b.heartbeat();
    clock.advance(20_000);
    coordinator.runSessionExpiry();
    expect((await commit(a.memberId, a.memberEpoch, 9)).errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    const fetched = await coordinator.fetchOffsets({ groupId: 'g' });
    expect(fetched.offsets).toEqual([{ topic: 'orders', partition: 0, offset: 7, metadata: 'm', errorCode: 0 }]);
  });

  it('allows admin commits only while the group is empty, and checks partitions', async () => {
    await setup();
    const result = await coordinator.commitOffsets({
      groupId: 'solo', memberId: '', memberEpoch: -1,
      offsets: [
        { topic: 'orders', partition: 1, offset: 3 },
        { topic: 'orders', partition: 9, offset: 3 },
        { topic: 'nope', partition: 0, offset: 3 },
        { topic: 'orders', partition: 0, offset: -4 },
      ],
    });
    expect(result.partitions.map((p) => p.errorCode)).toEqual([
      0, Errors.UNKNOWN_PARTITION.code, Errors.UNKNOWN_TOPIC.code, Errors.INVALID_REQUEST.code,
    ]);
    const fetched = await coordinator.fetchOffsets({ groupId: 'solo', partitions: [{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 0 }] });
    expect(fetched.offsets.map((o) => o.offset)).toEqual([3, -1]);
  });

  it('reports a storage failure and keeps answering', async () => {
    await setup();
    store.failure = new Error('disk gone');
    const result = await commit('', -1, 1);
    expect(result.partitions[0]!.errorCode).toBe(Errors.UNKNOWN.code);
    // Nothing was written, so memory did not move either.
    expect((await coordinator.fetchOffsets({ groupId: 'g' })).offsets).toEqual([]);
    store.failure = undefined;
    expect((await commit('', -1, 2)).partitions[0]!.errorCode).toBe(0);
  });

  it('rebuilds committed offsets from the store on open; deletion tombstones survive too', async () => {
    await setup();
    await commit('', -1, 11, 0);
    await commit('', -1, 12, 1);
    await commit('', -1, 13, 1);
    await coordinator.commitOffsets({ groupId: 'gone', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1 }] });
    expect((await coordinator.deleteGroups({ groupIds: ['gone'] })).groups[0]!.errorCode).toBe(0);
    await coordinator.close();
    await open();
    const fetched = await coordinator.fetchOffsets({ groupId: 'g' });
    expect(fetched.offsets.map((o) => [o.partition, o.offset, o.metadata])).toEqual([[0, 11, 'm'], [1, 13, 'm']]);
    expect((await coordinator.listGroups({})).groups).toEqual([{ groupId: 'g', state: 'empty', members: 0 }]);
  });
});

describe('admin', () => {
  it('resets and deletes only when the group has no members', async () => {
    await setup();
    const p0 = logs.partition('orders', 0);
    p0.produce(5, 1000);
    p0.produce(5, 2000);
    p0.logStartOffset = 0;
    const a = new SimMember(coordinator, 'g', ['orders']);
    await settle(coordinator, 'g', [a]);
    const to = { kind: 'latest' } as const;
    expect((await coordinator.resetOffsets({ groupId: 'g', topic: 'orders', to })).errorCode).toBe(Errors.NON_EMPTY_GROUP.code);
    expect((await coordinator.deleteGroups({ groupIds: ['g'] })).groups[0]!.errorCode).toBe(Errors.NON_EMPTY_GROUP.code);
    await a.leave();

    const latest = await coordinator.resetOffsets({ groupId: 'g', topic: 'orders', to });
    expect(latest.partitions.map((p) => p.offset)).toEqual([10, 0]);
    const byTime = await coordinator.resetOffsets({ groupId: 'g', topic: 'orders', partitions: [0], to: { kind: 'timestamp', timestamp: 1500 } });
    expect(byTime.partitions).toEqual([{ topic: 'orders', partition: 0, offset: 5, errorCode: 0 }]);
    const clamped = await coordinator.resetOffsets({ groupId: 'g', topic: 'orders', partitions: [0, 7], to: { kind: 'offset', offset: 99 } });
    expect(clamped.partitions.map((p) => [p.offset, p.errorCode])).toEqual([[10, 0], [-1, Errors.UNKNOWN_PARTITION.code]]);
    const earliest = await coordinator.resetOffsets({ groupId: 'g', topic: 'orders', to: { kind: 'earliest' } });
    expect(earliest.partitions.map((p) => p.offset)).toEqual([0, 0]);
    expect((await coordinator.resetOffsets({ groupId: 'g', topic: 'nope', to })).errorCode).toBe(Errors.UNKNOWN_TOPIC.code);

    const deleted = await coordinator.deleteGroups({ groupIds: ['g', 'never'] });
    expect(deleted.groups.map((g) => g.errorCode)).toEqual([0, Errors.GROUP_ID_NOT_FOUND.code]);
    expect(store.records.filter((r) => r.value === null).map((r) => r.partition).sort()).toEqual([0, 1]);
    expect((await coordinator.fetchOffsets({ groupId: 'g' })).offsets).toEqual([]);
  });

  it('describes state, members, assignments, committed offsets and lag', async () => {
    await setup();
    logs.partition('orders', 0).produce(10);
    logs.partition('orders', 1).produce(4);
    const a = new SimMember(coordinator, 'g', ['orders'], { clientId: 'kitchen-1' });
    await settle(coordinator, 'g', [a]);
    await commit(a.memberId, a.memberEpoch, 6, 0);
    const [described, missing] = (await coordinator.describeGroups({ groupIds: ['g', 'missing'] })).groups;
    expect(described).toMatchObject({ groupId: 'g', state: 'stable', assignor: 'uniform', errorCode: 0 });
    expect(described!.members).toEqual([
      { memberId: a.memberId, clientId: 'kitchen-1', memberEpoch: a.memberEpoch, subscription: ['orders'], assignment: [{ topic: 'orders', partitions: [0, 1] }] },
    ]);
    expect(described!.offsets).toEqual([
      { topic: 'orders', partition: 0, committed: 6, logEndOffset: 10, lag: 4, memberId: a.memberId },
      { topic: 'orders', partition: 1, committed: -1, logEndOffset: 4, lag: 4, memberId: a.memberId },
    ]);
    expect(missing).toMatchObject({ errorCode: Errors.GROUP_ID_NOT_FOUND.code, state: 'dead' });
    expect((await coordinator.listGroups({})).groups).toEqual([{ groupId: 'g', state: 'stable', members: 1 }]);
  });
});
