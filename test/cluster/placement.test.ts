// Proves the pure rules the controller applies, without etcd: placement spreads leaders and
// replicas evenly within a topic and across topics (counts carried over), never puts two
// replicas of a partition on one broker, and the default RF/min.insync follow Kafka; the
// leader-election rule keeps a live leader, elects the first live ISR member in assignment
// order with epoch + 1, goes offline keeping the last ISR, and comes back from the ISR only.

import { describe, expect, it } from 'vitest';
import { defaultMinInsyncReplicas, defaultReplicationFactor, placeReplicas } from '../../src/cluster/placement.js';
import { nextPartitionState } from '../../src/cluster/leader-election.js';
import { NO_LEADER } from '../../src/cluster/values.js';

function counts(placed: number[][], pick: (replicas: number[]) => number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const replicas of placed) for (const id of pick(replicas)) result.set(id, (result.get(id) ?? 0) + 1);
  return result;
}

function spread(map: Map<number, number>, brokers: number[]): number {
  const values = brokers.map((id) => map.get(id) ?? 0);
  return Math.max(...values) - Math.min(...values);
}

describe('placeReplicas', () => {
  it('spreads leaders and replicas evenly over 3 brokers, distinct replicas per partition', () => {
    const placed = placeReplicas([1, 2, 3], 6, 3);
    expect(placed).toHaveLength(6);
    for (const replicas of placed) expect(new Set(replicas).size).toBe(3);
    expect([...counts(placed, (r) => [r[0]!]).values()]).toEqual([2, 2, 2]);
  });

  it('keeps leaders even across many topics and 100 brokers', () => {
    const brokers = Array.from({ length: 100 }, (_, index) => index + 1);
    const leaders = new Map<number, number>();
    const replicas = new Map<number, number>();
    for (let topic = 0; topic < 40; topic++) {
      const placed = placeReplicas(brokers, 7, 3, { leaders, replicas });
      for (const chosen of placed) {
        leaders.set(chosen[0]!, (leaders.get(chosen[0]!) ?? 0) + 1);
        for (const id of chosen) replicas.set(id, (replicas.get(id) ?? 0) + 1);
      }
    }
    expect(spread(leaders, brokers)).toBeLessThanOrEqual(1);
    expect(spread(replicas, brokers)).toBeLessThanOrEqual(1);
  });

  it('scatters a broker\'s followers, so its leaderships move to many brokers when it fails', () => {
    const brokers = Array.from({ length: 10 }, (_, index) => index + 1);
    const placed = placeReplicas(brokers, 1000, 3);
    const successors = new Set(placed.filter((replicas) => replicas[0] === 1).map((replicas) => replicas[1]));
    expect(successors.size).toBeGreaterThanOrEqual(8);
  });

  it('places around brokers that already lead more', () => {
    const placed = placeReplicas([1, 2, 3], 2, 1, { leaders: new Map([[1, 5], [2, 5]]), replicas: new Map([[1, 5], [2, 5]]) });
    expect(placed).toEqual([[3], [3]]);
  });

  it('defaults: RF min(3, live), min.insync 2 from RF 3', () => {
    expect([1, 2, 3, 9].map(defaultReplicationFactor)).toEqual([1, 2, 3, 3]);
    expect([1, 2, 3, 5].map(defaultMinInsyncReplicas)).toEqual([1, 1, 2, 2]);
  });

  it('refuses more replicas than brokers (an assertion: callers check first)', () => {
    expect(() => placeReplicas([1, 2], 1, 3)).toThrow(/replication factor/);
  });
});

describe('nextPartitionState', () => {
  const state = { leader: 1, leaderEpoch: 4, isr: [1, 2, 3], controllerEpoch: 10 };
  const replicas = [1, 2, 3];

  it('changes nothing while the leader and the ISR are live', () => {
    expect(nextPartitionState(state, replicas, new Set([1, 2, 3]), 11)).toBeNull();
  });

  it('drops a dead follower from the ISR, same leader epoch', () => {
    expect(nextPartitionState(state, replicas, new Set([1, 3]), 11)).toEqual({ leader: 1, leaderEpoch: 4, isr: [1, 3], controllerEpoch: 11 });
  });

  it('elects the first live ISR member in assignment order, epoch + 1', () => {
    expect(nextPartitionState({ ...state, isr: [1, 3, 2] }, [1, 2, 3], new Set([2, 3]), 11)).toEqual({ leader: 2, leaderEpoch: 5, isr: [3, 2], controllerEpoch: 11 });
  });

  it('never elects outside the ISR (unclean election off): offline, last ISR kept', () => {
    const offline = nextPartitionState({ ...state, isr: [1] }, replicas, new Set([2, 3]), 11);
    expect(offline).toEqual({ leader: NO_LEADER, leaderEpoch: 5, isr: [1], controllerEpoch: 11 });
    expect(nextPartitionState(offline!, replicas, new Set([2, 3]), 11)).toBeNull();
    expect(nextPartitionState(offline!, replicas, new Set([1, 2]), 12)).toEqual({ leader: 1, leaderEpoch: 6, isr: [1], controllerEpoch: 12 });
  });
});
