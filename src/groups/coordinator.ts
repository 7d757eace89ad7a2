// The broker-side group coordinator. It holds the group kinds (group-kind.ts): KIP-848
// consumer groups (group.ts, driven by ConsumerGroupHeartbeat) and classic groups
// (classic-group.ts, driven by Kafka's JoinGroup/SyncGroup/Heartbeat/LeaveGroup), all
// sharing one committed-offset table per group and the __consumer_offsets topic. The
// broker constructs it with GroupCoordinator.open(logs, options); its fronts convert
// their wire requests into the domain types of types.ts and call the methods below.
// See README.md for the protocols, the state machines and the record format.
//
// Every handler checks and mutates state synchronously; the only awaits are on the
// acknowledgement of an offset write (memory takes the committed offsets only then, in
// log order: pending-commits.ts) and on a classic JoinGroup/SyncGroup parked until its
// rebalance step completes. So no request ever sees a half-applied change of another one,
// nor a commit that is not yet acknowledged.

import { randomUUID } from 'node:crypto';
import type { LogManager } from '../storage/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Errors, SpoolError, type ErrorKind } from '../util/errors.js';
import { coordinatorPartitionOf, type CoordinatorAddress, type CoordinatorCluster } from './coordinator-placement.js';
import { quoted } from '../util/log-text.js';
import { fromTopicPartitions, isSubset, toTopicPartitions, type Assignment } from './assignment.js';
import { ClassicGroup, type ClassicLimits } from './classic-group.js';
import { EMPTY_BYTES } from './classic-member.js';
import { deleteGroups, describeGroup, listGroups, type AdminContext } from './group-admin.js';
import type { ExpiryHooks, Problem, TopicLookup } from './group-kind.js';
import { ConsumerGroup } from './group.js';
import { GroupMember } from './member.js';
import { checkGroupId, checkHeartbeat } from './validate.js';
import { LogOffsetStore, OFFSETS_TOPIC, type OffsetRecord, type OffsetStore } from './offset-store.js';
import { commitOffsets, fetchOffsets, resetOffsets } from './offsets.js';
import { PendingCommits } from './pending-commits.js';
import { SessionExpiryTask } from './session-expiry.js';
import { ShareDefaults } from './share-partition.js';
import { ShareGroups } from './share-groups.js';
import { LogShareStateStore, type ShareStateStore } from './share-state-store.js';
import type {
  ClassicHeartbeat,
  ClassicHeartbeatResult,
  ConsumerHeartbeat,
  ConsumerHeartbeatResult,
  DeleteGroupsResult,
  DescribeGroupsResult,
  JoinGroup,
  JoinGroupResult,
  LeaveGroup,
  LeaveGroupResult,
  GroupListing,
  ListGroupsResult,
  OffsetCommit,
  OffsetCommitResult,
  OffsetFetch,
  OffsetFetchResult,
  ResetOffsets,
  ResetOffsetsResult,
  SyncGroup,
  SyncGroupResult,
} from './types.js';

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
  /** Classic groups: the first rebalance of an empty group waits this long for more members (Kafka's group.initial.rebalance.delay.ms). */
  classicInitialRebalanceDelayMs?: number;
  /** Classic groups: members per group (Kafka's group.max.size); GROUP_MAX_SIZE_REACHED beyond. */
  classicMaxGroupSize?: number;
  /** Defaults to the __consumer_offsets topic of `logs`; tests may pass a MemoryOffsetStore. */
  offsetStore?: OffsetStore;
  /** Share groups: acquisition lock (default 30 s), delivery limit (default 5, 2..10), records in flight per share-partition (default 2,000). */
  shareLockDurationMs?: number;
  shareDeliveryLimit?: number;
  shareMaxInFlightRecords?: number;
  /** Defaults to the __share_group_state topic of `logs`; tests may pass a MemoryShareStateStore. */
  shareStateStore?: ShareStateStore;
  /**
   * Cluster mode: this broker coordinates only the groups of the __consumer_offsets
   * partitions it leads (loaded when it becomes leader, dropped when it stops); requests
   * for other groups get NOT_COORDINATOR. Absent: a single node, every group is here.
   */
  cluster?: CoordinatorCluster;
  warn?: (message: string) => void;
  /** Membership events (joins, leaves, fenced and expired members, rebalances) with structured fields; default: the warnings go to `warn`, the rest is dropped. */
  log?: GroupEventLog;
}

