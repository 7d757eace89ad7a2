// Proves the classic group state machine (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) in
// the coordinator, with a ManualClock, a fake topic table and an in-memory offset store:
// two members join (MEMBER_ID_REQUIRED first), the leader's assignment reaches both,
// heartbeats pass; a third member triggers a rebalance that the others learn of from
// REBALANCE_IN_PROGRESS; expired and non-rejoining members are removed; a static member
// is replaced without a rebalance and the old one is fenced; commits are fenced by
// generation and member id; and every parked JoinGroup/SyncGroup is answered on leave,
// expiry and close. Time only moves when the test advances the clock and runs expiry.

import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { MemoryOffsetStore } from '../../src/groups/offset-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';
import { ClassicClient, assignment } from './classic-helpers.js';
import { FakeLogs } from './helpers.js';

let coordinator: GroupCoordinator;
let clock: ManualClock;

async function setup(initialDelayMs = 0): Promise<void> {
  const logs = new FakeLogs();
  logs.createTopic('orders', 4);
  clock = new ManualClock();
  coordinator = await GroupCoordinator.open(logs.asLogManager(), {
    clock,
    offsetStore: new MemoryOffsetStore(),
    classicInitialRebalanceDelayMs: initialDelayMs,
    warn: () => {},
  });
}

afterEach(async () => {
  await coordinator?.close();
});

/** 'pending' when the promise has not settled after the current microtasks and one macrotask. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

function advance(ms: number): void {
  clock.advance(ms);
  coordinator.runSessionExpiry();
}

/** Two members in one generation (the initial delay lets the second one arrive), synced and stable. */
async function stableTwo(): Promise<[ClassicClient, ClassicClient]> {
  await setup(3000);
  const a = new ClassicClient(coordinator, 'g', { clientId: 'a' });
  const b = new ClassicClient(coordinator, 'g', { clientId: 'b' });
  const joinA = (await a.startJoin()).result;
  const joinB = (await b.startJoin()).result;
  expect(await peek(joinA)).toBe('pending');
  advance(3000);
  const [ra, rb] = await Promise.all([joinA, joinB]);
  expect(ra).toMatchObject({ errorCode: 0, generationId: 1, leader: a.memberId, protocolName: 'range', protocolType: 'consumer' });
  expect(rb).toMatchObject({ errorCode: 0, generationId: 1, leader: a.memberId, members: [] });
  expect(ra.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId]);
  expect(coordinator.classicGroupState('g')!.currentState).toBe('completing-rebalance');
  const syncB = b.sync();
  expect(await peek(syncB)).toBe('pending');
  const syncA = a.sync([
    { memberId: a.memberId, assignment: assignment([['orders', [0, 1]]]) },
    { memberId: b.memberId, assignment: assignment([['orders', [2, 3]]]) },
  ]);
  expect((await syncA).assignment).toEqual(assignment([['orders', [0, 1]]]));
  expect((await syncB).assignment).toEqual(assignment([['orders', [2, 3]]]));
  expect(coordinator.classicGroupState('g')!.currentState).toBe('stable');
  return [a, b];
}

