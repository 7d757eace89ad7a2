// One member of a consumer group, as the coordinator sees it. Membership lives only in
// memory: after a broker restart members get UNKNOWN_MEMBER_ID and rejoin with epoch 0.
//
// A member owns `assigned` (what its last response allowed it to consume) plus
// `pendingRevocation` (what it was asked to give up and has not yet reported as
// dropped). Nobody else may be given a partition while a member owns it.

import { emptyAssignment, type Assignment } from './assignment.js';

/**
 * stable: the member has its whole target assignment at the target epoch.
 * unrevoked: it must first drop `pendingRevocation`; its epoch stays where it was.
 * unreleased: it is at the target epoch but some target partitions are still owned
 *   by others; it receives them on a later heartbeat once they are released.
 */
export type MemberState = 'stable' | 'unrevoked' | 'unreleased';

export class GroupMember {
  memberEpoch = 0;
  /** The epoch before the last change, accepted once more in case a response was lost. */
  previousMemberEpoch = -1;
  state: MemberState = 'stable';
  subscription: string[] = [];
  assigned: Assignment = emptyAssignment();
  pendingRevocation: Assignment = emptyAssignment();
  /** The address the member's heartbeats come from ('' when not known). */
  clientHost = '';
  /** Monotonic ms after which the member is fenced for missing heartbeats. */
  sessionDeadlineMs: number;
  /** Monotonic ms after which a member still holding revoked partitions is fenced. */
  revocationDeadlineMs = Number.POSITIVE_INFINITY;

  constructor(
    readonly memberId: string,
    public clientId: string,
    public sessionTimeoutMs: number,
    nowMs: number,
  ) {
    this.sessionDeadlineMs = nowMs + sessionTimeoutMs;
  }

  /** The earliest time at which this member must be fenced unless it heartbeats. */
  deadlineMs(): number {
    return Math.min(this.sessionDeadlineMs, this.revocationDeadlineMs);
  }

  setEpoch(epoch: number): void {
    if (epoch === this.memberEpoch) return;
    this.previousMemberEpoch = this.memberEpoch;
    this.memberEpoch = epoch;
  }
}

/** Sorted, de-duplicated subscription; the form compared to detect a change. */
export function normalizeSubscription(topics: readonly string[]): string[] {
  return [...new Set(topics)].sort();
}
