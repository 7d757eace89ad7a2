// Proves that classic and consumer (KIP-848) groups live side by side in one coordinator
// and one offset table: a group id is of one kind at a time (mixing gets
// INCONSISTENT_GROUP_PROTOCOL both ways), an empty group changes kind keeping its
// offsets, offsets committed by a classic group show through the native fetch and
// describe (and the reverse), describe/list show classic groups with their state,
// protocol and members (consumer-protocol bytes decoded), delete works for an empty
// classic group, and a new coordinator on the same store rebuilds the classic offsets.
// ManualClock, fake topic table, in-memory offset store.

import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { MemoryOffsetStore } from '../../src/groups/offset-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';
import { ClassicClient, assignment, subscription } from './classic-helpers.js';
import { FakeLogs, settle, SimMember } from './helpers.js';

let coordinator: GroupCoordinator;
let logs: FakeLogs;
let store: MemoryOffsetStore;
const clock = new ManualClock();

async function open(): Promise<void> {
  coordinator = await GroupCoordinator.open(logs.asLogManager(), {
    clock,
    offsetStore: store,
    classicInitialRebalanceDelayMs: 0,
    warn: () => {},
  });
}

async function setup(): Promise<void> {
  logs = new FakeLogs();
  logs.createTopic('orders', 2);
  logs.partition('orders', 0).produce(10);
  logs.partition('orders', 1).produce(4);
  store = new MemoryOffsetStore();
  await open();
}

afterEach(async () => {
  await coordinator?.close();
});

/** One classic member, stable, owning both partitions of orders. */
async function classicMember(groupId: string): Promise<ClassicClient> {
  const member = new ClassicClient(coordinator, groupId, { clientId: 'kafka-python', clientHost: '/127.0.0.1' });
  expect(await (await member.startJoin()).result).toMatchObject({ errorCode: 0, generationId: 1 });
  await member.sync([{ memberId: member.memberId, assignment: assignment([['orders', [0, 1]]]) }]);
  return member;
}

describe('group kinds side by side', () => {
  it('a group id is of one kind at a time: mixing gets INCONSISTENT_GROUP_PROTOCOL both ways', async () => {
    await setup();
    const native = new SimMember(coordinator, 'native', ['orders']);
    await settle(coordinator, 'native', [native]);
    const intruder = new ClassicClient(coordinator, 'native');
    expect(await (await intruder.startJoin()).result).toMatchObject({ errorCode: Errors.INCONSISTENT_GROUP_PROTOCOL.code });
    expect((await intruder.sync()).errorCode).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL.code);

    await classicMember('classic');
    const other = new SimMember(coordinator, 'classic', ['orders']);
    expect((await other.heartbeat()).errorCode).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL.code);
    expect(coordinator.group('native')!.state()).toBe('stable');
    expect(coordinator.classicGroupState('classic')!.currentState).toBe('stable');
  });

  it('offsets committed by a classic group show in the native fetch and describe; the group can then turn native', async () => {
    await setup();
    const member = await classicMember('g');
    expect(await member.commit(6, 0)).toBe(0);
    expect((await coordinator.fetchOffsets({ groupId: 'g' })).offsets).toEqual([
      { topic: 'orders', partition: 0, offset: 6, metadata: '', errorCode: 0 },
    ]);
    const [described] = (await coordinator.describeGroups({ groupIds: ['g'] })).groups;
    expect(described).toMatchObject({
      errorCode: 0,
      state: 'stable',
      kind: 'classic',
      protocolType: 'consumer',
      assignor: 'range',
      groupEpoch: 1,
    });
    expect(described!.members).toEqual([
      {
        memberId: member.memberId,
        clientId: 'kafka-python',
        memberEpoch: 1,
        subscription: ['orders'],
        assignment: [{ topic: 'orders', partitions: [0, 1] }],
        groupInstanceId: null,
        clientHost: '/127.0.0.1',
        metadata: subscription(['orders']),
        assignmentBytes: assignment([['orders', [0, 1]]]),
      },
    ]);
    expect(described!.offsets).toEqual([
      { topic: 'orders', partition: 0, committed: 6, logEndOffset: 10, lag: 4, memberId: member.memberId },
      { topic: 'orders', partition: 1, committed: -1, logEndOffset: 4, lag: 4, memberId: member.memberId },
    ]);
    expect((await coordinator.listGroups()).groups).toEqual([{ groupId: 'g', state: 'stable', members: 1, kind: 'classic' }]);
    expect((await coordinator.deleteGroups({ groupIds: ['g'] })).groups[0]!.errorCode).toBe(Errors.NON_EMPTY_GROUP.code);

    // The classic member leaves; a native member joins the now empty group and inherits its offsets.
    expect(await member.leave()).toBe(0);
    expect((await coordinator.listGroups()).groups).toEqual([{ groupId: 'g', state: 'empty', members: 0, kind: 'classic' }]);
    const native = new SimMember(coordinator, 'g', ['orders']);
    await settle(coordinator, 'g', [native]);
    expect(coordinator.group('g')!.getOffset('orders', 0)?.offset).toBe(6);
    expect((await coordinator.listGroups()).groups).toEqual([{ groupId: 'g', state: 'stable', members: 1 }]);
  });

  it('offsets committed by a native group show to a classic member (OffsetFetch) and its describe', async () => {
    await setup();
    const native = new SimMember(coordinator, 'g', ['orders']);
    await settle(coordinator, 'g', [native]);
    await coordinator.commitOffsets({
      groupId: 'g',
      memberId: native.memberId,
      memberEpoch: native.memberEpoch,
      offsets: [{ topic: 'orders', partition: 1, offset: 3, metadata: 'from-native' }],
    });
    await native.leave();
    const member = await classicMember('g');
    expect((await coordinator.fetchOffsets({ groupId: 'g', partitions: [{ topic: 'orders', partition: 1 }] })).offsets).toEqual([
      { topic: 'orders', partition: 1, offset: 3, metadata: 'from-native', errorCode: 0 },
    ]);
    const [described] = (await coordinator.describeGroups({ groupIds: ['g'] })).groups;
    expect(described!.offsets[1]).toEqual({ topic: 'orders', partition: 1, committed: 3, logEndOffset: 4, lag: 1, memberId: member.memberId });
  });

  it('deletes an empty classic group (tombstones) and rebuilds classic offsets on reopen', async () => {
    await setup();
    const a = await classicMember('kept');
    expect(await a.commit(8, 0)).toBe(0);
    const b = await classicMember('gone');
    expect(await b.commit(2, 1)).toBe(0);
    expect(await a.leave()).toBe(0);
    expect(await b.leave()).toBe(0);
    expect((await coordinator.deleteGroups({ groupIds: ['gone'] })).groups[0]!.errorCode).toBe(0);
    await coordinator.close();
    await open();
    // Membership is in memory only; the offsets come back (as an empty group of no particular kind yet).
    expect((await coordinator.listGroups()).groups).toEqual([{ groupId: 'kept', state: 'empty', members: 0 }]);
    expect((await coordinator.fetchOffsets({ groupId: 'kept' })).offsets.map((o) => o.offset)).toEqual([8]);
    const again = await classicMember('kept');
    expect(again.generationId).toBe(1);
    expect((await coordinator.fetchOffsets({ groupId: 'kept' })).offsets.map((o) => o.offset)).toEqual([8]);
  });
});
