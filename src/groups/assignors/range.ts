// The range assignor: per topic, the members subscribed to it (sorted by member id)
// get contiguous ranges of partitions; with P partitions and M members the first
// P % M members get one extra. Predictable (member i reads the same range of every
// co-partitioned topic) but not sticky: a member joining shifts the ranges.

import { addPartition, type Assignment } from '../assignment.js';
import type { AssignmentInput, Assignor } from './types.js';

export const rangeAssignor: Assignor = {
  name: 'range',
  assign(input: AssignmentInput): Map<string, Assignment> {
    const members = [...input.members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const result = new Map<string, Assignment>();
    for (const member of members) result.set(member.memberId, new Map());
    for (const topic of [...input.topicPartitions.keys()].sort()) {
      const count = input.topicPartitions.get(topic) ?? 0;
      const subscribers = members.filter((member) => member.subscription.has(topic));
      if (subscribers.length === 0) continue;
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, index) => {
        const size = base + (index < extra ? 1 : 0);
        const assignment = result.get(member.memberId)!;
        for (let partition = next; partition < next + size; partition++) addPartition(assignment, topic, partition);
        next += size;
      });
    }
    return result;
  },
};
