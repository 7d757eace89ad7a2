// Proves the coordinator's membership and reconciliation rules without storage: an
// in-memory OffsetStore, a fake topic table and a ManualClock. Simulated consumers
// follow the protocol (own exactly their last assignment, report it); after every
// single heartbeat the test checks that no partition is held by two consumers and that
// the group's own ownership table is consistent. Covers join/balance, incremental moves
// when a 4th member joins, session expiry, clean leave, epoch fencing, lost responses,
// topic creation/deletion, and the argument checks.

import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { MemoryOffsetStore } from '../../src/groups/offset-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';
import { expectExclusive, FakeLogs, settle, SimMember } from './helpers.js';

let coordinator: GroupCoordinator;
let logs: FakeLogs;
let clock: ManualClock;

async function setup(): Promise<void> {
  logs = new FakeLogs();
  logs.createTopic('orders', 6);
  clock = new ManualClock();
  coordinator = await GroupCoordinator.open(logs.asLogManager(), {
    clock,
    offsetStore: new MemoryOffsetStore(),
    warn: () => {},
  });
}

afterEach(async () => {
  await coordinator?.close();
});

function members(count: number, extra = {}): SimMember[] {
  return Array.from({ length: count }, () => new SimMember(coordinator, 'g', ['orders'], extra));
}

