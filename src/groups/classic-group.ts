// A classic consumer group: Kafka's JoinGroup/SyncGroup protocol with client-side
// assignment, in the model of Kafka's ClassicGroup (GroupMetadata) state machine.
//
//   empty ──join──> preparing-rebalance ──all known members rejoined, or the
//     ^                 ^      │            rebalance (or initial delay) deadline──>
//     │   leave/expiry/ │      v
//     │   new member    │   completing-rebalance ──leader's SyncGroup──> stable
//     └── last member gone (after the join completes with nobody) ─────────┘
//
// - JoinGroup parks (a promise) until the join phase completes; then every rejoined
//   member gets the new generation, the selected protocol and the leader's id, and the
//   leader also gets every member's metadata. Members that did not rejoin by the
//   deadline are removed.
// - SyncGroup parks until the leader's SyncGroup brings the assignment; then every
//   parked member gets its bytes and the group is stable. A leader that does not sync
//   within the rebalance timeout gets the members that did not sync removed, and a
//   new rebalance starts.
// - Every parked promise is resolved: with the answer, with REBALANCE_IN_PROGRESS (a
//   new rebalance started under a parked SyncGroup), UNKNOWN_MEMBER_ID (the member was
//   removed), FENCED_INSTANCE_ID (a static member was replaced), or
//   COORDINATOR_NOT_AVAILABLE (close(): shutdown, group deleted or converted).
//
// Like ConsumerGroup, nothing here does I/O or reads a clock: the coordinator passes
// `nowMs` in and drives deadlines through expire().

import { randomUUID } from 'node:crypto';
import { assert } from '../util/assert.js';
import { Errors, type ErrorKind } from '../util/errors.js';
import { ClassicMember, EMPTY_BYTES } from './classic-member.js';
import { decodeConsumerAssignment, decodeConsumerSubscription } from './consumer-protocol.js';
import { GroupOffsets, type Committer, type ExpiryHooks, type GroupKind, type OffsetTable, type Problem } from './group-kind.js';
import type {
  ClassicHeartbeat,
  ClassicHeartbeatResult,
  ErrorResult,
  GroupState,
  JoinGroup,
  JoinGroupResult,
  LeaveGroup,
  LeaveGroupResult,
  MemberDescription,
  SyncGroup,
  SyncGroupResult,
} from './types.js';

export type ClassicState = 'empty' | 'preparing-rebalance' | 'completing-rebalance' | 'stable' | 'dead';

export interface ClassicLimits {
  /** Kafka's group.initial.rebalance.delay.ms: the first rebalance of an empty group waits this long for more members. */
  initialRebalanceDelayMs: number;
  /** Kafka's group.max.size. */
  maxGroupSize: number;
}

function failure(kind: ErrorKind, message?: string): ErrorResult {
  return { errorCode: kind.code, errorMessage: message ?? kind.message };
}