/** One membership event: a message (client ids quoted) and fields for structured logs. */
export type GroupEventLog = (level: 'info' | 'warn', message: string, fields: Readonly<Record<string, string | number>>) => void;

export const GroupDefaults = {
  minSessionTimeoutMs: 500,
  maxSessionTimeoutMs: 300_000,
  defaultSessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 300_000,
  classicInitialRebalanceDelayMs: 1_000,
  classicMaxGroupSize: 1_000,
} as const;

interface Joined {
  group: ConsumerGroup;
  member: GroupMember;
}

type Limits = { -readonly [K in keyof typeof GroupDefaults]: number };

type AnyGroup = ConsumerGroup | ClassicGroup;

export class GroupCoordinator {
  private readonly groups = new Map<string, AnyGroup>();
  /** Offset records appended and not yet acknowledged (invisible until they are). */
  private readonly pending = new PendingCommits();
  private readonly classicLimits: ClassicLimits;
  private readonly expiry: SessionExpiryTask;
  private readonly lookupTopic: TopicLookup;
  private closed = false;
  /** Cluster mode: the __consumer_offsets partitions whose groups are loaded here (this broker leads them). */
  private readonly loadedPartitions = new Set<number>();
  private cluster: CoordinatorCluster | undefined;
  private unsubscribeRoles: (() => void) | undefined;
  /** The share kind (share-groups.ts): per-record acquisition and acknowledgement. */
  shares!: ShareGroups;