describe('membership and assignment', () => {
  it('gives 3 members 2 of 6 partitions each', async () => {
    await setup();
    const group = members(3);
    await settle(coordinator, 'g', group);
    expect(group.map((m) => m.count())).toEqual([2, 2, 2]);
    const epoch = coordinator.group('g')!.groupEpoch;
    expect(group.every((m) => m.memberEpoch === epoch)).toBe(true);
    const response = await group[0]!.heartbeat();
    expect(response.heartbeatIntervalMs).toBe(3000);
  });

  it('moves only the partitions a 4th member needs, revoking before assigning', async () => {
    await setup();
    const group = members(3);
    await settle(coordinator, 'g', group);
    const before = group.map((m) => new Map([...m.owned].map(([t, s]) => [t, new Set(s)])));
    const fourth = new SimMember(coordinator, 'g', ['orders']);
    const all = [...group, fourth];
    // The joiner first gets nothing: every partition is still owned by someone.
    await fourth.heartbeat();
    expect(fourth.count()).toBe(0);
    expect(coordinator.group('g')!.state()).toBe('reconciling');
    const lost = new Set<string>();
    for (let round = 0; round < 5 && coordinator.group('g')!.state() !== 'stable'; round++) {
      for (const member of all) {
        await member.heartbeat();
        expectExclusive(all);
        coordinator.group('g')!.checkInvariants();
        group.forEach((m, index) => {
          // A member only ever loses partitions here; it never gets new ones meanwhile.
          for (const [topic, set] of m.owned) for (const p of set) expect(before[index]!.get(topic)!.has(p)).toBe(true);
          for (const [topic, set] of before[index]!) for (const p of set) if (!m.has(topic, p)) lost.add(`${topic}-${p}`);
        });
      }
    }
    expect(coordinator.group('g')!.state()).toBe('stable');
    expect(all.map((m) => m.count()).sort()).toEqual([1, 1, 2, 2]);
    // 6 partitions over 4 members: exactly one partition changed owner.
    expect(lost.size).toBe(1);
    expect(fourth.has('orders', Number([...lost][0]!.split('-')[1]))).toBe(true);
  });

  it('fences a member that stops heartbeating and moves its partitions', async () => {
    await setup();
    const group = members(3, { sessionTimeoutMs: 1000 });
    await settle(coordinator, 'g', group);
    expect((await group[0]!.heartbeat()).heartbeatIntervalMs).toBe(333);
    const [dead, ...alive] = group as [SimMember, ...SimMember[]];
    const deadId = dead.memberId;
    clock.advance(600);
    for (const m of alive) await m.heartbeat();
    clock.advance(500);
    coordinator.runSessionExpiry();
    expect(coordinator.group('g')!.members.has(deadId)).toBe(false);
    await settle(coordinator, 'g', alive);
    expect(alive.map((m) => m.count())).toEqual([3, 3]);
    // The zombie learns it is gone and must rejoin.
    const response = await dead.heartbeat();
    expect(response.errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
  });

  it('arms a real timer for the earliest deadline', async () => {
    logs = new FakeLogs();
    logs.createTopic('orders', 2);
    coordinator = await GroupCoordinator.open(logs.asLogManager(), { offsetStore: new MemoryOffsetStore(), warn: () => {} });
    const [member] = members(1, { sessionTimeoutMs: 500 });
    await member!.heartbeat();
    expect(coordinator.group('g')!.members.size).toBe(1);
    const start = Date.now();
    while (coordinator.group('g') !== undefined && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 50));
    expect(coordinator.group('g')).toBeUndefined();
  });

  it('moves the partitions of a member that leaves at once', async () => {
    await setup();
    const group = members(3);
    await settle(coordinator, 'g', group);
    await group[0]!.leave();
    // One heartbeat each and the remaining members own everything: nothing to wait for.
    for (const m of group.slice(1)) await m.heartbeat();
    expect(group.slice(1).map((m) => m.count())).toEqual([3, 3]);
    expect(coordinator.group('g')!.state()).toBe('stable');
  });

  it('fences a heartbeat with a wrong epoch but tolerates a lost response', async () => {
    await setup();
    const [a, b] = members(2);
    await settle(coordinator, 'g', [a!, b!]);
    const epoch = a!.memberEpoch;
    const wrong = await coordinator.heartbeat({ groupId: 'g', memberId: a!.memberId, memberEpoch: epoch + 5 });
    expect(wrong.errorCode).toBe(Errors.FENCED_MEMBER_EPOCH.code);
    expect(coordinator.group('g')!.members.has(a!.memberId)).toBe(false);

    // b's epoch moves when a third member joins; b then loses that response and retries
    // with its previous epoch and the partitions it kept: accepted.
    await settle(coordinator, 'g', [b!]);
    const c = new SimMember(coordinator, 'g', ['orders']);
    await c.heartbeat();
    const previous = b!.memberEpoch;
    await b!.heartbeat(); // b is asked to revoke (epoch unchanged)
    await b!.heartbeat(); // b revoked; moves to the new epoch
    expect(b!.memberEpoch).toBeGreaterThan(previous);
    const retried = await coordinator.heartbeat({
      groupId: 'g', memberId: b!.memberId, memberEpoch: previous, ownedPartitions: b!.ownedList(),
    });
    expect(retried.errorCode).toBe(0);
    expect(retried.memberEpoch).toBe(b!.memberEpoch);
  });

  it('rejects bad session timeouts, assignors and group ids', async () => {
    await setup();
    const base = { groupId: 'g', memberId: '', memberEpoch: 0, topics: ['orders'] };
    expect((await coordinator.heartbeat({ ...base, sessionTimeoutMs: 100 })).errorCode).toBe(Errors.INVALID_SESSION_TIMEOUT.code);
    expect((await coordinator.heartbeat({ ...base, sessionTimeoutMs: 10 * 60_000 })).errorCode).toBe(Errors.INVALID_SESSION_TIMEOUT.code);
    expect((await coordinator.heartbeat({ ...base, assignor: 'sticky' as 'range' })).errorCode).toBe(Errors.UNSUPPORTED_ASSIGNOR.code);
    expect((await coordinator.heartbeat({ ...base, groupId: '' })).errorCode).toBe(Errors.INVALID_GROUP_ID.code);
    expect((await coordinator.heartbeat({ ...base, memberId: 'x', memberEpoch: 3 })).errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
  });

  it('uses the first member\'s assignor', async () => {
    await setup();
    const group = members(2, { assignor: 'range' });
    await settle(coordinator, 'g', group);
    expect(coordinator.group('g')!.assignorName).toBe('range');
    const ranges = group.map((m) => [...m.owned.get('orders')!].sort((a, b) => a - b));
    expect(ranges.sort((x, y) => x[0]! - y[0]!)).toEqual([[0, 1, 2], [3, 4, 5]]);
  });

  it('ignores unknown topics until they exist and drops deleted ones', async () => {
    await setup();
    const [a, b] = [new SimMember(coordinator, 'g', ['orders', 'later']), new SimMember(coordinator, 'g', ['orders', 'later'])];
    await settle(coordinator, 'g', [a!, b!]);
    expect(a!.count() + b!.count()).toBe(6);
    logs.createTopic('later', 4);
    await settle(coordinator, 'g', [a!, b!]);
    expect([a!.count(), b!.count()]).toEqual([5, 5]);
    logs.deleteTopic('orders');
    await settle(coordinator, 'g', [a!, b!]);
    expect(a!.owned.has('orders') || b!.owned.has('orders')).toBe(false);
    expect([a!.count(), b!.count()]).toEqual([2, 2]);
  });

  it('follows a subscription change', async () => {
    await setup();
    logs.createTopic('payments', 2);
    const [a, b] = members(2);
    await settle(coordinator, 'g', [a!, b!]);
    b!.topics = ['payments'];
    await settle(coordinator, 'g', [a!, b!]);
    expect(a!.count()).toBe(6);
    expect([...b!.owned.keys()]).toEqual(['payments']);
  });

  it('fences a member that keeps heartbeating but never gives up revoked partitions', async () => {
    logs = new FakeLogs();
    logs.createTopic('orders', 4);
    clock = new ManualClock();
    const warnings: string[] = [];
    coordinator = await GroupCoordinator.open(logs.asLogManager(), {
      clock, offsetStore: new MemoryOffsetStore(), rebalanceTimeoutMs: 2000, warn: (line) => warnings.push(line),
    });
    const [stuck, joiner] = members(2, { sessionTimeoutMs: 1000 });
    await settle(coordinator, 'g', [stuck!]);
    await joiner!.heartbeat();
    // The stuck member is asked to revoke two partitions but keeps reporting all four.
    const keepAll = () => coordinator.heartbeat({
      groupId: 'g', memberId: stuck!.memberId, memberEpoch: stuck!.memberEpoch,
      ownedPartitions: [{ topic: 'orders', partitions: [0, 1, 2, 3] }],
    });
    expect((await keepAll()).assignment![0]!.partitions).toHaveLength(2);
    for (let step = 0; step < 4; step++) {
      clock.advance(600);
      coordinator.runSessionExpiry();
      if (coordinator.group('g')!.members.has(stuck!.memberId)) await keepAll();
      await joiner!.heartbeat();
      expect(joiner!.count()).toBe(step < 3 ? 0 : 4);
    }
    expect(warnings.some((line) => line.includes('did not revoke'))).toBe(true);
  });
});