function joinFailure(kind: ErrorKind, memberId: string, message?: string): JoinGroupResult {
  return {
    ...failure(kind, message),
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function syncFailure(kind: ErrorKind, message?: string): SyncGroupResult {
  return { ...failure(kind, message), protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class ClassicGroup extends GroupOffsets implements GroupKind {
  readonly kind = 'classic' as const;
  currentState: ClassicState = 'empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Insertion order = join order (the first is the leader when one must be chosen). */
  readonly members = new Map<string, ClassicMember>();
  /** group.instance.id -> member id of the static member holding it. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED -> the deadline to join with them. */
  readonly pendingMembers = new Map<string, number>();
  /** preparing-rebalance: when the join phase completes at the latest. */
  private joinDeadlineMs = Number.POSITIVE_INFINITY;
  /** false during the initial delay: wait for the deadline even if every known member joined. */
  private joinCompletesEarly = true;
  /** The initial delay is extended by new joins, but never past this. */
  private initialDelayLimitMs = Number.POSITIVE_INFINITY;
  /** completing-rebalance: when members that did not SyncGroup are removed. */
  private syncDeadlineMs = Number.POSITIVE_INFINITY;
  /** "topic\0partition" -> member id, decoded from the stable assignment; undefined = not computed since the last change. */
  private owners: Map<string, string> | undefined;

  constructor(
    readonly groupId: string,
    private readonly limits: ClassicLimits,
    offsets?: OffsetTable,
  ) {
    super(offsets);
  }

  // --- GroupKind ------------------------------------------------------------------------

  state(): GroupState {
    return this.currentState;
  }

  memberCount(): number {
    return this.members.size;
  }

  /** No members and nobody holding a member id from MEMBER_ID_REQUIRED. */
  isVacant(): boolean {
    return this.members.size === 0 && this.pendingMembers.size === 0;
  }

  epoch(): number {
    return this.generationId;
  }

  assignorOrProtocol(): string {
    return this.protocolName ?? '';
  }

  /**
   * Kafka's classic commit rule: generation -1 (a simple commit) only while the group
   * is empty; otherwise the member must be in the group (and hold its instance id) and
   * commit with the current generation. During completing-rebalance nobody commits
   * (REBALANCE_IN_PROGRESS); during preparing-rebalance members of the current
   * generation still may, so they can commit before they rejoin.
   */
  checkCommit({ memberId, memberEpoch: generationId, groupInstanceId }: Committer): Problem | undefined {
    if (generationId < 0 && this.currentState === 'empty') return undefined;
    if (this.currentState === 'completing-rebalance') {
      return [Errors.REBALANCE_IN_PROGRESS, `group ${this.groupId} is rebalancing; rejoin, then commit`];
    }
    const memberProblem = this.validateMember(memberId, groupInstanceId);
    if (memberProblem !== undefined) return memberProblem;
    if (generationId !== this.generationId) {
      return [Errors.ILLEGAL_GENERATION, `generation ${generationId} is not the current generation ${this.generationId}`];
    }
    return undefined;
  }

  describeMembers(): MemberDescription[] {
    const consumerProtocol = this.protocolType === 'consumer';
    return [...this.members.values()].map((member) => {
      const metadata = this.protocolName === null ? EMPTY_BYTES : member.metadataFor(this.protocolName);
      return {
        memberId: member.memberId,
        clientId: member.clientId,
        memberEpoch: this.generationId,
        subscription: (consumerProtocol ? decodeConsumerSubscription(metadata) : undefined) ?? [],
        assignment: (consumerProtocol ? decodeConsumerAssignment(member.assignment) : undefined) ?? [],
        groupInstanceId: member.groupInstanceId,
        clientHost: member.clientHost,
        metadata,
        assignmentBytes: member.assignment,
      };
    });
  }

  subscribedTopics(): string[] {
    const topics = new Set<string>();
    for (const member of this.describeMembers()) for (const topic of member.subscription) topics.add(topic);
    return [...topics].sort();
  }

  ownerOf(topic: string, partition: number): string | undefined {
    if (this.protocolType !== 'consumer' || this.currentState !== 'stable') return undefined;
    // Decoded once per assignment, not once per partition asked about (describe asks for every one).
    if (this.owners === undefined) {
      this.owners = new Map();
      for (const member of this.members.values()) {
        for (const entry of decodeConsumerAssignment(member.assignment) ?? []) {
          for (const owned of entry.partitions) this.owners.set(`${entry.topic}\u0000${owned}`, member.memberId);
        }
      }
    }
    return this.owners.get(`${topic}\u0000${partition}`);
  }

  // --- JoinGroup ------------------------------------------------------------------------

  join(request: JoinGroup, nowMs: number): Promise<JoinGroupResult> {
    if (this.currentState === 'dead') {
      return Promise.resolve(joinFailure(Errors.COORDINATOR_NOT_AVAILABLE, request.memberId));
    }
    if (!this.supportsProtocols(request.protocolType, request)) {
      return Promise.resolve(
        joinFailure(
          Errors.INCONSISTENT_GROUP_PROTOCOL,
          request.memberId,
          `protocol type ${request.protocolType} or protocols [${request.protocols.map((p) => p.name).join(', ')}] do not match group ${this.groupId}`,
        ),
      );
    }
    const instanceId = request.groupInstanceId ?? null;
    if (request.memberId === '') {
      if (instanceId !== null) {
        const existing = this.staticMembers.get(instanceId);
        if (existing !== undefined) return this.replaceStaticMember(this.members.get(existing)!, request, nowMs);
        return this.addMemberAndRebalance(`${instanceId}-${randomUUID()}`, request, nowMs);
      }
      const memberId = `${request.clientId}-${randomUUID()}`;
      if (request.requireKnownMemberId) {
        if (this.members.size + this.pendingMembers.size >= this.limits.maxGroupSize) return this.groupFull(request.memberId);
        // Kafka KIP-394: the client rejoins with this id, so a lost response never leaves a ghost member.
        this.pendingMembers.set(memberId, nowMs + request.sessionTimeoutMs);
        return Promise.resolve(joinFailure(Errors.MEMBER_ID_REQUIRED, memberId, 'join again with the given member id'));
      }
      return this.addMemberAndRebalance(memberId, request, nowMs);
    }
    if (this.pendingMembers.has(request.memberId)) {
      this.pendingMembers.delete(request.memberId);
      return this.addMemberAndRebalance(request.memberId, request, nowMs);
    }
    const memberProblem = this.validateMember(request.memberId, instanceId);
    if (memberProblem !== undefined) return Promise.resolve(joinFailure(memberProblem[0], request.memberId, memberProblem[1]));
    const member = this.members.get(request.memberId)!;
    switch (this.currentState) {
      case 'preparing-rebalance':
        return this.updateMemberAndRebalance(member, request, nowMs);
      case 'completing-rebalance':
        // A member whose JoinGroup response was lost: same metadata, same answer.
        if (member.sameProtocols(request.protocols)) return Promise.resolve(this.joinResult(member));
        return this.updateMemberAndRebalance(member, request, nowMs);
      case 'stable':
        // The leader rejoining, or a member with new metadata (say, a new subscription), means: rebalance.
        if (member.memberId !== this.leaderId && member.sameProtocols(request.protocols)) {
          member.sessionDeadlineMs = nowMs + member.sessionTimeoutMs;
          return Promise.resolve(this.joinResult(member));
        }
        return this.updateMemberAndRebalance(member, request, nowMs);
      default:
        assert(false, `member ${member.memberId} in a group in state ${this.currentState}`);
    }
  }

  private groupFull(memberId: string): Promise<JoinGroupResult> {
    return Promise.resolve(
      joinFailure(Errors.GROUP_MAX_SIZE_REACHED, memberId, `group ${this.groupId} has reached ${this.limits.maxGroupSize} members`),
    );
  }

  private supportsProtocols(protocolType: string, request: JoinGroup): boolean {
    if (protocolType === '' || request.protocols.length === 0) return false;
    if (this.members.size === 0) return true;
    if (protocolType !== this.protocolType) return false;
    const others = [...this.members.values()].filter((member) => member.memberId !== request.memberId);
    return request.protocols.some((protocol) => others.every((member) => member.supports(protocol.name)));
  }

  private addMemberAndRebalance(memberId: string, request: JoinGroup, nowMs: number): Promise<JoinGroupResult> {
    if (this.members.size >= this.limits.maxGroupSize) return this.groupFull(memberId);
    const instanceId = request.groupInstanceId ?? null;
    const member = new ClassicMember(
      memberId,
      instanceId,
      request.clientId,
      request.clientHost,
      request.sessionTimeoutMs,
      request.rebalanceTimeoutMs,
      request.protocols,
      nowMs,
    );
    if (this.members.size === 0) this.protocolType = request.protocolType;
    this.leaderId ??= memberId;
    this.members.set(memberId, member);
    if (instanceId !== null) this.staticMembers.set(instanceId, memberId);
    const parked = this.park(member);
    if (this.currentState === 'preparing-rebalance' && !this.joinCompletesEarly) {
      // The initial delay: each new member buys the others a little more time to arrive.
      this.joinDeadlineMs = Math.min(nowMs + this.limits.initialRebalanceDelayMs, this.initialDelayLimitMs);
    }
    this.maybePrepareRebalance(nowMs);
    this.tryCompleteJoin(nowMs);
    return parked;
  }

  private updateMemberAndRebalance(member: ClassicMember, request: JoinGroup, nowMs: number): Promise<JoinGroupResult> {
    member.protocols = request.protocols;
    member.clientId = request.clientId;
    member.clientHost = request.clientHost;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    // A second JoinGroup from a member already parked replaces the first (the client gave up on it).
    member.awaitingJoin?.(joinFailure(Errors.REBALANCE_IN_PROGRESS, member.memberId, 'superseded by a newer JoinGroup'));
    member.awaitingJoin = undefined;
    const parked = this.park(member);
    this.maybePrepareRebalance(nowMs);
    this.tryCompleteJoin(nowMs);
    return parked;
  }

  /**
   * A static member (known group.instance.id) joins with an empty member id: it gets a
   * new member id and the old one is fenced. In a stable group with unchanged protocols
   * it takes over the old member's assignment without a rebalance (KIP-345); otherwise
   * the group rebalances.
   */
  private replaceStaticMember(old: ClassicMember, request: JoinGroup, nowMs: number): Promise<JoinGroupResult> {
    const instanceId = old.groupInstanceId;
    assert(instanceId !== null, 'replacing a dynamic member as static');
    const oldMemberId = old.memberId;
    const newMemberId = `${instanceId}-${randomUUID()}`;
    const fenced = `member ${oldMemberId} was replaced by a new member with instance id ${instanceId}`;
    old.awaitingJoin?.(joinFailure(Errors.FENCED_INSTANCE_ID, oldMemberId, fenced));
    old.awaitingSync?.(syncFailure(Errors.FENCED_INSTANCE_ID, fenced));
    old.awaitingJoin = undefined;
    old.awaitingSync = undefined;
    // Re-key the member, keeping its place in the join order and its assignment.
    const entries = [...this.members.entries()];
    this.members.clear();
    for (const [memberId, member] of entries) this.members.set(memberId === oldMemberId ? newMemberId : memberId, member);
    old.memberId = newMemberId;
    this.owners = undefined;
    this.staticMembers.set(instanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;

    if (this.currentState === 'stable' && old.sameProtocols(request.protocols)) {
      old.clientId = request.clientId;
      old.clientHost = request.clientHost;
      old.sessionTimeoutMs = request.sessionTimeoutMs;
      old.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
      old.sessionDeadlineMs = nowMs + old.sessionTimeoutMs;
      const result = this.joinResult(old);
      // A replaced leader must not recompute the assignment: the group stays as it is.
      if (newMemberId === this.leaderId) result.skipAssignment = true;
      return Promise.resolve(result);
    }
    return this.updateMemberAndRebalance(old, request, nowMs);
  }

  private park(member: ClassicMember): Promise<JoinGroupResult> {
    assert(member.awaitingJoin === undefined, `member ${member.memberId} parked twice`);
    return new Promise<JoinGroupResult>((resolve) => {
      member.awaitingJoin = resolve;
    });
  }

  /** The answer of a completed join for one member; the leader also gets every member's metadata. */
  private joinResult(member: ClassicMember): JoinGroupResult {
    const protocolName = this.protocolName;
    assert(protocolName !== null, 'join result without a protocol');
    const isLeader = member.memberId === this.leaderId;
    return {
      errorCode: Errors.NONE.code,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName,
      leader: this.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: isLeader
        ? [...this.members.values()].map((each) => ({
            memberId: each.memberId,
            groupInstanceId: each.groupInstanceId,
            metadata: each.metadataFor(protocolName),
          }))
        : [],
    };
  }

  private maybePrepareRebalance(nowMs: number): void {
    if (this.currentState === 'stable' || this.currentState === 'completing-rebalance' || this.currentState === 'empty') {
      this.prepareRebalance(nowMs);
    }
  }

  private prepareRebalance(nowMs: number): void {
    if (this.currentState === 'completing-rebalance') {
      // The assignment being waited for is for a generation that will not be.
      for (const member of this.members.values()) {
        member.awaitingSync?.(syncFailure(Errors.REBALANCE_IN_PROGRESS, `group ${this.groupId} started a new rebalance; rejoin`));
        member.awaitingSync = undefined;
      }
    }
    this.syncDeadlineMs = Number.POSITIVE_INFINITY;
    const rebalanceTimeoutMs = this.maxRebalanceTimeoutMs();
    if (this.currentState === 'empty' && this.limits.initialRebalanceDelayMs > 0) {
      this.joinCompletesEarly = false;
      this.initialDelayLimitMs = nowMs + rebalanceTimeoutMs;
      this.joinDeadlineMs = Math.min(nowMs + this.limits.initialRebalanceDelayMs, this.initialDelayLimitMs);
    } else {
      this.joinCompletesEarly = true;
      this.joinDeadlineMs = nowMs + rebalanceTimeoutMs;
    }
    this.currentState = 'preparing-rebalance';
  }

  private maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const member of this.members.values()) max = Math.max(max, member.rebalanceTimeoutMs);
    return max;
  }

  private allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (member.awaitingJoin === undefined) return false;
    return true;
  }

  private tryCompleteJoin(nowMs: number): void {
    if (this.currentState !== 'preparing-rebalance') return;
    // Nobody left to wait for (every member left): no point in waiting out an initial delay.
    const early = this.joinCompletesEarly || this.isVacant();
    if ((early && this.allMembersJoined()) || nowMs >= this.joinDeadlineMs) this.completeJoin(nowMs);
  }

  /** The join phase is over: drop who did not rejoin, start the next generation, answer every parked join. */
  private completeJoin(nowMs: number): void {
    for (const member of [...this.members.values()]) {
      if (member.awaitingJoin === undefined) this.removeMember(member, Errors.UNKNOWN_MEMBER_ID, 'did not rejoin in time');
    }
    this.joinDeadlineMs = Number.POSITIVE_INFINITY;
    this.owners = undefined;
    this.generationId += 1;
    for (const member of this.members.values()) member.assignment = EMPTY_BYTES;
    if (this.members.size === 0) {
      this.currentState = 'empty';
      this.protocolName = null;
      this.protocolType = null;
      this.leaderId = null;
      return;
    }
    this.protocolName = this.selectProtocol();
    if (this.leaderId === null || !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value!;
    this.currentState = 'completing-rebalance';
    this.syncDeadlineMs = nowMs + this.maxRebalanceTimeoutMs();
    for (const member of this.members.values()) {
      const resolve = member.awaitingJoin!;
      member.awaitingJoin = undefined;
      member.sessionDeadlineMs = nowMs + member.sessionTimeoutMs;
      resolve(this.joinResult(member));
    }
  }

  /**
   * Kafka's selectProtocol: among the protocols every member supports, each member
   * votes for the first of them in its own preference order; most votes wins (ties go
   * to the earlier one in the first member's order).
   */
  private selectProtocol(): string {
    const members = [...this.members.values()];
    const first = members[0]!;
    const candidates = first.protocols.map((protocol) => protocol.name).filter((name) => members.every((m) => m.supports(name)));
    assert(candidates.length > 0, `group ${this.groupId} has no common protocol`);
    const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
    for (const member of members) {
      const choice = member.protocols.find((protocol) => votes.has(protocol.name))!.name;
      votes.set(choice, votes.get(choice)! + 1);
    }
    let best = candidates[0]!;
    for (const name of candidates) if (votes.get(name)! > votes.get(best)!) best = name;
    return best;
  }

  // --- SyncGroup ------------------------------------------------------------------------

  sync(request: SyncGroup, nowMs: number): Promise<SyncGroupResult> {
    if (this.currentState === 'dead') return Promise.resolve(syncFailure(Errors.COORDINATOR_NOT_AVAILABLE));
    const memberProblem = this.validateMember(request.memberId, request.groupInstanceId);
    if (memberProblem !== undefined) return Promise.resolve(syncFailure(...memberProblem));
    const member = this.members.get(request.memberId)!;
    if (request.generationId !== this.generationId) {
      return Promise.resolve(
        syncFailure(Errors.ILLEGAL_GENERATION, `generation ${request.generationId} is not the current generation ${this.generationId}`),
      );
    }
    if (
      (request.protocolType != null && request.protocolType !== this.protocolType) ||
      (request.protocolName != null && request.protocolName !== this.protocolName)
    ) {
      return Promise.resolve(syncFailure(Errors.INCONSISTENT_GROUP_PROTOCOL, 'protocol type or name differs from the group'));
    }
    member.sessionDeadlineMs = nowMs + member.sessionTimeoutMs;
    switch (this.currentState) {
      case 'preparing-rebalance':
        return Promise.resolve(syncFailure(Errors.REBALANCE_IN_PROGRESS, `group ${this.groupId} is rebalancing; rejoin`));
      case 'stable':
        return Promise.resolve(this.syncResult(member));
      case 'completing-rebalance': {
        member.awaitingSync?.(syncFailure(Errors.REBALANCE_IN_PROGRESS, 'superseded by a newer SyncGroup'));
        const parked = new Promise<SyncGroupResult>((resolve) => {
          member.awaitingSync = resolve;
        });
        if (member.memberId === this.leaderId) this.applyAssignment(request.assignments);
        return parked;
      }
      default:
        assert(false, `member ${member.memberId} in a group in state ${this.currentState}`);
    }
  }

  private syncResult(member: ClassicMember): SyncGroupResult {
    return { errorCode: Errors.NONE.code, protocolType: this.protocolType, protocolName: this.protocolName, assignment: member.assignment };
  }

  /** The leader's assignment: every member gets its bytes (none named = empty), the group is stable. */
  private applyAssignment(assignments: SyncGroup['assignments']): void {
    this.owners = undefined;
    const byMember = new Map(assignments.map((entry) => [entry.memberId, entry.assignment]));
    for (const member of this.members.values()) member.assignment = byMember.get(member.memberId) ?? EMPTY_BYTES;
    this.currentState = 'stable';
    this.syncDeadlineMs = Number.POSITIVE_INFINITY;
    for (const member of this.members.values()) {
      const resolve = member.awaitingSync;
      member.awaitingSync = undefined;
      resolve?.(this.syncResult(member));
    }
  }

  // --- Heartbeat and LeaveGroup ---------------------------------------------------------

  heartbeat(request: ClassicHeartbeat, nowMs: number): ClassicHeartbeatResult {
    if (this.currentState === 'dead') return failure(Errors.COORDINATOR_NOT_AVAILABLE);
    const memberProblem = this.validateMember(request.memberId, request.groupInstanceId);
    if (memberProblem !== undefined) return failure(...memberProblem);
    const member = this.members.get(request.memberId)!;
    if (request.generationId !== this.generationId) {
      return failure(Errors.ILLEGAL_GENERATION, `generation ${request.generationId} is not the current generation ${this.generationId}`);
    }
    member.sessionDeadlineMs = nowMs + member.sessionTimeoutMs;
    if (this.currentState === 'preparing-rebalance') {
      return failure(Errors.REBALANCE_IN_PROGRESS, `group ${this.groupId} is rebalancing; rejoin`);
    }
    return { errorCode: Errors.NONE.code };
  }

  leave(request: LeaveGroup, nowMs: number): LeaveGroupResult {
    const members = request.members.map(({ memberId, groupInstanceId }) => {
      const instanceId = groupInstanceId ?? null;
      const result = { memberId, groupInstanceId: instanceId, errorCode: Errors.NONE.code } as LeaveGroupResult['members'][number];
      let leaving: string;
      if (instanceId !== null) {
        const holder = this.staticMembers.get(instanceId);
        if (holder === undefined) return Object.assign(result, failure(Errors.UNKNOWN_MEMBER_ID, `no member with instance id ${instanceId}`));
        if (memberId !== '' && memberId !== holder) {
          return Object.assign(result, failure(Errors.FENCED_INSTANCE_ID, `instance id ${instanceId} belongs to another member`));
        }
        leaving = holder;
      } else if (this.pendingMembers.delete(memberId)) {
        this.tryCompleteJoin(nowMs);
        return result;
      } else {
        leaving = memberId;
      }
      const member = this.members.get(leaving);
      if (member === undefined) return Object.assign(result, failure(Errors.UNKNOWN_MEMBER_ID, `member ${leaving} is not in group ${this.groupId}`));
      this.removeMemberAndRebalance(member, nowMs);
      return result;
    });
    return { errorCode: Errors.NONE.code, members };
  }

  // --- removal, expiry, close -------------------------------------------------------------

  /** Removes a member, answering its parked requests with `kind`. Does not start a rebalance. */
  private removeMember(member: ClassicMember, kind: ErrorKind, why: string): void {
    const message = `member ${member.memberId} removed from group ${this.groupId}: ${why}`;
    member.awaitingJoin?.(joinFailure(kind, member.memberId, message));
    member.awaitingSync?.(syncFailure(kind, message));
    member.awaitingJoin = undefined;
    member.awaitingSync = undefined;
    this.members.delete(member.memberId);
    this.owners = undefined;
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private removeMemberAndRebalance(member: ClassicMember, nowMs: number): void {
    this.removeMember(member, Errors.UNKNOWN_MEMBER_ID, 'left the group');
    if (this.currentState === 'stable' || this.currentState === 'completing-rebalance') this.prepareRebalance(nowMs);
    this.tryCompleteJoin(nowMs);
  }

  /**
   * Session expiry hook: removes members past their session (parked members are alive:
   * they wait on the coordinator), forgets unused MEMBER_ID_REQUIRED ids, completes a
   * join phase past its deadline, and removes members that did not SyncGroup in time.
   * Returns the next deadline. `hooks.onExpired` names each removed member (for a warning).
   */
  expire(nowMs: number, hooks: ExpiryHooks): number {
    for (const [memberId, deadlineMs] of [...this.pendingMembers]) {
      if (deadlineMs <= nowMs) {
        this.pendingMembers.delete(memberId);
        this.tryCompleteJoin(nowMs);
      }
    }
    for (const member of [...this.members.values()]) {
      if (member.isParked() || member.sessionDeadlineMs > nowMs || !this.members.has(member.memberId)) continue;
      hooks.onExpired(member.memberId, 'removed (session timed out)');
      this.removeMemberAndRebalance(member, nowMs);
    }
    if (this.currentState === 'preparing-rebalance' && nowMs >= this.joinDeadlineMs) this.completeJoin(nowMs);
    if (this.currentState === 'completing-rebalance' && nowMs >= this.syncDeadlineMs) {
      for (const member of [...this.members.values()]) {
        if (member.awaitingSync !== undefined) continue;
        hooks.onExpired(member.memberId, 'removed (did not SyncGroup within the rebalance timeout)');
        this.removeMember(member, Errors.UNKNOWN_MEMBER_ID, 'did not SyncGroup in time');
      }
      this.prepareRebalance(nowMs);
      this.tryCompleteJoin(nowMs);
    }
    return this.nextDeadlineMs();
  }

  nextDeadlineMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const deadlineMs of this.pendingMembers.values()) next = Math.min(next, deadlineMs);
    for (const member of this.members.values()) if (!member.isParked()) next = Math.min(next, member.sessionDeadlineMs);
    if (this.currentState === 'preparing-rebalance') next = Math.min(next, this.joinDeadlineMs);
    if (this.currentState === 'completing-rebalance') next = Math.min(next, this.syncDeadlineMs);
    return next;
  }

  /** The group goes away (shutdown, deletion, change of kind): every parked request is answered. */
  close(kind: ErrorKind = Errors.COORDINATOR_NOT_AVAILABLE): void {
    for (const member of this.members.values()) {
      member.awaitingJoin?.(joinFailure(kind, member.memberId));
      member.awaitingSync?.(syncFailure(kind));
      member.awaitingJoin = undefined;
      member.awaitingSync = undefined;
    }
    this.currentState = 'dead';
  }

  /** The parked requests (tests check none is left behind). */
  parkedCount(): number {
    let count = 0;
    for (const member of this.members.values()) count += (member.awaitingJoin ? 1 : 0) + (member.awaitingSync ? 1 : 0);
    return count;
  }

  /**
   * Kafka's validateMember: a static member's instance id must still be held by the
   * member id it comes with (FENCED_INSTANCE_ID: it was replaced); a dynamic member must
   * be in the group (UNKNOWN_MEMBER_ID).
   */
  private validateMember(memberId: string, groupInstanceId: string | null | undefined): Problem | undefined {
    if (groupInstanceId !== undefined && groupInstanceId !== null) {
      const holder = this.staticMembers.get(groupInstanceId);
      if (holder === undefined) return [Errors.UNKNOWN_MEMBER_ID, `no member holds instance id ${groupInstanceId}`];
      if (holder !== memberId) return [Errors.FENCED_INSTANCE_ID, `instance id ${groupInstanceId} now belongs to member ${holder}`];
      return undefined;
    }
    if (!this.members.has(memberId)) return [Errors.UNKNOWN_MEMBER_ID, `member ${memberId} is not in group ${this.groupId}`];
    return undefined;
  }
}
