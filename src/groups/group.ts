// One consumer group: membership, the three epochs of KIP-848 and the ownership table.
//
//   groupEpoch             bumps when a member joins or leaves, a subscription changes,
//                          or a subscribed topic's partition count changes.
//   targetAssignmentEpoch  the group epoch the current target assignment was computed
//                          for; the target is recomputed (synchronously, by the group's
//                          assignor) whenever groupEpoch moves past it.
//   memberEpoch            per member: the target epoch it has reconciled to.
//
// `owners` maps each partition to the one member that owns it (assigned or pending
// revocation). A partition is claimed only when it has no owner, so no partition is
// ever in two members' assignments at once; claim() asserts it.
//
// Nothing here does I/O or reads a clock: the coordinator passes `nowMs` in, so every
// transition is a plain synchronous function of the state and the request.

import { assert } from '../util/assert.js';
import { Errors } from '../util/errors.js';
import {
  addPartition,
  copyAssignment,
  emptyAssignment,
  forEachPartition,
  hasPartition,
  intersects,
  assignmentsEqual,
  type Assignment,
} from './assignment.js';
import { assignorByName, type AssignorName } from './assignors/index.js';
import { GroupOffsets, type Committer, type ExpiryHooks, type GroupKind, type OffsetTable, type Problem, type TopicLookup } from './group-kind.js';
import { GroupMember, normalizeSubscription } from './member.js';
import { toTopicPartitions } from './assignment.js';
import type { GroupState, MemberDescription } from './types.js';

export type { CommittedOffset, TopicLookup } from './group-kind.js';

export class ConsumerGroup extends GroupOffsets implements GroupKind {
  readonly kind = 'consumer' as const;
  groupEpoch = 0;
  targetAssignmentEpoch = 0;
  assignorName: AssignorName = 'uniform';
  readonly members = new Map<string, GroupMember>();
  /** memberId -> target assignment at targetAssignmentEpoch. */
  readonly targetAssignment = new Map<string, Assignment>();
  /** topic -> partition count, as last used to compute the target. */
  readonly topicPartitions = new Map<string, number>();
  private readonly owners = new Map<string, Map<number, string>>();
  private readonly subscriberCounts = new Map<string, number>();

  constructor(
    readonly groupId: string,
    offsets?: OffsetTable,
  ) {
    super(offsets);
  }

  memberCount(): number {
    return this.members.size;
  }

  epoch(): number {
    return this.groupEpoch;
  }

  assignorOrProtocol(): string {
    return this.assignorName;
  }

  /**
   * KIP-848's commit rule: a member commits with its id and current epoch. An older
   * epoch is STALE_MEMBER_EPOCH (retriable: heartbeat, retry), a newer one
   * FENCED_MEMBER_EPOCH. memberId '' with epoch -1 is a simple commit, allowed only
   * while the group has no members, so a zombie cannot move a live group's position.
   */
  checkCommit({ memberId, memberEpoch }: Committer): Problem | undefined {
    if (memberId === '' && memberEpoch === -1) {
      if (this.members.size > 0) {
        return [Errors.NON_EMPTY_GROUP, `group ${this.groupId} has ${this.members.size} active members; commit as a member`];
      }
      return undefined;
    }
    const member = this.members.get(memberId);
    if (member === undefined) return [Errors.UNKNOWN_MEMBER_ID, `member ${memberId} is not in the group`];
    if (memberEpoch > member.memberEpoch) {
      return [Errors.FENCED_MEMBER_EPOCH, `member epoch ${memberEpoch} is ahead of ${member.memberEpoch}`];
    }
    if (memberEpoch < member.memberEpoch) {
      return [Errors.STALE_MEMBER_EPOCH, `member epoch ${memberEpoch} is older than ${member.memberEpoch}`];
    }
    return undefined;
  }

  describeMembers(): MemberDescription[] {
    return [...this.members.values()].map((member) => ({
      memberId: member.memberId,
      clientId: member.clientId,
      ...(member.clientHost !== '' ? { clientHost: member.clientHost } : {}),
      memberEpoch: member.memberEpoch,
      subscription: [...member.subscription],
      assignment: toTopicPartitions(member.assigned),
    }));
  }

  state(): GroupState {
    if (this.members.size === 0) return 'empty';
    if (this.groupEpoch > this.targetAssignmentEpoch) return 'assigning';
    for (const member of this.members.values()) {
      if (member.state !== 'stable' || member.memberEpoch !== this.targetAssignmentEpoch) return 'reconciling';
    }
    return 'stable';
  }

  ownerOf(topic: string, partition: number): string | undefined {
    return this.owners.get(topic)?.get(partition);
  }

  /** Subscribed topics of all members (the topics whose partition counts matter). */
  subscribedTopics(): string[] {
    return [...this.subscriberCounts.keys()].sort();
  }

  // --- membership -------------------------------------------------------------------

