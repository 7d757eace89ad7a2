// What an assignor sees and returns. Assignors are pure functions of this input: the
// coordinator calls one each time the group epoch moves past the target assignment
// epoch, and reconciliation then moves every member toward the result.

import type { Assignment } from '../assignment.js';

export interface AssignorMember {
  memberId: string;
  /** Topic names the member subscribes to. */
  subscription: ReadonlySet<string>;
  /** The member's previous target assignment: the input for stickiness. */
  current: Assignment;
}

export interface AssignmentInput {
  members: readonly AssignorMember[];
  /** Partition count of every subscribed topic that exists (topics with 0 are absent). */
  topicPartitions: ReadonlyMap<string, number>;
}

export interface Assignor {
  readonly name: AssignorName;
  /** Returns an assignment for every member (possibly empty); each partition at most once. */
  assign(input: AssignmentInput): Map<string, Assignment>;
}

export const AssignorNames = ['uniform', 'range'] as const;
export type AssignorName = (typeof AssignorNames)[number];

export function isAssignorName(name: string): name is AssignorName {
  return (AssignorNames as readonly string[]).includes(name);
}
