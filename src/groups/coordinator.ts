// The broker-side group coordinator (the model of Kafka's KIP-848 consumer groups).
// The broker constructs it with GroupCoordinator.open(logs, options) and routes the
// group APIs to the methods below. See README.md for the protocol, the reconciliation
// rules and the __consumer_offsets record format.
//
// Every handler checks and mutates state synchronously; the only await is on the
// durability of an offset write, after memory already reflects it in log order. So
// no request ever sees a half-applied change of another one.

import { randomUUID } from 'node:crypto';
import type * as M from '../protocol/messages.js';
import type { LogManager } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Errors } from '../util/errors.js';
import { quoted } from '../util/log-text.js';
import { fromTopicPartitions, isSubset, toTopicPartitions, type Assignment } from './assignment.js';
import { ConsumerGroup, type TopicLookup } from './group.js';
import { GroupMember } from './member.js';
import { checkHeartbeat, isStringArray, type Problem } from './validate.js';
import { LogOffsetStore, OFFSETS_TOPIC, type OffsetRecord, type OffsetStore } from './offset-store.js';
import { commitOffsets, deleteGroups, describeGroup, fetchOffsets, resetOffsets, type OffsetContext } from './offsets.js';
import { SessionExpiryTask } from './session-expiry.js';

export interface GroupCoordinatorOptions {
  clock?: Clock;
  /** Broker limits on a member's sessionTimeoutMs (INVALID_SESSION_TIMEOUT outside). */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  defaultSessionTimeoutMs?: number;
  /** Upper bound on the interval told to members; never more than a third of the session. */
  heartbeatIntervalMs?: number;
  /** A member that holds revoked partitions longer than this is fenced. */
  rebalanceTimeoutMs?: number;
  /** Defaults to the __consumer_offsets topic of `logs`; tests may pass a MemoryOffsetStore. */
  offsetStore?: OffsetStore;
  warn?: (message: string) => void;
}

export const GroupDefaults = {
  minSessionTimeoutMs: 500,
  maxSessionTimeoutMs: 300_000,
  defaultSessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 300_000,
} as const;

interface Joined {
  group: ConsumerGroup;
  member: GroupMember;
}

type Limits = { -readonly [K in keyof typeof GroupDefaults]: number };