describe('classic groups: join, sync, heartbeat', () => {
  it('two members join (MEMBER_ID_REQUIRED first), the leader assigns, both sync and heartbeat', async () => {
    const [a, b] = await stableTwo();
    expect(a.memberId).toMatch(/^a-/);
    expect(await a.heartbeat()).toBe(0);
    expect(await b.heartbeat()).toBe(0);
    // A follower's SyncGroup in a stable group answers at once with its bytes.
    expect((await b.sync()).assignment).toEqual(assignment([['orders', [2, 3]]]));
  });

  it('a third member triggers a rebalance: the others get REBALANCE_IN_PROGRESS, rejoin, and a new generation forms', async () => {
    const [a, b] = await stableTwo();
    const c = new ClassicClient(coordinator, 'g', { clientId: 'c' });
    const joinC = (await c.startJoin()).result;
    expect(coordinator.classicGroupState('g')!.currentState).toBe('preparing-rebalance');
    expect(await peek(joinC)).toBe('pending');
    expect(await a.heartbeat()).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    expect(await b.heartbeat()).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    // Members may still commit with the current generation before they rejoin.
    expect(await a.commit(3)).toBe(0);
    const joinA = (await a.startJoin()).result;
    expect(await peek(joinA)).toBe('pending');
    const joinB = (await b.startJoin()).result;
    const [ra, rb, rc] = await Promise.all([joinA, joinB, joinC]);
    for (const result of [ra, rb, rc]) expect(result).toMatchObject({ errorCode: 0, generationId: 2, leader: a.memberId });
    expect(ra.members).toHaveLength(3);
    // The old generation is fenced.
    expect(await c.heartbeat()).toBe(0);
    expect(await coordinator.classicHeartbeat({ groupId: 'g', generationId: 1, memberId: b.memberId })).toMatchObject({
      errorCode: Errors.ILLEGAL_GENERATION.code,
    });
  });

  it('a member whose session expires is removed and the rest rebalance; one that does not rejoin in time is dropped', async () => {
    const [a, b] = await stableTwo();
    advance(6000);
    expect(await a.heartbeat()).toBe(0);
    advance(6000); // b's 10 s session is over, a heartbeated 6 s ago
    expect(coordinator.classicGroupState('g')!.members.has(b.memberId)).toBe(false);
    expect(await b.heartbeat()).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    expect(await a.heartbeat()).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    const ra = await ((await a.startJoin()).result);
    expect(ra).toMatchObject({ errorCode: 0, generationId: 2, leader: a.memberId });
    expect(ra.members.map((m) => m.memberId)).toEqual([a.memberId]);

    // A new member joins; a does not rejoin within the rebalance timeout (30 s) and is removed.
    await a.sync([{ memberId: a.memberId, assignment: assignment([['orders', [0, 1, 2, 3]]]) }]);
    const c = new ClassicClient(coordinator, 'g', { clientId: 'c', sessionTimeoutMs: 60_000 });
    const joinC = (await c.startJoin()).result;
    for (let elapsed = 0; elapsed < 30_000; elapsed += 5000) {
      advance(5000);
      if (elapsed < 5000) expect(await a.heartbeat()).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    }
    const rc = await joinC;
    expect(rc).toMatchObject({ errorCode: 0, generationId: 3, leader: c.memberId });
    expect(coordinator.classicGroupState('g')!.members.has(a.memberId)).toBe(false);
  });

  it('a leader that never syncs: after the rebalance timeout it is removed and parked followers get REBALANCE_IN_PROGRESS', async () => {
    await setup(3000);
    const a = new ClassicClient(coordinator, 'g', { clientId: 'a', sessionTimeoutMs: 60_000 });
    const b = new ClassicClient(coordinator, 'g', { clientId: 'b', sessionTimeoutMs: 60_000 });
    const [joinA, joinB] = [(await a.startJoin()).result, (await b.startJoin()).result];
    advance(3000);
    await Promise.all([joinA, joinB]);
    const syncB = b.sync();
    advance(30_000);
    expect(await syncB).toMatchObject({ errorCode: Errors.REBALANCE_IN_PROGRESS.code });
    expect(coordinator.classicGroupState('g')!.members.has(a.memberId)).toBe(false);
    expect(coordinator.classicGroupState('g')!.currentState).toBe('preparing-rebalance');
  });

  it('leaving members (a batch) start a rebalance; the group empties and its state shows it', async () => {
    const [a, b] = await stableTwo();
    const result = await coordinator.leaveGroup({
      groupId: 'g',
      members: [{ memberId: a.memberId }, { memberId: 'nobody' }, { memberId: b.memberId }],
    });
    expect(result.members.map((m) => m.errorCode)).toEqual([0, Errors.UNKNOWN_MEMBER_ID.code, 0]);
    expect(coordinator.classicGroupState('g')).toBeUndefined(); // no members, no offsets: forgotten
    expect(await a.heartbeat()).toBe(Errors.UNKNOWN_MEMBER_ID.code);
  });

  it('checks protocols: another protocol type or no common protocol is INCONSISTENT_GROUP_PROTOCOL', async () => {
    const [a] = await stableTwo();
    void a;
    const other = new ClassicClient(coordinator, 'g', { protocolType: 'connect' });
    expect((await ((await other.startJoin()).result))).toMatchObject({ errorCode: Errors.INCONSISTENT_GROUP_PROTOCOL.code });
    const noCommon = new ClassicClient(coordinator, 'g', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] });
    expect((await ((await noCommon.startJoin()).result))).toMatchObject({ errorCode: Errors.INCONSISTENT_GROUP_PROTOCOL.code });
    expect(await coordinator.joinGroup({ ...other.request(), groupId: 'g2', sessionTimeoutMs: 10 })).toMatchObject({
      errorCode: Errors.INVALID_SESSION_TIMEOUT.code,
    });
    expect(await coordinator.joinGroup({ ...other.request(), groupId: 'g3', memberId: 'made-up' })).toMatchObject({
      errorCode: Errors.UNKNOWN_MEMBER_ID.code,
    });
  });

  it('selects the protocol every member supports, by vote', async () => {
    await setup(100);
    const proto = (names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    const a = new ClassicClient(coordinator, 'g', { protocols: proto(['roundrobin', 'range', 'sticky']) });
    const b = new ClassicClient(coordinator, 'g', { protocols: proto(['range', 'sticky']) });
    const c = new ClassicClient(coordinator, 'g', { protocols: proto(['sticky', 'range']) });
    const joins = [(await a.startJoin()).result, (await b.startJoin()).result, (await c.startJoin()).result];
    advance(100);
    const [ra] = await Promise.all(joins);
    // roundrobin is not supported by all; range gets a's and b's votes.
    expect(ra!.protocolName).toBe('range');
    expect(ra!.members.map((m) => m.metadata.toString())).toEqual(['range', 'range', 'range']);
  });
});