  addMember(member: GroupMember, subscription: readonly string[], assignor: AssignorName | undefined): void {
    assert(!this.members.has(member.memberId), `member ${member.memberId} already in group ${this.groupId}`);
    if (this.members.size === 0) this.assignorName = assignor ?? 'uniform';
    this.members.set(member.memberId, member);
    member.subscription = normalizeSubscription(subscription);
    this.countSubscription(member.subscription, 1);
    this.groupEpoch += 1;
  }

  /** Removes a member (leave or fence): its partitions become free at once. */
  removeMember(memberId: string): void {
    const member = this.members.get(memberId);
    if (member === undefined) return;
    this.releaseAll(member, member.assigned);
    this.releaseAll(member, member.pendingRevocation);
    member.assigned = emptyAssignment();
    member.pendingRevocation = emptyAssignment();
    this.countSubscription(member.subscription, -1);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    this.groupEpoch += 1;
    if (this.members.size === 0) {
      // An empty group has nothing to reconcile; the next join starts a fresh target.
      this.targetAssignment.clear();
      this.topicPartitions.clear();
      this.targetAssignmentEpoch = this.groupEpoch;
    }
  }

  /** Removes a member and recomputes the target so the others can take its partitions. */
  removeMemberAndRetarget(memberId: string, lookup: TopicLookup): void {
    this.removeMember(memberId);
    this.refreshTopics(lookup);
    this.maybeComputeTarget();
  }

  /** Fences members past their session or revocation deadline; returns the next deadline. */
  expire(nowMs: number, hooks: ExpiryHooks): number {
    let next = Number.POSITIVE_INFINITY;
    for (const member of [...this.members.values()]) {
      const deadline = member.deadlineMs();
      if (deadline > nowMs) {
        next = Math.min(next, deadline);
        continue;
      }
      const why = member.sessionDeadlineMs <= nowMs ? 'session timed out' : 'did not revoke partitions in time';
      hooks.onExpired(member.memberId, `fenced (${why})`);
      this.removeMemberAndRetarget(member.memberId, hooks.lookupTopic);
    }
    return next;
  }

  /** Returns true (and bumps the group epoch) when the subscription changed. */
  updateSubscription(member: GroupMember, topics: readonly string[]): boolean {
    const next = normalizeSubscription(topics);
    const previous = member.subscription;
    if (next.length === previous.length && next.every((topic, index) => topic === previous[index])) return false;
    this.countSubscription(previous, -1);
    this.countSubscription(next, 1);
    member.subscription = next;
    this.groupEpoch += 1;
    return true;
  }

  private countSubscription(topics: readonly string[], delta: 1 | -1): void {
    for (const topic of topics) {
      const count = (this.subscriberCounts.get(topic) ?? 0) + delta;
      assert(count >= 0, `negative subscriber count for ${topic}`);
      if (count === 0) this.subscriberCounts.delete(topic);
      else this.subscriberCounts.set(topic, count);
    }
  }

  /**
   * Re-reads the partition count of every subscribed topic. A topic that appeared,
   * grew or disappeared bumps the group epoch; unknown topics count as 0 partitions
   * and are simply not assigned until they exist.
   */
  refreshTopics(lookup: TopicLookup): boolean {
    const current = new Map<string, number>();
    for (const topic of this.subscriberCounts.keys()) {
      const count = lookup(topic);
      if (count > 0) current.set(topic, count);
    }
    let changed = current.size !== this.topicPartitions.size;
    for (const [topic, count] of current) if (this.topicPartitions.get(topic) !== count) changed = true;
    if (!changed) return false;
    this.topicPartitions.clear();
    for (const [topic, count] of current) this.topicPartitions.set(topic, count);
    this.groupEpoch += 1;
    return true;
  }

  // --- target assignment ------------------------------------------------------------

  /** Computes the target assignment when the group epoch has moved past it. */
  maybeComputeTarget(): boolean {
    if (this.groupEpoch === this.targetAssignmentEpoch) return false;
    assert(this.groupEpoch > this.targetAssignmentEpoch, 'target epoch ahead of group epoch');
    const assignor = assignorByName(this.assignorName);
    const result = assignor.assign({
      members: [...this.members.values()].map((member) => ({
        memberId: member.memberId,
        subscription: new Set(member.subscription),
        current: this.targetAssignment.get(member.memberId) ?? emptyAssignment(),
      })),
      topicPartitions: this.topicPartitions,
    });
    this.targetAssignment.clear();
    const seen = emptyAssignment();
    for (const memberId of this.members.keys()) {
      const target = result.get(memberId) ?? emptyAssignment();
      forEachPartition(target, (topic, partition) => {
        assert(!hasPartition(seen, topic, partition), `assignor ${assignor.name} gave ${topic}-${partition} twice`);
        addPartition(seen, topic, partition);
      });
      this.targetAssignment.set(memberId, target);
    }
    this.targetAssignmentEpoch = this.groupEpoch;
    return true;
  }

