// An assignment is a set of partitions per topic: Map<topic, Set<partition>>. These
// helpers keep the set algebra of reconciliation (intersection, difference) short and
// give the wire form (TopicPartitions[], sorted) in one place.

import type { TopicPartitions } from '../protocol/messages.js';

export type Assignment = Map<string, Set<number>>;

export function emptyAssignment(): Assignment {
  return new Map();
}

export function addPartition(assignment: Assignment, topic: string, partition: number): void {
  let partitions = assignment.get(topic);
  if (partitions === undefined) {
    partitions = new Set();
    assignment.set(topic, partitions);
  }
  partitions.add(partition);
}

export function removePartition(assignment: Assignment, topic: string, partition: number): void {
  const partitions = assignment.get(topic);
  if (partitions === undefined) return;
  partitions.delete(partition);
  if (partitions.size === 0) assignment.delete(topic);
}

export function hasPartition(assignment: Assignment | undefined, topic: string, partition: number): boolean {
  return assignment?.get(topic)?.has(partition) ?? false;
}

export function partitionCount(assignment: Assignment): number {
  let count = 0;
  for (const partitions of assignment.values()) count += partitions.size;
  return count;
}

export function isEmptyAssignment(assignment: Assignment): boolean {
  for (const partitions of assignment.values()) if (partitions.size > 0) return false;
  return true;
}

export function copyAssignment(assignment: Assignment): Assignment {
  const copy: Assignment = new Map();
  for (const [topic, partitions] of assignment) if (partitions.size > 0) copy.set(topic, new Set(partitions));
  return copy;
}

/** Calls fn for every (topic, partition) of the assignment. */
export function forEachPartition(assignment: Assignment, fn: (topic: string, partition: number) => void): void {
  for (const [topic, partitions] of assignment) for (const partition of partitions) fn(topic, partition);
}

/** True when some partition is in both assignments. */
export function intersects(left: Assignment, right: Assignment): boolean {
  for (const [topic, partitions] of left) {
    const other = right.get(topic);
    if (other === undefined) continue;
    for (const partition of partitions) if (other.has(partition)) return true;
  }
  return false;
}

/** True when every partition of `inner` is in `outer`. */
export function isSubset(inner: Assignment, outer: Assignment): boolean {
  for (const [topic, partitions] of inner) {
    for (const partition of partitions) if (!hasPartition(outer, topic, partition)) return false;
  }
  return true;
}

export function assignmentsEqual(left: Assignment, right: Assignment): boolean {
  return partitionCount(left) === partitionCount(right) && isSubset(left, right);
}

/** Sorted wire form: topics by name, partitions ascending, empty topics left out. */
export function toTopicPartitions(assignment: Assignment): TopicPartitions[] {
  const result: TopicPartitions[] = [];
  for (const topic of [...assignment.keys()].sort()) {
    const partitions = assignment.get(topic);
    if (partitions === undefined || partitions.size === 0) continue;
    result.push({ topic, partitions: [...partitions].sort((a, b) => a - b) });
  }
  return result;
}

export function fromTopicPartitions(list: readonly TopicPartitions[]): Assignment {
  const assignment: Assignment = new Map();
  for (const entry of list) for (const partition of entry.partitions) addPartition(assignment, entry.topic, partition);
  return assignment;
}
