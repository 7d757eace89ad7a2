// Proves the leader-side rules of core/replica-fetch.ts on a real replicated LogManager, with
// the replication state supplied by the test: the HW is the minimum log end over the ISR
// (a follower not heard from holds it; one outside the ISR does not), followers' log ends
// and last caught-up times are reported for ISR decisions, leader appends are
// stamped with the leader's epoch, ReplicaFetch and OffsetForLeaderEpoch are fenced by
// epoch (FENCED_LEADER_EPOCH older, UNKNOWN_LEADER_EPOCH newer, NOT_LEADER_OR_FOLLOWER on a
// follower), acks=all waiters resolve in offset order as the HW passes them, time out with
// REQUEST_TIMED_OUT, and fail with NOT_LEADER_OR_FOLLOWER when leadership moves.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type PartitionReplicaState, ReplicaManager } from '../../src/broker/core/replica-fetch.js';
import { BatchLayout } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import { makeBatch, tempDataDir } from '../storage/helpers.js';

let data: ReturnType<typeof tempDataDir>;
let manager: LogManager;
let state: PartitionReplicaState | null;
let notified = 0;
let replicas: ReplicaManager;

beforeEach(async () => {
  data = tempDataDir();
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, replicated: true });
  await manager.createTopic('t', 1);
  state = { leaderId: 1, leaderEpoch: 4, isr: [1, 2, 3] };
  notified = 0;
  replicas = new ReplicaManager(manager, { brokerId: 1, state: { partitionState: () => state }, minInsyncReplicas: 2, ackTimeoutMs: 200 }, () => notified++);
});
afterEach(async () => {
  replicas.close();
  await manager.close();
  data.cleanup();
});

async function leaderAppend(records: number): Promise<{ baseOffset: number; lastOffset: number }> {
  replicas.checkProduce('t', 0, -1);
  const result = await manager.getPartition('t', 0).append(makeBatch(records, records));
  replicas.afterLeaderAppend('t', 0);
  return result;
}

describe('ReplicaManager on the leader', () => {
  it('moves the HW to the minimum follower log end over the ISR and stamps the leader epoch', async () => {
    const log = replicas.replicaLog('t', 0);
    await leaderAppend(3);
    await leaderAppend(2);
    expect(log.read(0, 1000).bytes.readInt32BE(BatchLayout.PARTITION_LEADER_EPOCH)).toBe(4);
    expect(log.highWatermark).toBe(0);
    replicas.readForFollower(2, 't', 0, 4, 5, 1000);
    expect(log.highWatermark).toBe(0); // follower 3 not heard from
    const read = replicas.readForFollower(3, 't', 0, 4, 3, 1000);
    expect(read.highWatermark).toBe(3);
    expect(read.logEndOffset).toBe(5);
    expect(notified).toBeGreaterThan(0);
    const followers = replicas.followerStates('t', 0).sort((a, b) => a.replicaId - b.replicaId);
    expect(followers.map((f) => [f.replicaId, f.logEndOffset])).toEqual([
      [2, 5],
      [3, 3],
    ]);
    expect(followers[0]!.lastCaughtUpMs).toBeGreaterThan(0);
    expect(followers[1]!.lastCaughtUpMs).toBe(-1);
    // Follower 3 leaves the ISR: the HW follows the others.
    state = { leaderId: 1, leaderEpoch: 4, isr: [1, 2] };
    replicas.stateChanged('t', 0);
    expect(log.highWatermark).toBe(5);
    expect(replicas.endOffsetForEpoch('t', 0, 4, 4)).toEqual({ epoch: 4, endOffset: 5 });
    expect(replicas.endOffsetForEpoch('t', 0, -1, 2)).toEqual({ epoch: 2, endOffset: 0 });
  });

  it('fences by leader epoch and role', () => {
    expect(() => replicas.readForFollower(2, 't', 0, 3, 0, 100)).toThrow(expect.objectContaining({ code: 'FENCED_LEADER_EPOCH' }));
    expect(() => replicas.readForFollower(2, 't', 0, 5, 0, 100)).toThrow(expect.objectContaining({ code: 'UNKNOWN_LEADER_EPOCH' }));
    expect(() => replicas.endOffsetForEpoch('t', 0, 5, 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_LEADER_EPOCH' }));
    expect(() => replicas.readForFollower(2, 't', 0, 4, 7, 100)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    state = { leaderId: 2, leaderEpoch: 5, isr: [1, 2] };
    expect(() => replicas.readForFollower(3, 't', 0, 5, 0, 100)).toThrow(expect.objectContaining({ code: 'NOT_LEADER_OR_FOLLOWER' }));
    expect(() => replicas.checkProduce('t', 0, 1)).toThrow(expect.objectContaining({ code: 'NOT_LEADER_OR_FOLLOWER' }));
    state = { leaderId: 1, leaderEpoch: 5, isr: [1] };
    expect(() => replicas.checkProduce('t', 0, -1)).toThrow(expect.objectContaining({ code: 'NOT_ENOUGH_REPLICAS' }));
    expect(() => replicas.checkProduce('t', 0, 1)).not.toThrow();
    state = null;
    expect(() => replicas.checkProduce('t', 0, -1)).not.toThrow();
  });

  it('wakes acks=all waiters in offset order as the HW passes them; times out; fails them when leadership moves', async () => {
    state = { leaderId: 1, leaderEpoch: 4, isr: [1, 2] };
    const first = await leaderAppend(2);
    const second = await leaderAppend(2);
    const order: string[] = [];
    const waitFirst = replicas.waitForHighWatermark('t', 0, first.lastOffset + 1).then(() => order.push('first'));
    const waitSecond = replicas.waitForHighWatermark('t', 0, second.lastOffset + 1).then(() => order.push('second'));
    replicas.readForFollower(2, 't', 0, 4, 2, 1000);
    await waitFirst;
    expect(order).toEqual(['first']);
    replicas.readForFollower(2, 't', 0, 4, 4, 1000);
    await waitSecond;
    expect(order).toEqual(['first', 'second']);

    const third = await leaderAppend(1);
    await expect(replicas.waitForHighWatermark('t', 0, third.lastOffset + 1)).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT' });

    const fourth = await leaderAppend(1);
    const lost = replicas.waitForHighWatermark('t', 0, fourth.lastOffset + 1);
    state = { leaderId: 2, leaderEpoch: 5, isr: [1, 2] };
    replicas.stateChanged('t', 0);
    await expect(lost).rejects.toMatchObject({ code: 'NOT_LEADER_OR_FOLLOWER' });
    expect(replicas.replicaLog('t', 0).leaderEpoch).toBe(-1);
  });
});