  // --- reconciliation (the model of Kafka's CurrentAssignmentBuilder) ---------------

  /**
   * Moves one member toward its target assignment. `owned` is what the member reported
   * in this heartbeat (undefined when it did not report: then it is assumed to still
   * own everything it was given). Returns true when its epoch or assignment changed.
   */
  reconcile(member: GroupMember, owned: Assignment | undefined, nowMs: number, rebalanceTimeoutMs: number): boolean {
    switch (member.state) {
      case 'stable':
        if (member.memberEpoch === this.targetAssignmentEpoch) return false;
        break;
      case 'unrevoked':
        if (owned === undefined || intersects(owned, member.pendingRevocation)) return false;
        // The member dropped what it was asked to drop: those partitions are free now.
        this.releaseAll(member, member.pendingRevocation);
        member.pendingRevocation = emptyAssignment();
        member.revocationDeadlineMs = Number.POSITIVE_INFINITY;
        break;
      case 'unreleased':
        break;
    }
    return this.computeNextAssignment(member, owned, nowMs, rebalanceTimeoutMs);
  }

  private computeNextAssignment(
    member: GroupMember,
    owned: Assignment | undefined,
    nowMs: number,
    rebalanceTimeoutMs: number,
  ): boolean {
    const target = this.targetAssignment.get(member.memberId) ?? emptyAssignment();
    const keep = emptyAssignment();
    const revoke = emptyAssignment();
    forEachPartition(member.assigned, (topic, partition) => {
      addPartition(hasPartition(target, topic, partition) ? keep : revoke, topic, partition);
    });
    const before = copyAssignment(member.assigned);
    const epochBefore = member.memberEpoch;

    if (revoke.size > 0 && (owned === undefined || intersects(owned, revoke))) {
      // Revoke first: the member keeps its epoch and is told to drop `revoke`; it owns
      // those partitions until it reports them gone, so nobody else can be given them.
      member.assigned = keep;
      member.pendingRevocation = revoke;
      member.state = 'unrevoked';
      member.revocationDeadlineMs = nowMs + rebalanceTimeoutMs;
      return true;
    }
    // Either nothing to revoke, or the member already reported the revoked ones dropped.
    this.releaseAll(member, revoke);

    let unreleased = false;
    forEachPartition(target, (topic, partition) => {
      if (hasPartition(keep, topic, partition)) return;
      const owner = this.ownerOf(topic, partition);
      if (owner === undefined) {
        this.claim(member, topic, partition);
        addPartition(keep, topic, partition);
      } else {
        assert(owner !== member.memberId, `${member.memberId} owns ${topic}-${partition} outside its assignment`);
        unreleased = true;
      }
    });
    member.assigned = keep;
    member.pendingRevocation = emptyAssignment();
    member.revocationDeadlineMs = Number.POSITIVE_INFINITY;
    member.state = unreleased ? 'unreleased' : 'stable';
    member.setEpoch(this.targetAssignmentEpoch);
    return epochBefore !== member.memberEpoch || !assignmentsEqual(before, keep);
  }

  // --- ownership --------------------------------------------------------------------

  private claim(member: GroupMember, topic: string, partition: number): void {
    let byPartition = this.owners.get(topic);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.owners.set(topic, byPartition);
    }
    const owner = byPartition.get(partition);
    assert(owner === undefined, `${topic}-${partition} given to ${member.memberId} while ${owner} owns it`);
    byPartition.set(partition, member.memberId);
  }

  private releaseAll(member: GroupMember, assignment: Assignment): void {
    forEachPartition(assignment, (topic, partition) => {
      const byPartition = this.owners.get(topic);
      const owner = byPartition?.get(partition);
      assert(owner === member.memberId, `${member.memberId} releases ${topic}-${partition} owned by ${owner}`);
      byPartition!.delete(partition);
      if (byPartition!.size === 0) this.owners.delete(topic);
    });
  }

  /** Full consistency check (tests call it after every step; cheap enough for debug). */
  checkInvariants(): void {
    const seen = emptyAssignment();
    let owned = 0;
    for (const member of this.members.values()) {
      for (const assignment of [member.assigned, member.pendingRevocation]) {
        forEachPartition(assignment, (topic, partition) => {
          assert(!hasPartition(seen, topic, partition), `${topic}-${partition} owned twice`);
          addPartition(seen, topic, partition);
          assert(this.ownerOf(topic, partition) === member.memberId, `owner table disagrees for ${topic}-${partition}`);
          owned += 1;
        });
      }
      assert(member.memberEpoch <= this.targetAssignmentEpoch, 'member epoch ahead of target epoch');
      assert(member.state === 'unrevoked' || member.pendingRevocation.size === 0, 'pending revocation outside unrevoked');
    }
    let table = 0;
    for (const byPartition of this.owners.values()) table += byPartition.size;
    assert(table === owned, 'owner table has entries for no member');
  }
}