  private constructor(
    readonly logs: LogManager,
    private readonly store: OffsetStore,
    private readonly clock: Clock,
    private readonly limits: Limits,
    private readonly warn: (message: string) => void,
    private readonly log: GroupEventLog,
  ) {
    this.expiry = new SessionExpiryTask(clock, this);
    this.classicLimits = {
      initialRebalanceDelayMs: limits.classicInitialRebalanceDelayMs,
      maxGroupSize: limits.classicMaxGroupSize,
    };
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
      classicInitialRebalanceDelayMs: options.classicInitialRebalanceDelayMs ?? GroupDefaults.classicInitialRebalanceDelayMs,
      classicMaxGroupSize: options.classicMaxGroupSize ?? GroupDefaults.classicMaxGroupSize,
    };
    const cluster = options.cluster;
    const store = options.offsetStore ?? (await LogOffsetStore.open(logs, clock, warn, cluster ? { partitions: cluster.offsetsTopicPartitions, replication: cluster.replication } : {}));
    // Without a log, warnings (expired and fenced members) still reach `warn`; info events are dropped.
    const log: GroupEventLog = options.log ?? ((level, message) => (level === 'warn' ? warn(message) : undefined));
    const coordinator = new GroupCoordinator(logs, store, clock, limits, warn, log);
    coordinator.cluster = cluster;
    await coordinator.load();
    const deliveryLimit = options.shareDeliveryLimit ?? ShareDefaults.deliveryLimit;
    if (!(deliveryLimit >= ShareDefaults.minDeliveryLimit && deliveryLimit <= ShareDefaults.maxDeliveryLimit)) {
      throw new RangeError(`share delivery limit ${deliveryLimit} is outside ${ShareDefaults.minDeliveryLimit}..${ShareDefaults.maxDeliveryLimit}`);
    }
    const shareStore = options.shareStateStore ?? new LogShareStateStore(logs, clock, warn, cluster ? { partitions: cluster.shareStateTopicPartitions, replication: cluster.replication } : {});
    // A cluster's replicas all need the topic to follow it: it exists from the start.
    if (cluster) await shareStore.prepare();
    const shareLimits = {
      lockDurationMs: options.shareLockDurationMs ?? ShareDefaults.lockDurationMs,
      deliveryLimit,
      maxInFlightRecords: options.shareMaxInFlightRecords ?? ShareDefaults.maxInFlightRecords,
    };
    const shareSeams = cluster?.shares;
    coordinator.shares = new ShareGroups(
      logs,
      shareStore,
      clock,
      shareLimits,
      warn,
      (groupId) => coordinator.otherKindThanShare(groupId),
      shareSeams ? { leadership: shareSeams.leadership, deadLetters: shareSeams.deadLetters } : {},
    );
    if (shareSeams) coordinator.shares.usePersister(shareSeams.persister(coordinator.shares.state));
    await coordinator.shares.load(cluster?.roles);
    if (cluster) coordinator.unsubscribeRoles = cluster.roles.onChange((topic, partition) => coordinator.roleChanged(topic, partition));
    return coordinator;
  }

  /** Replays the offset store (cluster mode: the partitions this broker leads): the last record per key wins, tombstones delete. */
  private async load(): Promise<void> {
    if (this.cluster === undefined) {
      await this.store.load((record) => this.applyOffsetRecord(record));
      for (const [groupId, group] of this.groups) if (!group.hasOffsets()) this.groups.delete(groupId);
      return;
    }
    for (let partition = 0; partition < this.store.partitionCount; partition++) {
      if (this.cluster.roles.leads(OFFSETS_TOPIC, partition)) this.loadPartition(partition);
    }
  }

  /**
   * A new leader of an offsets partition loads its groups (offsets only: members rejoin, as
   * after a restart); a broker that stops leading drops them (their members then get
   * NOT_COORDINATOR and find the new coordinator). Synchronous, so no request sees a
   * partition half loaded.
   */
  private roleChanged(topic: string, partition: number): void {
    if (topic !== OFFSETS_TOPIC || this.closed || this.cluster === undefined || partition >= this.store.partitionCount) return;
    const leads = this.cluster.roles.leads(topic, partition);
    if (leads && !this.loadedPartitions.has(partition)) this.loadPartition(partition);
    else if (!leads && this.loadedPartitions.has(partition)) this.unloadPartition(partition);
  }

  private loadPartition(partition: number): void {
    let loaded = 0;
    // The log store's load is synchronous (a positional replay); the promise only wraps it.
    void this.store.load((record) => {
      loaded++;
      this.applyOffsetRecord(record);
    }, partition);
    for (const [groupId, group] of this.groups) {
      if (!group.hasOffsets() && group.memberCount() === 0 && this.partitionOf(groupId) === partition) this.groups.delete(groupId);
    }
    this.loadedPartitions.add(partition);
    this.log('info', `coordinator: loaded ${OFFSETS_TOPIC}-${partition} (${loaded} records)`, { partition, records: loaded });
  }

  private unloadPartition(partition: number): void {
    this.loadedPartitions.delete(partition);
    // A commit in flight to a group of this partition must not recreate it here when (if) acknowledged.
    this.pending.cancelWhere((groupId) => this.partitionOf(groupId) === partition);
    let dropped = 0;
    for (const [groupId, group] of [...this.groups]) {
      if (this.partitionOf(groupId) !== partition) continue;
      // Parked JoinGroup/SyncGroup requests are answered (COORDINATOR_NOT_AVAILABLE: the client finds the coordinator again).
      if (group instanceof ClassicGroup) group.close();
      this.groups.delete(groupId);
      dropped++;
    }
    this.log('info', `coordinator: unloaded ${OFFSETS_TOPIC}-${partition} (${dropped} groups)`, { partition, groups: dropped });
  }

  private partitionOf(groupId: string): number {
    return coordinatorPartitionOf(groupId, this.store.partitionCount);
  }

  /** Cluster mode: throws NOT_COORDINATOR unless this broker leads (and has loaded) the group's offsets partition. */
  private checkCoordinator(groupId: unknown): void {
    if (this.cluster === undefined || typeof groupId !== 'string') return;
    const partition = this.partitionOf(groupId);
    if (!this.loadedPartitions.has(partition)) {
      throw new SpoolError(Errors.NOT_COORDINATOR, `this broker is not the coordinator of group ${quoted(groupId)} (${OFFSETS_TOPIC}-${partition})`);
    }
  }

  /** Whether this broker coordinates the group now (always on a single node). */
  coordinates(groupId: string): boolean {
    return this.cluster === undefined || this.loadedPartitions.has(this.partitionOf(groupId));
  }

  /**
   * FindCoordinator: 'here' on a single node; in a cluster the leader of the group's
   * partition of __consumer_offsets (of __share_group_state for a share group), null when
   * that partition has no leader now (COORDINATOR_NOT_AVAILABLE: the client retries).
   */
  findCoordinator(groupId: string, share = false): CoordinatorAddress | null | 'here' {
    if (this.cluster === undefined) return 'here';
    if (share) return this.shares.findCoordinator(groupId);
    return this.cluster.roles.leader(OFFSETS_TOPIC, this.partitionOf(groupId));
  }

  private applyOffsetRecord(record: OffsetRecord): void {
    const group = record.value === null ? this.groups.get(record.groupId) : this.getOrCreateGroup(record.groupId);
    group?.setOffset(record.topic, record.partition, record.value);
  }

  // --- ConsumerGroupHeartbeat --------------------------------------------------------

  async heartbeat(request: ConsumerHeartbeat): Promise<ConsumerHeartbeatResult> {
    this.checkCoordinator(request.groupId);
    return this.handleHeartbeat(request);
  }

  private handleHeartbeat(request: ConsumerHeartbeat): ConsumerHeartbeatResult {
    const fail = ([kind, message]: Problem): ConsumerHeartbeatResult => ({
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
    const epochBefore = this.consumerGroup(request.groupId)?.epoch() ?? 0;
    const joined = request.memberEpoch === 0 ? this.join(request, nowMs) : this.stay(request, nowMs);
    if (Array.isArray(joined)) return fail(joined);
    const { group, member } = joined;
    // A joining member owns nothing as far as the coordinator is concerned.
    const owned =
      request.memberEpoch === 0 || request.ownedPartitions === undefined ? undefined : fromTopicPartitions(request.ownedPartitions);
    group.refreshTopics(this.lookupTopic);
    group.maybeComputeTarget();
    group.reconcile(member, owned, nowMs, this.limits.rebalanceTimeoutMs);
    this.noteRebalance(group, epochBefore);
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

  private join(request: ConsumerHeartbeat, nowMs: number): Joined | Problem {
    if (request.topics === undefined) return [Errors.INVALID_REQUEST, 'a joining member must send its topics'];
    const group = this.consumerGroupFor(request.groupId);
    if (!(group instanceof ConsumerGroup)) return group;
    // A known member id with epoch 0 is a new incarnation of that member: the old one
    // is fenced (its partitions freed) and the member starts over without partitions.
    if (request.memberId !== '') group.removeMember(request.memberId);
    const memberId = request.memberId === '' ? randomUUID() : request.memberId;
    const sessionTimeoutMs = request.sessionTimeoutMs ?? this.limits.defaultSessionTimeoutMs;
    const member = new GroupMember(memberId, request.clientId ?? '', sessionTimeoutMs, nowMs);
    member.clientHost = request.clientHost ?? '';
    group.addMember(member, request.topics, request.assignor);
    this.log('info', `group ${quoted(group.groupId)}: member ${quoted(memberId)} joined (${group.members.size} member(s))`, {
      event: 'member_joined',
      group: group.groupId,
      member: memberId,
      members: group.members.size,
    });
    return { group, member };
  }

  private stay(request: ConsumerHeartbeat, nowMs: number): Joined | Problem {
    const group = this.consumerGroup(request.groupId);
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
      this.log('warn', `group ${quoted(group.groupId)}: member ${quoted(member.memberId)} fenced: ${epochError}`, {
        event: 'member_fenced',
        group: group.groupId,
        member: member.memberId,
        memberEpoch: request.memberEpoch,
      });
      return [Errors.FENCED_MEMBER_EPOCH, epochError];
    }
    if (request.clientId !== undefined) member.clientId = request.clientId;
    if (request.clientHost !== undefined) member.clientHost = request.clientHost;
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

  private leave(request: ConsumerHeartbeat): ConsumerHeartbeatResult {
    const group = this.consumerGroup(request.groupId);
    // Leaving is idempotent: a member that was already fenced has nothing left to give up.
    if (group !== undefined && group.members.has(request.memberId)) {
      this.removeMember(group, request.memberId);
      this.log('info', `group ${quoted(group.groupId)}: member ${quoted(request.memberId)} left (${group.members.size} member(s))`, {
        event: 'member_left',
        group: group.groupId,
        member: request.memberId,
        members: group.members.size,
      });
    }
    return { errorCode: Errors.NONE.code, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0 };
  }

  /** Removes a member and recomputes the target so the others can take its partitions. */
  private removeMember(group: ConsumerGroup, memberId: string): void {
    const epochBefore = group.epoch();
    group.removeMemberAndRetarget(memberId, this.lookupTopic);
    this.noteRebalance(group, epochBefore);
    this.dropIfUnused(group);
  }

  /** Logs a rebalance: the group epoch moved (a new target assignment). */
  private noteRebalance(group: AnyGroup, epochBefore: number): void {
    const epoch = group.epoch();
    if (epoch === epochBefore) return;
    this.log('info', `group ${quoted(group.groupId)}: rebalance to epoch ${epoch} (${group.memberCount()} member(s))`, {
      event: 'group_rebalance',
      group: group.groupId,
      kind: group.kind,
      epoch,
      members: group.memberCount(),
    });
  }

  private dropIfUnused(group: AnyGroup): void {
    if (group.hasOffsets() || this.groups.get(group.groupId) !== group) return;
    if (group instanceof ConsumerGroup ? group.members.size === 0 : group.isVacant() && group.currentState === 'empty') {
      if (group instanceof ClassicGroup) group.close();
      this.groups.delete(group.groupId);
    }
  }

  /** SessionExpiryTarget: each kind removes its members past their deadline; returns the next deadline. */
  expireMembers(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const group of [...this.groups.values()]) {
      const hooks: ExpiryHooks = {
        lookupTopic: this.lookupTopic,
        onExpired: (memberId, why) =>
          this.log('warn', `group ${quoted(group.groupId)}: member ${quoted(memberId)} ${why}`, { event: 'member_expired', group: group.groupId, member: memberId }),
      };
      const epochBefore = group.epoch();
      next = Math.min(next, group.expire(nowMs, hooks));
      this.noteRebalance(group, epochBefore);
      this.dropIfUnused(group);
    }
    return next;
  }

  /** Checks session deadlines now (the background timer does this on its own). */
  runSessionExpiry(): void {
    this.expiry.runNow();
  }

  // --- offsets and admin (offsets.ts, group-admin.ts) ----------------------------------

  private context(): AdminContext {
    return {
      groups: this.groups,
      logs: this.logs,
      store: this.store,
      pending: this.pending,
      clock: this.clock,
      getOrCreateGroup: (groupId) => this.getOrCreateGroup(groupId),
      lookupTopic: this.lookupTopic,
      removeGroup: (groupId) => {
        const group = this.groups.get(groupId);
        if (group instanceof ClassicGroup) group.close();
        this.groups.delete(groupId);
      },
    };
  }

  async commitOffsets(request: OffsetCommit): Promise<OffsetCommitResult> {
    this.checkCoordinator(request.groupId);
    return commitOffsets(this.context(), request);
  }

  async fetchOffsets(request: OffsetFetch): Promise<OffsetFetchResult> {
    this.checkCoordinator(request.groupId);
    return fetchOffsets(this.context(), request);
  }

  async listGroups(_request?: object): Promise<ListGroupsResult> {
    return listGroups(this.groups.values(), this.shareListings());
  }

  /**
   * Share groups as ListGroups shows them: kind 'share', 'stable' with members seen lately,
   * else 'empty'. An id that is also an empty consumer or classic group (offsets only) is
   * listed once, as the share group; one with members is listed as that kind.
   */
  private shareListings(): GroupListing[] {
    const listings: GroupListing[] = [];
    for (const groupId of this.shares.groupIds()) {
      if ((this.groups.get(groupId)?.memberCount() ?? 0) > 0) continue;
      const members = this.shares.memberCount(groupId);
      listings.push({ groupId, state: members > 0 ? 'stable' : 'empty', members, kind: 'share' });
    }
    return listings;
  }

  async describeGroups(request: { groupIds: readonly string[] }): Promise<DescribeGroupsResult> {
    for (const groupId of request.groupIds) this.checkCoordinator(groupId);
    const context = this.context();
    return { errorCode: Errors.NONE.code, groups: request.groupIds.map((groupId) => describeGroup(context, groupId)) };
  }

  async deleteGroups(request: { groupIds: readonly string[] }): Promise<DeleteGroupsResult> {
    for (const groupId of request.groupIds) this.checkCoordinator(groupId);
    return deleteGroups(this.context(), request.groupIds);
  }

  /**
   * A share group (one a member fetched for, or with a snapshot) has its start offsets
   * moved instead of committed offsets, unless a consumer or classic group of that id
   * has members (then that group answers NON_EMPTY_GROUP as before).
   */
  async resetOffsets(request: ResetOffsets): Promise<ResetOffsetsResult> {
    this.checkCoordinator(request.groupId);
    const other = this.groups.get(request.groupId);
    if (this.shares.has(request.groupId) && (other === undefined || other.memberCount() === 0)) {
      return resetOffsets(this.context(), request, {
        members: this.shares.memberCount(request.groupId),
        write: (targets) => this.shares.resetStart(request.groupId, request.topic, targets),
      });
    }
    return resetOffsets(this.context(), request);
  }

  // --- classic groups (Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup) --------------

  /** JoinGroup: parks until the group's join phase completes (or answers at once with an error). */
  async joinGroup(request: JoinGroup): Promise<JoinGroupResult> {
    this.checkCoordinator(request.groupId);
    const fail = (kind: ErrorKind, message: string): JoinGroupResult => ({
      errorCode: kind.code,
      errorMessage: message,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: request.memberId,
      members: [],
    });
    if (this.closed) return fail(Errors.COORDINATOR_NOT_AVAILABLE, 'the coordinator is shutting down');
    const groupError = checkGroupId(request.groupId);
    if (groupError !== undefined) return fail(Errors.INVALID_GROUP_ID, groupError);
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.limits;
    if (request.sessionTimeoutMs < minSessionTimeoutMs || request.sessionTimeoutMs > maxSessionTimeoutMs) {
      return fail(
        Errors.INVALID_SESSION_TIMEOUT,
        `session timeout ${request.sessionTimeoutMs} ms is outside ${minSessionTimeoutMs}..${maxSessionTimeoutMs}`,
      );
    }
    const group = this.classicGroupFor(request.groupId);
    if (!(group instanceof ClassicGroup)) return fail(...group);
    const membersBefore = group.memberCount();
    const epochBefore = group.epoch();
    const result = group.join(request, this.clock.monotonicMs());
    if (group.memberCount() > membersBefore) {
      this.log('info', `classic group ${quoted(group.groupId)}: a member joined (${group.memberCount()} member(s))`, {
        event: 'member_joined',
        group: group.groupId,
        members: group.memberCount(),
      });
    }
    this.afterClassicChange(group, epochBefore);
    return result;
  }

  /** SyncGroup: the leader brings the assignment; every member parks until it has. */
  async syncGroup(request: SyncGroup): Promise<SyncGroupResult> {
    this.checkCoordinator(request.groupId);
    const group = this.classicGroup(request.groupId);
    if (!(group instanceof ClassicGroup)) {
      return { errorCode: group[0].code, errorMessage: group[1], protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
    }
    const epochBefore = group.epoch();
    const result = group.sync(request, this.clock.monotonicMs());
    this.afterClassicChange(group, epochBefore);
    return result;
  }

  /** Heartbeat of a classic member (not KIP-848's ConsumerGroupHeartbeat: that is heartbeat()). */
  async classicHeartbeat(request: ClassicHeartbeat): Promise<ClassicHeartbeatResult> {
    this.checkCoordinator(request.groupId);
    const group = this.classicGroup(request.groupId);
    if (!(group instanceof ClassicGroup)) return { errorCode: group[0].code, errorMessage: group[1] };
    const epochBefore = group.epoch();
    const result = group.heartbeat(request, this.clock.monotonicMs());
    this.afterClassicChange(group, epochBefore);
    return result;
  }

  async leaveGroup(request: LeaveGroup): Promise<LeaveGroupResult> {
    this.checkCoordinator(request.groupId);
    const group = this.classicGroup(request.groupId);
    if (!(group instanceof ClassicGroup)) {
      const [kind, message] = group;
      return {
        errorCode: kind.code,
        errorMessage: message,
        members: request.members.map((member) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId ?? null,
          errorCode: kind.code,
          errorMessage: message,
        })),
      };
    }
    const membersBefore = group.memberCount();
    const epochBefore = group.epoch();
    const result = group.leave(request, this.clock.monotonicMs());
    if (group.memberCount() < membersBefore) {
      this.log('info', `classic group ${quoted(group.groupId)}: ${membersBefore - group.memberCount()} member(s) left (${group.memberCount()} left)`, {
        event: 'member_left',
        group: group.groupId,
        members: group.memberCount(),
      });
    }
    this.afterClassicChange(group, epochBefore);
    return result;
  }

  private afterClassicChange(group: ClassicGroup, epochBefore: number): void {
    this.noteRebalance(group, epochBefore);
    this.expiry.noteDeadline(group.nextDeadlineMs());
    this.dropIfUnused(group);
  }

  /**
   * The classic group for a JoinGroup: the existing one, a new one, or an empty consumer
   * group turned classic (its offsets kept). A consumer group with members is of the
   * other kind: INCONSISTENT_GROUP_PROTOCOL, as Kafka answers.
   */
  private classicGroupFor(groupId: string): ClassicGroup | Problem {
    const group = this.groups.get(groupId);
    if (group instanceof ClassicGroup) return group;
    const shareMembers = this.shares.memberCount(groupId);
    if (shareMembers > 0) return [Errors.INCONSISTENT_GROUP_PROTOCOL, `group ${groupId} is a share group with ${shareMembers} member(s)`];
    if (group !== undefined && group.members.size > 0) {
      return [Errors.INCONSISTENT_GROUP_PROTOCOL, `group ${groupId} is a consumer group with ${group.members.size} members`];
    }
    const classic = new ClassicGroup(groupId, this.classicLimits, group?.offsets);
    this.groups.set(groupId, classic);
    return classic;
  }

  /** The classic group for SyncGroup/Heartbeat/LeaveGroup, which never create one. */
  private classicGroup(groupId: string): ClassicGroup | Problem {
    if (this.closed) return [Errors.COORDINATOR_NOT_AVAILABLE, 'the coordinator is shutting down'];
    const group = this.groups.get(groupId);
    if (group instanceof ClassicGroup) return group;
    if (group !== undefined && group.members.size > 0) {
      return [Errors.INCONSISTENT_GROUP_PROTOCOL, `group ${groupId} is a consumer group`];
    }
    return [Errors.UNKNOWN_MEMBER_ID, `group ${groupId} has no classic members`];
  }

  /**
   * The consumer group for a joining heartbeat: the existing one, a new one, or an empty
   * classic group turned consumer group (its offsets kept). A classic group with members
   * (or members-to-be) is of the other kind: INCONSISTENT_GROUP_PROTOCOL.
   */
  private consumerGroupFor(groupId: string): ConsumerGroup | Problem {
    const group = this.groups.get(groupId);
    if (group instanceof ConsumerGroup) return group;
    const shareMembers = this.shares.memberCount(groupId);
    if (shareMembers > 0) return [Errors.INCONSISTENT_GROUP_PROTOCOL, `group ${groupId} is a share group with ${shareMembers} member(s)`];
    if (group !== undefined && !(group.isVacant() && group.currentState === 'empty')) {
      return [Errors.INCONSISTENT_GROUP_PROTOCOL, `group ${groupId} is a classic group with ${group.memberCount()} members`];
    }
    group?.close();
    const consumer = new ConsumerGroup(groupId, group?.offsets);
    this.groups.set(groupId, consumer);
    return consumer;
  }

  private consumerGroup(groupId: string): ConsumerGroup | undefined {
    const group = this.groups.get(groupId);
    return group instanceof ConsumerGroup ? group : undefined;
  }

  /** A share group id must not be a consumer or classic group with members (one kind at a time). */
  private otherKindThanShare(groupId: string): string | undefined {
    const group = this.groups.get(groupId);
    if (group === undefined || group.memberCount() === 0) return undefined;
    return `group ${groupId} is a ${group.kind} group with ${group.memberCount()} member(s)`;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribeRoles?.();
    this.expiry.close();
    this.shares.close();
    // Parked JoinGroup/SyncGroup requests are answered, never left hanging.
    for (const group of this.groups.values()) if (group instanceof ClassicGroup) group.close();
  }

  // --- helpers for tests and the broker ------------------------------------------------

  /** A consumer group's in-memory state (tests check invariants on it). */
  group(groupId: string): ConsumerGroup | undefined {
    return this.consumerGroup(groupId);
  }

  /** Groups with offset records in flight (tests check that nothing is left behind). */
  pendingGroupCount(): number {
    return this.pending.groupCount();
  }

  /** A classic group's in-memory state (tests look at its state machine). */
  classicGroupState(groupId: string): ClassicGroup | undefined {
    const group = this.groups.get(groupId);
    return group instanceof ClassicGroup ? group : undefined;
  }

  /** The group holding a committed offset: the existing one of any kind, or a new consumer group. */
  private getOrCreateGroup(groupId: string): AnyGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }
}

export { OFFSETS_TOPIC };