export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly expiry: SessionExpiryTask;
  private readonly lookupTopic: TopicLookup;
  private closed = false;

  private constructor(
    readonly logs: LogManager,
    private readonly store: OffsetStore,
    private readonly clock: Clock,
    private readonly limits: Limits,
    private readonly warn: (message: string) => void,
  ) {
    this.expiry = new SessionExpiryTask(clock, this);
    // Internal topics are never assigned to consumers.
    this.lookupTopic = (topic) => {
      const info = logs.getTopic(topic);
      return info === undefined || info.internal ? 0 : info.partitions;
    };
  }

  static async open(logs: LogManager, options: GroupCoordinatorOptions = {}): Promise<GroupCoordinator> {
    const clock = options.clock ?? systemClock;
    const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
    const limits: Limits = {
      minSessionTimeoutMs: options.minSessionTimeoutMs ?? GroupDefaults.minSessionTimeoutMs,
      maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? GroupDefaults.maxSessionTimeoutMs,
      defaultSessionTimeoutMs: options.defaultSessionTimeoutMs ?? GroupDefaults.defaultSessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? GroupDefaults.heartbeatIntervalMs,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? GroupDefaults.rebalanceTimeoutMs,
    };
    const store = options.offsetStore ?? (await LogOffsetStore.open(logs, clock, warn));
    const coordinator = new GroupCoordinator(logs, store, clock, limits, warn);
    await coordinator.load();
    return coordinator;
  }

  /** Replays the offset store: the last record per key wins, tombstones delete. */
  private async load(): Promise<void> {
    await this.store.load((record) => this.applyOffsetRecord(record));
    for (const [groupId, group] of this.groups) if (!group.hasOffsets()) this.groups.delete(groupId);
  }

  private applyOffsetRecord(record: OffsetRecord): void {
    const group = record.value === null ? this.groups.get(record.groupId) : this.getOrCreateGroup(record.groupId);
    group?.setOffset(record.topic, record.partition, record.value);
  }

  // --- ConsumerGroupHeartbeat --------------------------------------------------------

  async heartbeat(request: M.ConsumerGroupHeartbeatRequest): Promise<M.ConsumerGroupHeartbeatResponse> {
    return this.handleHeartbeat(request);
  }

  private handleHeartbeat(request: M.ConsumerGroupHeartbeatRequest): M.ConsumerGroupHeartbeatResponse {
    const fail = ([kind, message]: Problem): M.ConsumerGroupHeartbeatResponse => ({
      errorCode: kind.code,
      errorMessage: message,
      memberId: typeof request.memberId === 'string' ? request.memberId : '',
      memberEpoch: -1,
      heartbeatIntervalMs: this.limits.heartbeatIntervalMs,
    });
    if (this.closed) return fail([Errors.SHUTTING_DOWN, Errors.SHUTTING_DOWN.message]);
    const problem = checkHeartbeat(request, this.limits.minSessionTimeoutMs, this.limits.maxSessionTimeoutMs);
    if (problem !== undefined) return fail(problem);
    if (request.memberEpoch === -1) return this.leave(request);

    const nowMs = this.clock.monotonicMs();
    const joined = request.memberEpoch === 0 ? this.join(request, nowMs) : this.stay(request, nowMs);
    if (Array.isArray(joined)) return fail(joined);
    const { group, member } = joined;
    // A joining member owns nothing as far as the coordinator is concerned.
    const owned =
      request.memberEpoch === 0 || request.ownedPartitions === undefined ? undefined : fromTopicPartitions(request.ownedPartitions);
    group.refreshTopics(this.lookupTopic);
    group.maybeComputeTarget();
    group.reconcile(member, owned, nowMs, this.limits.rebalanceTimeoutMs);
    this.expiry.noteDeadline(member.deadlineMs());
    return {
      errorCode: Errors.NONE.code,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.heartbeatIntervalFor(member.sessionTimeoutMs),
      // Always sent (the contract allows leaving it out when unchanged): a response is
      // small, and a client that lost one can never act on a stale assignment.
      assignment: toTopicPartitions(member.assigned),
    };
  }

  private join(request: M.ConsumerGroupHeartbeatRequest, nowMs: number): Joined | Problem {
    if (request.topics === undefined) return [Errors.INVALID_REQUEST, 'a joining member must send its topics'];
    const group = this.getOrCreateGroup(request.groupId);
    // A known member id with epoch 0 is a new incarnation of that member: the old one
    // is fenced (its partitions freed) and the member starts over without partitions.
    if (request.memberId !== '') group.removeMember(request.memberId);
    const memberId = request.memberId === '' ? randomUUID() : request.memberId;
    const sessionTimeoutMs = request.sessionTimeoutMs ?? this.limits.defaultSessionTimeoutMs;
    const member = new GroupMember(memberId, request.clientId ?? '', sessionTimeoutMs, nowMs);
    group.addMember(member, request.topics, request.assignor);
    return { group, member };
  }

  private stay(request: M.ConsumerGroupHeartbeatRequest, nowMs: number): Joined | Problem {
    const group = this.groups.get(request.groupId);
    const member = group?.members.get(request.memberId);
    if (group === undefined || member === undefined) {
      return [Errors.UNKNOWN_MEMBER_ID, `member ${request.memberId} is not in group ${request.groupId}; rejoin with epoch 0`];
    }
    const owned = request.ownedPartitions === undefined ? undefined : fromTopicPartitions(request.ownedPartitions);
    const epochError = this.checkHeartbeatEpoch(member, request.memberEpoch, owned);
    if (epochError !== undefined) {
      // The member is a zombie: it must drop every partition and rejoin. Freeing its
      // partitions now lets the rest of the group move on without waiting for a timeout.
      this.removeMember(group, member.memberId);
      return [Errors.FENCED_MEMBER_EPOCH, epochError];
    }
    if (request.clientId !== undefined) member.clientId = request.clientId;
    if (request.sessionTimeoutMs !== undefined) member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.sessionDeadlineMs = nowMs + member.sessionTimeoutMs;
    if (request.topics !== undefined) group.updateSubscription(member, request.topics);
    return { group, member };
  }

  /**
   * The epoch a member sends must be its current one, or its previous one when the
   * response that moved it was lost (then it must not own anything beyond what it has
   * now). Anything else means the member is a zombie. Returns an error message or undefined.
   */
  private checkHeartbeatEpoch(member: GroupMember, epoch: number, owned: Assignment | undefined): string | undefined {
    if (epoch === member.memberEpoch) return undefined;
    if (epoch < member.memberEpoch && epoch === member.previousMemberEpoch && owned !== undefined && isSubset(owned, member.assigned)) {
      return undefined;
    }
    return `member epoch ${epoch} is not the current epoch ${member.memberEpoch}; rejoin with epoch 0`;
  }

  heartbeatIntervalFor(sessionTimeoutMs: number): number {
    return Math.max(1, Math.min(this.limits.heartbeatIntervalMs, Math.floor(sessionTimeoutMs / 3)));
  }

  private leave(request: M.ConsumerGroupHeartbeatRequest): M.ConsumerGroupHeartbeatResponse {
    const group = this.groups.get(request.groupId);
    // Leaving is idempotent: a member that was already fenced has nothing left to give up.
    if (group !== undefined && group.members.has(request.memberId)) this.removeMember(group, request.memberId);
    return { errorCode: Errors.NONE.code, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0 };
  }

  /** Removes a member and recomputes the target so the others can take its partitions. */
  private removeMember(group: ConsumerGroup, memberId: string): void {
    group.removeMember(memberId);
    group.refreshTopics(this.lookupTopic);
    group.maybeComputeTarget();
    this.dropIfUnused(group);
  }

  private dropIfUnused(group: ConsumerGroup): void {
    if (group.members.size === 0 && !group.hasOffsets()) this.groups.delete(group.groupId);
  }

  /** SessionExpiryTarget: fences members past their deadline; returns the next deadline. */
  expireMembers(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const group of [...this.groups.values()]) {
      for (const member of [...group.members.values()]) {
        const deadline = member.deadlineMs();
        if (deadline > nowMs) {
          next = Math.min(next, deadline);
          continue;
        }
        const why = member.sessionDeadlineMs <= nowMs ? 'session timed out' : 'did not revoke partitions in time';
        this.warn(`group ${quoted(group.groupId)}: member ${quoted(member.memberId)} fenced (${why})`);
        this.removeMember(group, member.memberId);
      }
    }
    return next;
  }

  /** Checks session deadlines now (the background timer does this on its own). */
  runSessionExpiry(): void {
    this.expiry.runNow();
  }

  // --- offsets and admin (implemented in offsets.ts) ----------------------------------

  private context(): OffsetContext {
    return {
      groups: this.groups,
      logs: this.logs,
      store: this.store,
      clock: this.clock,
      getOrCreateGroup: (groupId) => this.getOrCreateGroup(groupId),
      lookupTopic: this.lookupTopic,
    };
  }

  async commitOffsets(request: M.OffsetCommitRequest): Promise<M.OffsetCommitResponse> {
    return commitOffsets(this.context(), request);
  }

  async fetchOffsets(request: M.OffsetFetchRequest): Promise<M.OffsetFetchResponse> {
    return fetchOffsets(this.context(), request);
  }

  async listGroups(_request: M.ListGroupsRequest): Promise<M.ListGroupsResponse> {
    const groups = [...this.groups.values()]
      .map((group) => ({ groupId: group.groupId, state: group.state(), members: group.members.size }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    return { errorCode: Errors.NONE.code, groups };
  }

  async describeGroups(request: M.DescribeGroupsRequest): Promise<M.DescribeGroupsResponse> {
    if (!isStringArray(request.groupIds)) {
      return { errorCode: Errors.INVALID_REQUEST.code, errorMessage: 'groupIds must be strings', groups: [] };
    }
    const context = this.context();
    return { errorCode: Errors.NONE.code, groups: request.groupIds.map((groupId) => describeGroup(context, groupId)) };
  }

  async deleteGroups(request: M.DeleteGroupsRequest): Promise<M.DeleteGroupsResponse> {
    return deleteGroups(this.context(), request);
  }

  async resetOffsets(request: M.ResetOffsetsRequest): Promise<M.ResetOffsetsResponse> {
    return resetOffsets(this.context(), request);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.expiry.close();
  }

  // --- helpers for tests and the broker ------------------------------------------------

  /** The group's in-memory state (tests check invariants on it). */
  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  private getOrCreateGroup(groupId: string): ConsumerGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }
}

export { OFFSETS_TOPIC };
