// Proves the split of share groups into share-partition leaders and a share coordinator
// (src/groups/README.md "Share groups in a cluster"), in process with a memory state store
// and a manual clock:
// - the coordinator fences a deposed leader: a read or write with an older leader epoch is
//   FENCED_LEADER_EPOCH (a read alone already fences), and nothing of a refused write is
//   stored;
// - an admin reset bumps the state epoch: the leader that still holds the old state is
//   FENCED_STATE_EPOCH at its next write, drops its copy, and its next fetch reads the reset
//   state (the records below the new start are never handed out again);
// - a leader that loses its data partition answers NOT_LEADER_OR_FOLLOWER and drops its
//   share-partition; the new leader (a higher epoch) takes it up from the stored state:
//   records accepted before are not delivered again, acquired-but-unanswered ones are;
// - records at or past the high watermark are never handed out (a cluster's leader must
//   not hand out what the in-sync replicas do not all hold);
// - a bad group id, topic or partition in a request from another broker is refused with a
//   clear error, not an assertion;
// - the v3 state value (with epochs) has the documented bytes and v1 is still read.

import { describe, expect, it } from 'vitest';
import { ShareCoordinatorState } from '../../src/groups/share-coordinator-state.js';
import { ShareGroups } from '../../src/groups/share-groups.js';
import { ShareDefaults, ShareRecordState } from '../../src/groups/share-partition.js';
import { LocalSharePersister, type ShareLeadership } from '../../src/groups/share-persister.js';
import { decodeShareStateValue, encodeShareStateValue } from '../../src/groups/share-state-codec.js';
import { MemoryShareStateStore } from '../../src/groups/share-state-store.js';
import { encodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const limits = { lockDurationMs: 1_000, deliveryLimit: 5, maxInFlightRecords: ShareDefaults.maxInFlightRecords };

class TestLeadership implements ShareLeadership {
  readonly clustered = true;
  epoch: number | null = 1;
  leaderEpoch(): number | null {
    return this.epoch;
  }
}

async function setup(): Promise<{ state: ShareCoordinatorState; leaders: [ShareGroups, ShareGroups]; roles: [TestLeadership, TestLeadership]; clock: ManualClock }> {
  const logs = await LogManager.open({ dataDir: mkdtempSync(join(tmpdir(), 'spool-share-cluster-')), fsync: { kind: 'never' }, warn: () => {} });
  await logs.createTopic('jobs', 1);
  await logs.getPartition('jobs', 0).append(encodeBatch(Array.from({ length: 10 }, (_, index) => ({ value: Buffer.from(`v${index}`) }))));
  const clock = new ManualClock();
  // One coordinator; two leaders over the same log (a failover moves leadership between them).
  const coordinator = new ShareGroups(logs, new MemoryShareStateStore(), clock, limits, () => undefined);
  const persister = new LocalSharePersister(coordinator.state);
  // Leaders without readNow: they take share-partitions up through prepare(), as on another broker.
  const remote = { read: persister.read.bind(persister), write: persister.write.bind(persister), configure: persister.configure.bind(persister), reset: persister.reset.bind(persister) };
  const roles: [TestLeadership, TestLeadership] = [new TestLeadership(), new TestLeadership()];
  roles[1].epoch = null;
  const leaders = roles.map((leadership) => new ShareGroups(logs, new MemoryShareStateStore(), clock, limits, () => undefined, undefined, { persister: remote, leadership })) as [ShareGroups, ShareGroups];
  return { state: coordinator.state, leaders, roles, clock };
}

const fetchSpec = (memberId: string, maxRecords = 10) => ({ groupId: 'g', memberId, maxRecords, maxBytes: 1 << 20, partitions: [{ topic: 'jobs', partition: 0 }] });

async function acquire(leader: ShareGroups, memberId: string, maxRecords = 10) {
  const failures = await leader.prepare('g', fetchSpec(memberId).partitions);
  return leader.acquire(fetchSpec(memberId, maxRecords), failures).partitions[0]!;
}

describe('share groups split into partition leaders and a share coordinator', () => {
  it('fences a deposed leader at the coordinator; the new leader resumes from the stored state', async () => {
    const { state, leaders, roles } = await setup();
    const [old, next] = leaders;
    const first = await acquire(old, 'a', 6);
    expect(first.acquired).toEqual([{ firstOffset: 0, lastOffset: 5, deliveryCount: 1 }]);
    // Offsets 0..2 accepted (answered: stored at the coordinator); 3..5 stay acquired.
    const acked = await old.acknowledge({ groupId: 'g', memberId: 'a', partitions: [{ topic: 'jobs', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 2, type: 1 }] }] });
    expect(acked.partitions[0]!.errorCode).toBe(0);

    // Leadership moves (epoch 2) to the other broker, which reads the stored state: 3.. come back.
    roles[0].epoch = null;
    roles[1].epoch = 2;
    const taken = await acquire(next, 'b');
    expect(taken.acquired).toEqual([
      { firstOffset: 3, lastOffset: 5, deliveryCount: 2 },
      { firstOffset: 6, lastOffset: 9, deliveryCount: 1 },
    ]);
    // The old leader no longer serves the partition, and drops its copy.
    const stale = old.acquire(fetchSpec('a'));
    expect(stale.partitions[0]!.errorCode).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);
    const lateAck = await old.acknowledge({ groupId: 'g', memberId: 'a', partitions: [{ topic: 'jobs', partition: 0, ranges: [{ firstOffset: 3, lastOffset: 5, type: 1 }] }] });
    expect(lateAck.partitions[0]!.errorCode).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);

    // A zombie writing with the old epoch is refused, and nothing of it is stored.
    const zombie = await state.write('g', [{ topic: 'jobs', partition: 0, leaderEpoch: 1, stateEpoch: 0, startOffset: 6, runs: [] }]);
    expect(zombie.partitions[0]!.errorCode).toBe(Errors.FENCED_LEADER_EPOCH.code);
    expect(() => state.read('g', 'jobs', 0, 1)).toThrow(expect.objectContaining({ kind: Errors.FENCED_LEADER_EPOCH }));
    expect(state.read('g', 'jobs', 0, 2).value?.startOffset).toBe(3);
  });

  it('a reset bumps the state epoch: the leader holding the old state is fenced at its next write and reads the reset one', async () => {
    const { state, leaders } = await setup();
    const [leader] = leaders;
    expect((await acquire(leader, 'a', 2)).acquired).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 1 }]);
    await state.reset('g', 'jobs', [{ partition: 0, offset: 8 }]);
    expect(state.read('g', 'jobs', 0, 1)).toMatchObject({ stateEpoch: 1, value: { startOffset: 8, runs: [] } });
    // The leader's acknowledgement carries state epoch 0: fenced, and its copy is dropped.
    const acked = await leader.acknowledge({ groupId: 'g', memberId: 'a', partitions: [{ topic: 'jobs', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 1, type: 1 }] }] });
    expect(acked.partitions[0]!.errorCode).toBe(Errors.FENCED_STATE_EPOCH.code);
    expect((await acquire(leader, 'a')).acquired).toEqual([{ firstOffset: 8, lastOffset: 9, deliveryCount: 1 }]);
  });

  it('refuses, before touching the store, a bad group id, topic or partition from another broker (found by the fuzz)', async () => {
    const { state } = await setup();
    const long = 'x'.repeat(70_000);
    await expect(state.configure(long, { deliveryLimit: 3 }, true)).rejects.toMatchObject({ kind: Errors.INVALID_GROUP_ID });
    await expect(state.reset('g', long, [{ partition: 0, offset: 1 }])).rejects.toMatchObject({ kind: Errors.INVALID_TOPIC });
    await expect(state.write('g', [{ topic: 'jobs', partition: -1, leaderEpoch: 1, stateEpoch: 0, startOffset: 0, runs: [] }])).rejects.toMatchObject({ kind: Errors.INVALID_REQUEST });
    expect(() => state.read('g', '', 0, 1)).toThrow(expect.objectContaining({ kind: Errors.INVALID_TOPIC }));
    // A window larger than a share-partition holds (a reader would allocate and walk 2^31 offsets): refused, nothing stored.
    const huge = [{ firstOffset: 0, lastOffset: 2 ** 31, state: ShareRecordState.AVAILABLE, deliveryCount: 0 }];
    await expect(state.write('g', [{ topic: 'jobs', partition: 0, leaderEpoch: 1, stateEpoch: 0, startOffset: 0, runs: huge }])).rejects.toMatchObject({ kind: Errors.INVALID_REQUEST });
    const tooBig = [{ firstOffset: 0, lastOffset: 9_999, state: ShareRecordState.AVAILABLE, deliveryCount: 0 }];
    expect(() => decodeShareStateValue(encodeShareStateValue({ startOffset: 0, runs: tooBig, leaderEpoch: 1 }))).toThrow(/window/);
  });

  it('hands out nothing at or past the high watermark', async () => {
    const logs = await LogManager.open({ dataDir: mkdtempSync(join(tmpdir(), 'spool-share-hw-')), fsync: { kind: 'never' }, warn: () => {}, replicated: true });
    await logs.createTopic('jobs', 1);
    const log = logs.getPartition('jobs', 0);
    await log.append(encodeBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }]));
    await log.append(encodeBatch([{ value: Buffer.from('c') }]));
    const shares = new ShareGroups(logs, new MemoryShareStateStore(), new ManualClock(), limits, () => undefined);
    expect(shares.acquire(fetchSpec('a')).partitions[0]!.acquired).toEqual([]);
    log.advanceHighWatermark(2);
    expect(shares.acquire(fetchSpec('a')).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 1 }]);
    log.advanceHighWatermark(3);
    expect(shares.acquire(fetchSpec('a')).partitions[0]!.acquired).toEqual([{ firstOffset: 2, lastOffset: 2, deliveryCount: 1 }]);
    await logs.close();
  });
});

describe('share state value v3 (epochs)', () => {
  it('encodes the documented bytes; v1 still decodes; no epochs still writes v1', () => {
    const runs = [{ firstOffset: 5, lastOffset: 6, state: ShareRecordState.AVAILABLE, deliveryCount: 1 }];
    const v3 = encodeShareStateValue({ startOffset: 5, runs, leaderEpoch: 7, stateEpoch: 2 });
    expect(v3.toString('hex')).toBe(['03', '00000007', '00000002', '0000000000000005', '00000001', '00000002', '00', '01'].join(''));
    expect(decodeShareStateValue(v3)).toEqual({ startOffset: 5, runs, leaderEpoch: 7, stateEpoch: 2 });
    const v1 = encodeShareStateValue({ startOffset: 5, runs });
    expect(v1[0]).toBe(1);
    expect(decodeShareStateValue(v1)).toEqual({ startOffset: 5, runs });
    expect(() => decodeShareStateValue(v3.subarray(0, 20))).toThrow(/share state/);
  });
});