describe('classic groups: real time', () => {
  it('the background timer completes a join after the initial delay and expires a silent member', async () => {
    const logs = new FakeLogs();
    logs.createTopic('orders', 1);
    coordinator = await GroupCoordinator.open(logs.asLogManager(), {
      offsetStore: new MemoryOffsetStore(),
      classicInitialRebalanceDelayMs: 50,
      minSessionTimeoutMs: 100,
      warn: () => {},
    });
    const a = new ClassicClient(coordinator, 'g', { sessionTimeoutMs: 200 });
    const started = Date.now();
    expect(await (await a.startJoin()).result).toMatchObject({ errorCode: 0, generationId: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    await a.sync([]);
    // No heartbeats: the timer removes the member after its 200 ms session.
    while (coordinator.classicGroupState('g') !== undefined && Date.now() - started < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(coordinator.classicGroupState('g')).toBeUndefined();
  });
});

describe('classic groups: static membership', () => {
  it('a rejoin with the same group.instance.id replaces the old member without a rebalance; the old one is fenced', async () => {
    await setup(0);
    const a = new ClassicClient(coordinator, 'g', { groupInstanceId: 'pod-a' });
    const ra = await ((await a.startJoin()).result);
    expect(ra).toMatchObject({ errorCode: 0, generationId: 1, leader: a.memberId });
    const bytes = assignment([['orders', [0, 1, 2, 3]]]);
    expect((await a.sync([{ memberId: a.memberId, assignment: bytes }])).assignment).toEqual(bytes);

    const restarted = new ClassicClient(coordinator, 'g', { groupInstanceId: 'pod-a' });
    const rr = await ((await restarted.startJoin()).result);
    expect(rr).toMatchObject({ errorCode: 0, generationId: 1, leader: restarted.memberId, skipAssignment: true });
    expect(restarted.memberId).not.toBe(a.memberId);
    expect(coordinator.classicGroupState('g')!.currentState).toBe('stable');
    // The replacement keeps the assignment; the old incarnation is fenced everywhere.
    expect((await restarted.sync()).assignment).toEqual(bytes);
    expect(await a.heartbeat()).toBe(Errors.FENCED_INSTANCE_ID.code);
    expect(await a.commit(5)).toBe(Errors.FENCED_INSTANCE_ID.code);
    expect((await a.sync()).errorCode).toBe(Errors.FENCED_INSTANCE_ID.code);
    expect(await restarted.commit(5)).toBe(0);
    // Leaving by instance id.
    expect(await coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: '', groupInstanceId: 'pod-a' }] })).toMatchObject({
      members: [{ errorCode: 0 }],
    });
  });

  it('a static replacement with new protocols rebalances; the old parked join is answered FENCED_INSTANCE_ID', async () => {
    await setup(3000);
    const a = new ClassicClient(coordinator, 'g', { groupInstanceId: 'pod-a' });
    const joinA = (await a.startJoin()).result;
    const replacement = new ClassicClient(coordinator, 'g', { groupInstanceId: 'pod-a', topics: ['orders', 'refunds'] });
    const joinR = (await replacement.startJoin()).result;
    expect(await joinA).toMatchObject({ errorCode: Errors.FENCED_INSTANCE_ID.code });
    advance(3000);
    expect(await joinR).toMatchObject({ errorCode: 0, generationId: 1 });
  });
});

