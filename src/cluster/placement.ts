// Replica placement for a new topic (rack-unaware). Greedy over the live brokers, counting
// what they already hold: each partition's leader (its first replica, the preferred leader) is
// the broker leading the fewest partitions so far, and its followers the brokers holding the
// fewest replicas, ties broken by walking the ring of node ids from the leader with Kafka's
// shift (one further each round), so a failed broker's leaderships scatter over the cluster. Across topics the counts carry over, so
// leaders stay spread evenly over the cluster, not only within a topic: with B brokers the
// most-loaded and least-loaded broker differ by at most one leader after each placement.

import { assert } from '../util/assert.js';

export interface BrokerLoad {
  /** Partitions each live broker leads (preferred leaders count). */
  readonly leaders: ReadonlyMap<number, number>;
  /** Replicas each live broker holds. */
  readonly replicas: ReadonlyMap<number, number>;
}

/** replicas[p] for a topic of `partitions` partitions; `liveBrokers` must hold at least `replicationFactor`. */
export function placeReplicas(liveBrokers: readonly number[], partitions: number, replicationFactor: number, load?: BrokerLoad): number[][] {
  const brokers = [...new Set(liveBrokers)].sort((a, b) => a - b);
  assert(replicationFactor >= 1 && replicationFactor <= brokers.length, `replication factor ${replicationFactor} with ${brokers.length} live brokers`);
  assert(partitions >= 1, 'a topic has at least one partition');
  const leaders = new Map(brokers.map((id) => [id, load?.leaders.get(id) ?? 0]));
  const replicas = new Map(brokers.map((id) => [id, load?.replicas.get(id) ?? 0]));
  const placed: number[][] = [];
  let cursor = 0;
  // Partitions placed before this call: the round number that shifts the followers.
  let placedBefore = [...leaders.values()].reduce((sum, count) => sum + count, 0);
  for (let partition = 0; partition < partitions; partition++) {
    // The leader: fewest leaders, then fewest replicas, then the ring order from the cursor.
    let leaderIndex = -1;
    for (let step = 0; step < brokers.length; step++) {
      const index = (cursor + step) % brokers.length;
      if (leaderIndex < 0 || better(brokers[index]!, brokers[leaderIndex]!, leaders, replicas)) leaderIndex = index;
    }
    const leader = brokers[leaderIndex]!;
    cursor = (leaderIndex + 1) % brokers.length;
    // Kafka's replica shift: each round over the brokers starts the followers one further
    // along the ring, so a broker's partitions have their followers (its successors when it
    // fails) on many brokers, not on its two neighbours.
    const shift = brokers.length > 1 ? Math.floor(placedBefore / brokers.length) % (brokers.length - 1) : 0;
    placedBefore++;
    const followers = brokers
      .map((id, index) => ({ id, ring: (index - leaderIndex - 1 - shift + 2 * brokers.length) % brokers.length }))
      .filter((entry) => entry.id !== leader)
      .sort((a, b) => replicas.get(a.id)! - replicas.get(b.id)! || a.ring - b.ring)
      .slice(0, replicationFactor - 1)
      .map((entry) => entry.id);
    const chosen = [leader, ...followers];
    leaders.set(leader, leaders.get(leader)! + 1);
    for (const id of chosen) replicas.set(id, replicas.get(id)! + 1);
    placed.push(chosen);
  }
  return placed;
}

function better(candidate: number, best: number, leaders: ReadonlyMap<number, number>, replicas: ReadonlyMap<number, number>): boolean {
  const byLeaders = leaders.get(candidate)! - leaders.get(best)!;
  if (byLeaders !== 0) return byLeaders < 0;
  return replicas.get(candidate)! - replicas.get(best)! < 0;
}

/** Kafka's defaults: RF min(3, live brokers); min.insync.replicas 2 when RF >= 3, else 1. */
export function defaultReplicationFactor(liveBrokers: number): number {
  return Math.max(1, Math.min(3, liveBrokers));
}

export function defaultMinInsyncReplicas(replicationFactor: number): number {
  return replicationFactor >= 3 ? 2 : 1;
}
