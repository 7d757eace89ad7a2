// The uniform assignor: balanced and sticky, for any mix of subscriptions.
//
// 1. Keep: every member keeps the partitions of its previous target that still exist
//    and that it still subscribes to (first member by id wins if two claim one).
// 2. Fill: each unassigned partition goes to the least-loaded member subscribed to its
//    topic, topics with the fewest subscribers first (they have the fewest choices).
// 3. Balance: while some member has at least 2 more partitions than another member
//    that could take one of them (is subscribed to that topic), move one partition from
//    the most loaded such donor to the least loaded receiver.
//
// Each move in step 3 lowers the sum of squared member loads, so it terminates. When
// all members share one subscription the result is balanced within one partition, and
// the number of moved partitions is the minimum: only members above their final quota
// give partitions up, and each gives up exactly its excess (tested as a property).
// With mixed subscriptions no single move can improve the balance at the end.

import { addPartition, removePartition, type Assignment } from '../assignment.js';
import type { AssignmentInput, Assignor, AssignorMember } from './types.js';

interface Load {
  member: AssignorMember;
  assignment: Assignment;
  count: number;
}

function byMemberId(a: { memberId: string }, b: { memberId: string }): number {
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

function compareLoad(a: Load, b: Load): number {
  return a.count - b.count || byMemberId(a.member, b.member);
}

export const uniformAssignor: Assignor = {
  name: 'uniform',
  assign(input: AssignmentInput): Map<string, Assignment> {
    const loads: Load[] = [...input.members]
      .sort(byMemberId)
      .map((member) => ({ member, assignment: new Map(), count: 0 }));
    const taken = new Map<string, Set<number>>();
    for (const topic of input.topicPartitions.keys()) taken.set(topic, new Set());

    keepCurrent(loads, input.topicPartitions, taken);
    fillUnassigned(loads, input.topicPartitions, taken);
    balance(loads);

    const result = new Map<string, Assignment>();
    for (const load of loads) result.set(load.member.memberId, load.assignment);
    return result;
  },
};

function keepCurrent(loads: Load[], topicPartitions: ReadonlyMap<string, number>, taken: Map<string, Set<number>>): void {
  for (const load of loads) {
    for (const [topic, partitions] of load.member.current) {
      const count = topicPartitions.get(topic) ?? 0;
      const takenOfTopic = taken.get(topic);
      if (takenOfTopic === undefined || !load.member.subscription.has(topic)) continue;
      for (const partition of partitions) {
        if (partition >= count || takenOfTopic.has(partition)) continue;
        takenOfTopic.add(partition);
        addPartition(load.assignment, topic, partition);
        load.count += 1;
      }
    }
  }
}

function fillUnassigned(loads: Load[], topicPartitions: ReadonlyMap<string, number>, taken: Map<string, Set<number>>): void {
  const subscribers = new Map<string, Load[]>();
  for (const topic of topicPartitions.keys()) {
    subscribers.set(topic, loads.filter((load) => load.member.subscription.has(topic)));
  }
  const topics = [...topicPartitions.keys()].sort(
    (a, b) => (subscribers.get(a)?.length ?? 0) - (subscribers.get(b)?.length ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const topic of topics) {
    const candidates = subscribers.get(topic) ?? [];
    if (candidates.length === 0) continue;
    const count = topicPartitions.get(topic) ?? 0;
    const takenOfTopic = taken.get(topic) ?? new Set<number>();
    for (let partition = 0; partition < count; partition++) {
      if (takenOfTopic.has(partition)) continue;
      let best = candidates[0]!;
      for (const candidate of candidates) if (compareLoad(candidate, best) < 0) best = candidate;
      takenOfTopic.add(partition);
      addPartition(best.assignment, topic, partition);
      best.count += 1;
    }
  }
}

function balance(loads: Load[]): void {
  for (;;) {
    const ascending = [...loads].sort(compareLoad);
    if (!moveOne(ascending)) return;
  }
}

/** Moves one partition from the most loaded possible donor to the least loaded receiver. */
function moveOne(ascending: Load[]): boolean {
  for (const receiver of ascending) {
    for (let index = ascending.length - 1; index >= 0; index--) {
      const donor = ascending[index]!;
      if (donor.count - receiver.count < 2) break;
      const movable = lastMovablePartition(donor, receiver);
      if (movable === undefined) continue;
      removePartition(donor.assignment, movable.topic, movable.partition);
      donor.count -= 1;
      addPartition(receiver.assignment, movable.topic, movable.partition);
      receiver.count += 1;
      return true;
    }
  }
  return false;
}

function lastMovablePartition(donor: Load, receiver: Load): { topic: string; partition: number } | undefined {
  const topics = [...donor.assignment.keys()].sort().reverse();
  for (const topic of topics) {
    if (!receiver.member.subscription.has(topic)) continue;
    const partitions = donor.assignment.get(topic);
    if (partitions === undefined || partitions.size === 0) continue;
    let highest = -1;
    for (const partition of partitions) if (partition > highest) highest = partition;
    return { topic, partition: highest };
  }
  return undefined;
}