describe('classic groups: commits and parked requests', () => {
  it('fences commits by generation and member id; simple commits only while empty', async () => {
    const [a, b] = await stableTwo();
    expect(await a.commit(5)).toBe(0);
    expect(await a.commit(5, 0, 7)).toBe(Errors.ILLEGAL_GENERATION.code);
    expect(await coordinator.commitOffsets({ groupId: 'g', memberId: 'ghost', memberEpoch: 1, offsets: [{ topic: 'orders', partition: 0, offset: 1 }] })).toMatchObject({
      errorCode: Errors.UNKNOWN_MEMBER_ID.code,
    });
    // A simple commit (generation -1) into a group with members: Kafka's UNKNOWN_MEMBER_ID.
    expect(await coordinator.commitOffsets({ groupId: 'g', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1 }] })).toMatchObject({
      errorCode: Errors.UNKNOWN_MEMBER_ID.code,
    });
    // A new member starts a rebalance; once the join completes nobody commits until the leader synced.
    const c = new ClassicClient(coordinator, 'g', { clientId: 'c' });
    const joins = [(await c.startJoin()).result, (await a.startJoin()).result, (await b.startJoin()).result];
    await Promise.all(joins);
    expect(await a.commit(6)).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    expect(await a.commit(6, 0, 1)).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    await a.sync([]);
    expect(await b.commit(6, 0, 1)).toBe(Errors.ILLEGAL_GENERATION.code);
    expect(await b.commit(6)).toBe(0);
    for (const member of [a, b, c]) expect(await member.leave()).toBe(0);
    expect(coordinator.classicGroupState('g')!.currentState).toBe('empty');
    expect(await coordinator.commitOffsets({ groupId: 'g', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 1, offset: 9 }] })).toMatchObject({
      errorCode: 0,
    });
  });

  it('answers every parked JoinGroup and SyncGroup on close', async () => {
    await setup(3000);
    const leader = new ClassicClient(coordinator, 'h');
    const follower = new ClassicClient(coordinator, 'h');
    const joinsH = [(await leader.startJoin()).result, (await follower.startJoin()).result];
    advance(3000);
    await Promise.all(joinsH);
    const parkedSync = follower.sync();
    // g's joins wait out the initial delay.
    const joinsG = [(await new ClassicClient(coordinator, 'g').startJoin()).result, (await new ClassicClient(coordinator, 'g').startJoin()).result];
    expect(await peek(parkedSync)).toBe('pending');
    for (const parked of joinsG) expect(await peek(parked)).toBe('pending');
    await coordinator.close();
    expect(await parkedSync).toMatchObject({ errorCode: Errors.COORDINATOR_NOT_AVAILABLE.code });
    for (const parked of joinsG) expect(await parked).toMatchObject({ errorCode: Errors.COORDINATOR_NOT_AVAILABLE.code });
    expect(await leader.heartbeat()).toBe(Errors.COORDINATOR_NOT_AVAILABLE.code);
  });

  it('answers a parked JoinGroup of a member that leaves, and a superseded one', async () => {
    await setup(3000);
    const a = new ClassicClient(coordinator, 'g');
    const joinA = (await a.startJoin()).result;
    const again = (await a.startJoin()).result;
    expect(await joinA).toMatchObject({ errorCode: Errors.REBALANCE_IN_PROGRESS.code });
    expect(await a.leave()).toBe(0);
    expect(await again).toMatchObject({ errorCode: Errors.UNKNOWN_MEMBER_ID.code });
    expect(coordinator.classicGroupState('g')).toBeUndefined();
  });
});
