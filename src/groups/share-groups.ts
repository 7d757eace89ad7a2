// Share groups (KIP-932's model; README.md "Share groups"): any number of members consume
// the same partitions, the broker hands out records in acquisitions and each record is
// acknowledged on its own. This is the share kind of the coordinator, in two parts:
//
// - the share-partition leader (this class): the live share-partitions
//   (share-partition.ts) of the data partitions this broker leads (all of them on a single
//   node), their acquisitions, acknowledgements, lock expiry and dead letters;
// - the share coordinator (share-coordinator-state.ts, `state`): the durable snapshots and
//   the groups' configs of the groups it coordinates, reached through a SharePersister
//   (share-persister.ts): in process, or from another broker in a cluster.
//
// A leader takes a share-partition up (prepare(): reads its stored state from the
// coordinator) before its first acquisition. acquire() is then synchronous: it reads
// batch headers (never records) from storage and marks the covered offsets Acquired.
// acknowledge() mutates memory synchronously, writes the dead letters, then a snapshot of
// every changed share-partition (taken at write time, so a later snapshot holds every
// earlier change), and answers once they are durable. A crash before that loses only
// acquisitions and unanswered acknowledgements: those records are delivered again.

import type { LogManager } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { errorByCode, Errors, isSpoolError, SpoolError, type ErrorKind } from '../util/errors.js';
import { buildDeadLetters, deadLetterTopic, LocalDeadLetterSink, type DeadLetterBatch } from './share-dead-letter.js';
import {
  AcknowledgeType,
  ShareDefaults,
  SharePartition,
  type AcknowledgeRange,
  type AcquiredRange,
  type BatchSpan,
  type SharePartitionLimits,
} from './share-partition.js';
import { SHARE_STATE_TOPIC, type ShareStateStore } from './share-state-store.js';
import { ShareCoordinatorState, type ShareGroupConfig, type ShareStateRead, type ShareStateWrite } from './share-coordinator-state.js';
import { LocalSharePersister, SINGLE_NODE_LEADERSHIP, type DeadLetterSink, type SharePersister, type ShareLeadership } from './share-persister.js';
import { coordinatorPartitionOf, type CoordinatorAddress, type CoordinatorRoles } from './coordinator-placement.js';
import { assert } from '../util/assert.js';
import type { StateRun } from './share-partition.js';
import { SessionExpiryTask } from './session-expiry.js';
import { checkGroupId } from './validate.js';
import { forEachBatch } from '../records/index.js';

/** Records one ShareFetch acquires at most per request (the request may ask for fewer). */
export const MAX_SHARE_FETCH_RECORDS = 10_000;
/** Members a share group remembers at once (GROUP_MAX_SIZE_REACHED beyond): member ids are the clients', so this bounds the table. */
export const MAX_SHARE_GROUP_MEMBERS = 1_000;
/** Longest member id, in UTF-16 code units (INVALID_REQUEST beyond). */
export const MAX_SHARE_MEMBER_ID_CHARS = 255;

export interface ShareFetchSpec {
  groupId: string;
  memberId: string;
  /** Partitions to acquire from, in order (a member usually lists every partition of its topics). */
  partitions: readonly { topic: string; partition: number }[];
  maxRecords: number;
  maxBytes: number;
}

export interface SharePartitionAcquired {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage?: string;
  /** Whole batches covering the acquired ranges (may hold records not acquired: skip those). */
  records: Buffer | null;
  acquired: AcquiredRange[];
}

export interface ShareFetchResult {
  errorCode: number;
  errorMessage?: string;
  partitions: SharePartitionAcquired[];
}

export interface ShareAcknowledgeSpec {
  groupId: string;
  memberId: string;
  partitions: readonly { topic: string; partition: number; ranges: readonly AcknowledgeRange[] }[];
}

export interface ShareAcknowledgeResult {
  errorCode: number;
  errorMessage?: string;
  partitions: { topic: string; partition: number; errorCode: number; errorMessage?: string }[];
}

export interface SharePartitionDescription {
  topic: string;
  partition: number;
  startOffset: number;
  inFlight: number;
  acquired: number;
  /** [deliveryCount, records] of the records in flight. */
  deliveryCounts: [number, number][];
  /** True: this broker leads the partition and holds it live; false: the coordinator's last stored snapshot (nothing acquired). */
  live: boolean;
}

export interface ShareGroupDescription {
  groupId: string;
  members: string[];
  partitions: SharePartitionDescription[];
  deadLetterTopic: string;
  /** The group's lock duration and delivery limit in force (its own config, else the broker's). */
  lockDurationMs: number;
  deliveryLimit: number;
  /** True when this broker coordinates the group (its config and stored state are authoritative here). */
  coordinator: boolean;
}

export type { ShareGroupConfig };

/** Bounds of a group's lock duration (Kafka's share.record.lock.duration.ms allows 1 s..1 h). */
export const ShareConfigBounds = { minLockDurationMs: 1_000, maxLockDurationMs: 3_600_000 } as const;

class ShareGroup {
  readonly partitions = new Map<string, SharePartition>();
  /** Shared by every share-partition of the group: a config change applies to all at once. */
  readonly limits: SharePartitionLimits;
  config: ShareGroupConfig = {};
  /** member id -> last request (monotonic ms); describe shows them. */
  readonly members = new Map<string, number>();
  /**
   * member id -> when it left. A ShareFetch of a member that left acquires nothing: its
   * request may still be parked on a half-closed connection and would otherwise take
   * records for nobody until their locks expire.
   */
  readonly left = new Map<string, number>();
  constructor(
    readonly groupId: string,
    private readonly brokerLimits: SharePartitionLimits,
  ) {
    this.limits = { ...brokerLimits };
  }

  applyConfig(config: ShareGroupConfig): void {
    this.config = { ...config };
    this.limits.lockDurationMs = config.lockDurationMs ?? this.brokerLimits.lockDurationMs;
    this.limits.deliveryLimit = config.deliveryLimit ?? this.brokerLimits.deliveryLimit;
  }
}

/** A live share-partition's epochs: the data partition's leader epoch it was taken up at, and the state epoch it read. */
interface LiveEpochs {
  leaderEpoch: number;
  stateEpoch: number;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export interface ShareGroupsSettings {
  /** Where snapshots go (default: the coordinator in this process). */
  persister?: SharePersister;
  /** Which data partitions this broker leads (default: all, a single node). */
  leadership?: ShareLeadership;
  /** Where dead letters go (default: `<group>.dlq` in this broker's logs). */
  deadLetters?: DeadLetterSink;
}

export class ShareGroups {
  private readonly groups = new Map<string, ShareGroup>();
  private readonly epochs = new WeakMap<SharePartition, LiveEpochs>();
  /** Delayed releases: when each one's records become available again (a parked ShareFetch is woken then). */
  private delayedReleases: { topic: string; partition: number; atMs: number }[] = [];
  /** Share-partitions being taken up (key group + partition -> the read in flight). */
  private readonly preparing = new Map<string, Promise<void>>();
  private readonly lockExpiry: SessionExpiryTask;
  /** Called when records of a partition became available again (parked share fetches wake). */
  onAvailable: (topic: string, partition: number) => void = () => {};
  private closed = false;
  /** Cluster mode: who leads the __share_group_state partitions (FindCoordinator for share groups). */
  private roles: CoordinatorRoles | undefined;
  /** The share coordinator's side: stored snapshots and configs of the groups coordinated here. */
  readonly state: ShareCoordinatorState;
  private persister: SharePersister;
  private readonly leadership: ShareLeadership;
  private readonly deadLetters: DeadLetterSink;

  constructor(
    private readonly logs: LogManager,
    store: ShareStateStore,
    private readonly clock: Clock,
    readonly limits: SharePartitionLimits,
    private readonly warn: (message: string) => void,
    /** A problem when the group id is taken by another kind with members. */
    private readonly otherKind: (groupId: string) => string | undefined = () => undefined,
    settings: ShareGroupsSettings = {},
  ) {
    this.state = new ShareCoordinatorState(store, limits);
    this.persister = settings.persister ?? new LocalSharePersister(this.state);
    this.leadership = settings.leadership ?? SINGLE_NODE_LEADERSHIP;
    this.deadLetters = settings.deadLetters ?? new LocalDeadLetterSink(logs);
    this.lockExpiry = new SessionExpiryTask(clock, { expireMembers: (nowMs) => this.expireLocks(nowMs) });
  }

  /** Replaces the persister (the broker's cluster persister needs this object's coordinator state first). */
  usePersister(persister: SharePersister): void {
    this.persister = persister;
  }

  /**
   * Loads the coordinator's stored snapshots (cluster mode: of the state partitions this
   * broker leads, following leadership from then on).
   */
  async load(roles?: CoordinatorRoles): Promise<void> {
    this.roles = roles;
    await this.state.load(roles);
  }

  /** FindCoordinator for a share group (cluster mode): the leader of its state partition. */
  findCoordinator(groupId: string): CoordinatorAddress | null {
    assert(this.roles !== undefined, 'share findCoordinator outside cluster mode');
    return this.roles.leader(SHARE_STATE_TOPIC, coordinatorPartitionOf(groupId, this.state.store.partitionCount));
  }

  /**
   * Takes up the share-partitions a fetch names that this broker leads but does not hold
   * live yet (reads their stored state from the coordinator). Undefined when there is
   * nothing to take up (the common case: no promise); else resolves with the partitions
   * that could not be taken up and why (acquire answers those errors).
   */
  prepare(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, SpoolError>> | undefined {
    // A coordinator in this process is read synchronously by acquire() itself.
    if (this.persister.readNow !== undefined || this.checkGroup(groupId) !== undefined) return undefined;
    let pending: Promise<void>[] | undefined;
    const failures = new Map<string, SpoolError>();
    const group = this.groups.get(groupId);
    for (const { topic, partition } of partitions) {
      const leaderEpoch = this.leadership.leaderEpoch(topic, partition);
      if (leaderEpoch === null) continue;
      const live = group?.partitions.get(key(topic, partition));
      if (live !== undefined && this.epochs.get(live)?.leaderEpoch === leaderEpoch) continue;
      const info = this.logs.getTopic(topic);
      if (info === undefined || partition < 0 || partition >= info.partitions) continue;
      const name = `${groupId}\u0000${topic}\u0000${partition}`;
      let taking = this.preparing.get(name);
      if (taking === undefined) {
        taking = this.takeUp(groupId, topic, partition, leaderEpoch).finally(() => this.preparing.delete(name));
        this.preparing.set(name, taking);
      }
      (pending ??= []).push(
        taking.catch((error: unknown) => {
          if (!isSpoolError(error)) throw error;
          failures.set(key(topic, partition), error);
        }),
      );
    }
    return pending === undefined ? undefined : Promise.all(pending).then(() => failures);
  }

  private async takeUp(groupId: string, topic: string, partition: number, leaderEpoch: number): Promise<void> {
    const read = await this.persister.read(groupId, topic, partition, leaderEpoch);
    // Leadership may have moved while the read was in flight: then nothing is taken up.
    if (this.closed || this.leadership.leaderEpoch(topic, partition) !== leaderEpoch) return;
    this.install(this.group(groupId), topic, partition, leaderEpoch, read);
  }

  /** Takes a share-partition up synchronously (the coordinator is in this process); undefined when it cannot be. */
  private takeUpNow(group: ShareGroup, topic: string, partition: number): SharePartition | undefined {
    const leaderEpoch = this.leadership.leaderEpoch(topic, partition);
    if (this.persister.readNow === undefined || leaderEpoch === null) return undefined;
    return this.install(group, topic, partition, leaderEpoch, this.persister.readNow(group.groupId, topic, partition, leaderEpoch));
  }

  private install(group: ShareGroup, topic: string, partition: number, leaderEpoch: number, read: ShareStateRead): SharePartition {
    group.applyConfig(read.config);
    const share = new SharePartition(topic, partition, group.limits);
    if (read.value !== null) share.restore(read.value.startOffset, read.value.runs);
    this.epochs.set(share, { leaderEpoch, stateEpoch: read.stateEpoch });
    group.partitions.set(key(topic, partition), share);
    return share;
  }

  /**
   * The live share-partition when this broker still leads its data partition at the epoch
   * it was taken up at; a stale one is dropped (its acquisitions are lost: the records come
   * back from the stored state). Throws NOT_LEADER_OR_FOLLOWER when another broker leads.
   */
  private live(group: ShareGroup, topic: string, partition: number): SharePartition | undefined {
    const leaderEpoch = this.leadership.leaderEpoch(topic, partition);
    const share = group.partitions.get(key(topic, partition));
    if (leaderEpoch === null) {
      if (share !== undefined) group.partitions.delete(key(topic, partition));
      throw new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `this broker does not lead ${topic}-${partition}`);
    }
    if (share === undefined) return undefined;
    if (this.epochs.get(share)?.leaderEpoch !== leaderEpoch) {
      group.partitions.delete(key(topic, partition));
      return undefined;
    }
    return share;
  }

  /** Acquires records for a member; synchronous (reads batch headers only). `failures`: prepare()'s. */
  acquire(spec: ShareFetchSpec, failures?: ReadonlyMap<string, SpoolError>): ShareFetchResult {
    const problem = this.checkGroup(spec.groupId);
    if (problem !== undefined) return { errorCode: problem[0].code, errorMessage: problem[1], partitions: [] };
    const nowMs = this.clock.monotonicMs();
    const group = this.group(spec.groupId);
    this.forgetIdleMembers(group, nowMs);
    if (spec.memberId === '' || spec.memberId.length > MAX_SHARE_MEMBER_ID_CHARS) {
      return { errorCode: Errors.INVALID_REQUEST.code, errorMessage: `member id must be 1..${MAX_SHARE_MEMBER_ID_CHARS} characters`, partitions: [] };
    }
    if (!group.members.has(spec.memberId) && group.members.size >= MAX_SHARE_GROUP_MEMBERS) {
      return { errorCode: Errors.GROUP_MAX_SIZE_REACHED.code, errorMessage: `share group ${spec.groupId} has ${MAX_SHARE_GROUP_MEMBERS} members`, partitions: [] };
    }
    if (group.left.has(spec.memberId)) {
      return { errorCode: Errors.UNKNOWN_MEMBER_ID.code, errorMessage: `member ${spec.memberId} left share group ${spec.groupId}`, partitions: [] };
    }
    group.members.set(spec.memberId, nowMs);
    let recordsLeft = Math.min(spec.maxRecords, MAX_SHARE_FETCH_RECORDS);
    let bytesLeft = spec.maxBytes;
    const partitions: SharePartitionAcquired[] = [];
    for (const { topic, partition } of spec.partitions) {
      const entry: SharePartitionAcquired = { topic, partition, errorCode: 0, records: null, acquired: [] };
      partitions.push(entry);
      const failed = failures?.get(key(topic, partition));
      if (failed !== undefined) {
        setError(entry, failed.kind, failed.message);
        continue;
      }
      if (recordsLeft <= 0 || bytesLeft <= 0) continue;
      try {
        const log = this.logs.getPartition(topic, partition);
        const share = this.live(group, topic, partition) ?? this.takeUpNow(group, topic, partition);
        // Not taken up (leadership moved since prepare()): nothing this time.
        if (share === undefined) continue;
        const read = this.acquireFrom(log, share, spec.memberId, recordsLeft, bytesLeft, nowMs);
        if (read === undefined) continue;
        entry.records = read.records;
        entry.acquired = read.acquired;
        for (const range of read.acquired) recordsLeft -= range.lastOffset - range.firstOffset + 1;
        bytesLeft -= read.records.length;
        this.lockExpiry.noteDeadline(nowMs + group.limits.lockDurationMs);
      } catch (error) {
        if (!isSpoolError(error)) throw error;
        entry.errorCode = error.errorCode;
        entry.errorMessage = error.message;
      }
    }
    return { errorCode: 0, partitions };
  }

  private acquireFrom(
    log: ReturnType<LogManager['getPartition']>,
    share: SharePartition,
    memberId: string,
    maxRecords: number,
    maxBytes: number,
    nowMs: number,
  ): { records: Buffer; acquired: AcquiredRange[] } | undefined {
    share.skipTo(log.logStartOffset);
    const from = share.nextFetchOffset(nowMs);
    // Only records below the high watermark (the log end on a single node) are handed out:
    // in a cluster, one the in-sync replicas do not all hold yet could be lost with the leader.
    const readableEnd = log.highWatermark;
    if (from === undefined || from >= readableEnd) return undefined;
    // Read about what maxRecords records take, not maxBytes: reading (and allocating) a MiB
    // to hand out 500 records of 100 bytes was most of the share path's CPU.
    const { bytes } = log.read(from, Math.min(maxBytes, readBytesFor(share.bytesPerRecord, maxRecords)));
    const spans: (BatchSpan & { start: number; end: number })[] = [];
    forEachBatch(bytes, (header, position) => {
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      if (lastOffset >= readableEnd) return;
      spans.push({ baseOffset: header.baseOffset, lastOffset, start: position, end: position + header.totalBytes });
    });
    if (spans.length > 0) share.bytesPerRecord = bytes.length / (spans[spans.length - 1]!.lastOffset - spans[0]!.baseOffset + 1);
    const acquired = share.acquire(memberId, spans, maxRecords, nowMs);
    if (acquired.length === 0) return undefined;
    const first = acquired[0]!.firstOffset;
    const last = acquired[acquired.length - 1]!.lastOffset;
    const firstSpan = spans.find((span) => span.lastOffset >= first)!;
    const lastSpan = spans.find((span) => span.lastOffset >= last)!;
    return { records: bytes.subarray(firstSpan.start, lastSpan.end), acquired };
  }

  /** Applies a member's acknowledgements; answers once the new state is durable. */
  async acknowledge(spec: ShareAcknowledgeSpec): Promise<ShareAcknowledgeResult> {
    const problem = this.checkGroup(spec.groupId);
    if (problem !== undefined) return { errorCode: problem[0].code, errorMessage: problem[1], partitions: [] };
    const nowMs = this.clock.monotonicMs();
    const group = this.groups.get(spec.groupId);
    const changed: SharePartition[] = [];
    const dead: DeadLetterBatch[] = [];
    const partitions: ShareAcknowledgeResult['partitions'] = [];
    for (const { topic, partition, ranges } of spec.partitions) {
      const entry: ShareAcknowledgeResult['partitions'][number] = { topic, partition, errorCode: 0 };
      partitions.push(entry);
      let share: SharePartition | undefined;
      try {
        share = group === undefined ? undefined : this.live(group, topic, partition);
      } catch (error) {
        if (!isSpoolError(error)) throw error;
        setError(entry, error.kind, error.message);
        continue;
      }
      if (share === undefined) {
        setError(entry, Errors.INVALID_RECORD_STATE, `group ${spec.groupId} holds nothing of ${topic}-${partition} here`);
        continue;
      }
      // Ranges apply in order; the first refused one ends this partition (earlier ones stay applied).
      const letters = [];
      const startBefore = share.startOffset;
      let released = false;
      for (const range of ranges) {
        const result = share.acknowledge(spec.memberId, range, nowMs);
        if (!Array.isArray(result)) {
          setError(entry, result.error, result.message);
          break;
        }
        letters.push(...result);
        released ||= range.type === AcknowledgeType.RELEASE;
        if (range.type === AcknowledgeType.RELEASE && range.delayMs !== undefined && range.delayMs > 0) {
          // Available again only then: wake the fetches parked on the partition at that moment.
          this.delayedReleases.push({ topic, partition, atMs: nowMs + range.delayMs });
          this.lockExpiry.noteDeadline(nowMs + range.delayMs);
        }
      }
      changed.push(share);
      if (letters.length > 0) dead.push({ topic, partition, letters });
      // A release, or a start offset that moved (the in-flight window has room again), may
      // let a parked ShareFetch acquire.
      if (released || share.startOffset !== startBefore) this.onAvailable(topic, partition);
    }
    if (group !== undefined) group.members.set(spec.memberId, nowMs);
    const failures = await this.persistOrFail(spec.groupId, changed, dead);
    for (const entry of partitions) {
      if (entry.errorCode !== 0) continue;
      const failure = failures.all ?? failures.byPartition.get(key(entry.topic, entry.partition));
      if (failure !== undefined) setError(entry, failure.kind, failure.message);
    }
    return { errorCode: 0, partitions };
  }

  /** Releases everything a member holds here (it closed); durable like an acknowledgement. */
  async leave(groupId: string, memberId: string): Promise<void> {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    group.members.delete(memberId);
    const nowMs = this.clock.monotonicMs();
    group.left.set(memberId, nowMs);
    const changed: SharePartition[] = [];
    const dead: DeadLetterBatch[] = [];
    for (const share of group.partitions.values()) {
      if (!share.holdsAny(memberId)) continue;
      const letters = share.releaseMember(memberId, nowMs);
      changed.push(share);
      if (letters.length > 0) dead.push({ topic: share.topic, partition: share.partition, letters });
      this.onAvailable(share.topic, share.partition);
    }
    const failures = await this.persistOrFail(groupId, changed, dead);
    if (failures.all !== undefined) throw failures.all;
    this.dropIfIdle(group);
  }

  /** The lock-expiry task's target: releases expired locks, wakes delayed releases that are due, returns the next deadline. */
  expireLocks(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    if (this.delayedReleases.length > 0) {
      const due = this.delayedReleases.filter((release) => release.atMs <= nowMs);
      this.delayedReleases = this.delayedReleases.filter((release) => release.atMs > nowMs);
      for (const release of due) this.onAvailable(release.topic, release.partition);
      for (const release of this.delayedReleases) next = Math.min(next, release.atMs);
    }
    for (const group of [...this.groups.values()]) {
      const changed: SharePartition[] = [];
      const dead: DeadLetterBatch[] = [];
      for (const share of [...group.partitions.values()]) {
        try {
          if (this.live(group, share.topic, share.partition) === undefined) continue;
        } catch {
          continue; // no longer led here: dropped
        }
        const expired = share.expireLocks(nowMs);
        next = Math.min(next, expired.nextDeadlineMs);
        if (expired.released === 0) continue;
        changed.push(share);
        if (expired.dead.length > 0) dead.push({ topic: share.topic, partition: share.partition, letters: expired.dead });
        this.onAvailable(share.topic, share.partition);
      }
      if (changed.length > 0) {
        // Nobody waits on this write: a failure is logged, and a restart redelivers (never loses).
        void this.persistOrFail(group.groupId, changed, dead).then((failures) => {
          const failure = failures.all ?? failures.byPartition.values().next().value;
          if (failure !== undefined) this.warn(`share group ${group.groupId}: state after lock expiry not written: ${failure.message}`);
        });
      }
      this.forgetIdleMembers(group, nowMs);
      this.dropIfIdle(group);
    }
    return next;
  }

  /** Checks lock deadlines now (the background timer does this on its own). */
  runLockExpiry(): void {
    this.lockExpiry.runNow();
  }

  /**
   * The group as this broker sees it: its live share-partitions (the data partitions it
   * leads) and, for the others, the coordinator's stored snapshots when it coordinates the
   * group. Undefined when neither knows the group. In a cluster a client merges the answers
   * of every broker (the live view of a share-partition wins).
   */
  describe(groupId: string): ShareGroupDescription | undefined {
    const group = this.groups.get(groupId);
    const coordinates = this.state.has(groupId) && this.state.coordinates(groupId);
    if (group === undefined && !coordinates) return undefined;
    const partitions: SharePartitionDescription[] = [];
    for (const share of group?.partitions.values() ?? []) partitions.push(describePartition(share, true));
    if (coordinates) {
      for (const stored of this.state.persisted(groupId)) {
        if (group?.partitions.has(key(stored.topic, stored.partition))) continue;
        const window = new SharePartition(stored.topic, stored.partition, this.limits);
        window.restore(stored.startOffset, stored.runs as StateRun[]);
        partitions.push(describePartition(window, false));
      }
    }
    partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    const config = this.configOf(groupId);
    return {
      groupId,
      members: group === undefined ? [] : [...group.members.keys()],
      deadLetterTopic: deadLetterTopic(groupId),
      lockDurationMs: config.lockDurationMs,
      deliveryLimit: config.deliveryLimit,
      coordinator: coordinates,
      partitions,
    };
  }

  /**
   * Moves the start offset of each named share-partition (admin reset; the caller checked
   * that the group has no members) at the coordinator, which bumps their state epochs; a
   * share-partition held live here is dropped and read again. Resolves once durable. See
   * SharePartition.resetStart for what happens to the records in flight.
   */
  async resetStart(groupId: string, topic: string, targets: readonly { partition: number; offset: number }[]): Promise<void> {
    await this.persister.reset(groupId, topic, targets);
    const group = this.groups.get(groupId);
    for (const { partition } of targets) {
      group?.partitions.delete(key(topic, partition));
      this.onAvailable(topic, partition);
    }
  }

  /**
   * Sets fields of a share group's config (checked: lock 1 s..1 h, delivery limit 2..10), durable in
   * __share_group_state before it resolves. `onlyIfUnset`: the SDK's first join, which
   * must not override a config an admin (or an earlier member) set. Answers the config in force.
   */
  async configure(groupId: string, config: ShareGroupConfig, onlyIfUnset = false): Promise<ShareGroupConfig> {
    const problem = this.checkGroup(groupId) ?? checkConfig(config);
    if (problem !== undefined) throw new SpoolError(problem[0], problem[1]);
    const inForce = await this.persister.configure(groupId, config, onlyIfUnset);
    this.group(groupId).applyConfig(inForce);
    return inForce;
  }

  /** A share group's config in force (unset fields: the broker-wide value). */
  configOf(groupId: string): Required<ShareGroupConfig> {
    const own = this.groups.get(groupId)?.config ?? {};
    const stored = this.state.coordinates(groupId) ? this.state.configOf(groupId) : undefined;
    const config = stored ?? own;
    return { lockDurationMs: config.lockDurationMs ?? this.limits.lockDurationMs, deliveryLimit: config.deliveryLimit ?? this.limits.deliveryLimit };
  }

  /** Every share group's id known here (a member fetched here, or its state is coordinated here), sorted. */
  groupIds(): string[] {
    const ids = new Set(this.groups.keys());
    for (const groupId of this.state.groupIds()) if (this.state.coordinates(groupId)) ids.add(groupId);
    return [...ids].sort();
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId) || (this.state.has(groupId) && this.state.coordinates(groupId));
  }

  /** Members seen lately here (a consumer or classic join of this id is refused while > 0). */
  memberCount(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return 0;
    this.forgetIdleMembers(group, this.clock.monotonicMs());
    return group.members.size;
  }

  /**
   * Member ids are the clients' (no heartbeat): one not seen for twice the lock duration
   * (at least a minute) and holding nothing is forgotten, so crashed members do not pile up.
   */
  private forgetIdleMembers(group: ShareGroup, nowMs: number): void {
    const idleMs = Math.max(2 * group.limits.lockDurationMs, 60_000);
    for (const [memberId, leftAtMs] of group.left) if (leftAtMs + idleMs <= nowMs) group.left.delete(memberId);
    for (const [memberId, lastSeenMs] of group.members) {
      if (lastSeenMs + idleMs > nowMs) continue;
      let holds = false;
      for (const share of group.partitions.values()) if ((holds = share.holdsAny(memberId))) break;
      if (!holds) group.members.delete(memberId);
    }
  }

  /**
   * In a cluster, a group with no members here keeps no live share-partitions (their state
   * is stored at the coordinator): an admin reset, which needs the group empty, then finds
   * no stale copy on a leader, and the next member's fetch reads the state again.
   */
  private dropIfIdle(group: ShareGroup): void {
    if (!this.leadership.clustered || group.members.size > 0) return;
    for (const [name, share] of group.partitions) if (share.acquiredCount() === 0) group.partitions.delete(name);
    if (group.partitions.size === 0 && group.left.size === 0) this.groups.delete(group.groupId);
  }

  close(): void {
    this.closed = true;
    this.persister.close?.();
    this.state.close();
    this.lockExpiry.close();
  }

  /**
   * Dead letters first (durable before the snapshot that archives their records is
   * written, so a crash never leaves a record archived without its dead letter), then the
   * snapshots, taken now. Answers what failed: everything (`all`), or single partitions
   * (fenced: such a share-partition is dropped here and read again by the next fetch).
   */
  private async persistOrFail(
    groupId: string,
    changed: readonly SharePartition[],
    dead: readonly DeadLetterBatch[],
  ): Promise<{ all?: SpoolError; byPartition: Map<string, SpoolError> }> {
    const byPartition = new Map<string, SpoolError>();
    if (changed.length === 0) return { byPartition };
    try {
      if (dead.length > 0) {
        const records = buildDeadLetters(this.logs, groupId, dead, this.warn);
        if (records.length > 0) await this.deadLetters.append(groupId, records);
      }
      const writes: ShareStateWrite[] = [];
      for (const share of changed) {
        const epochs = this.epochs.get(share) ?? { leaderEpoch: -1, stateEpoch: 0 };
        writes.push({ topic: share.topic, partition: share.partition, leaderEpoch: epochs.leaderEpoch, stateEpoch: epochs.stateEpoch, startOffset: share.startOffset, runs: share.stateRuns() });
      }
      const result = await this.persister.write(groupId, writes);
      const group = this.groups.get(groupId);
      group?.applyConfig(result.config);
      for (const entry of result.partitions) {
        if (entry.errorCode === 0) continue;
        const failure = new SpoolError(kindOf(entry.errorCode), entry.errorMessage ?? `share state of ${entry.topic}-${entry.partition} not written`);
        byPartition.set(key(entry.topic, entry.partition), failure);
        // Fenced: this copy is stale (a newer leader, or a reset): drop it, read it again.
        const share = group?.partitions.get(key(entry.topic, entry.partition));
        if (share !== undefined && changed.includes(share)) group!.partitions.delete(key(entry.topic, entry.partition));
      }
      return { byPartition };
    } catch (error) {
      if (!isSpoolError(error)) throw error;
      return { all: error, byPartition };
    }
  }

  private checkGroup(groupId: string): [ErrorKind, string] | undefined {
    if (this.closed) return [Errors.COORDINATOR_NOT_AVAILABLE, 'the coordinator is shutting down'];
    const invalid = checkGroupId(groupId);
    if (invalid !== undefined) return [Errors.INVALID_GROUP_ID, invalid];
    const other = this.otherKind(groupId);
    if (other !== undefined) return [Errors.INCONSISTENT_GROUP_PROTOCOL, other];
    return undefined;
  }

  private group(groupId: string): ShareGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ShareGroup(groupId, this.limits);
      this.groups.set(groupId, group);
    }
    return group;
  }
}

function describePartition(share: SharePartition, live: boolean): SharePartitionDescription {
  return {
    topic: share.topic,
    partition: share.partition,
    startOffset: share.startOffset,
    inFlight: share.inFlightCount(),
    acquired: share.acquiredCount(),
    deliveryCounts: [...share.deliveryCounts()].sort((a, b) => a[0] - b[0]),
    live,
  };
}

function kindOf(code: number): ErrorKind {
  return errorByCode(code);
}

/** Bytes a share read asks for first, before any record was seen (then: the records' average size). */
export const SHARE_FIRST_READ_BYTES = 64 * 1024;

/**
 * Bytes to read for maxRecords records of about bytesPerRecord each, with a quarter more
 * (batches straddle the ends; some offsets are held by others) and at least 16 KiB.
 */
function readBytesFor(bytesPerRecord: number, maxRecords: number): number {
  if (bytesPerRecord <= 0) return SHARE_FIRST_READ_BYTES;
  return Math.max(16 * 1024, Math.ceil(maxRecords * bytesPerRecord * 1.25));
}

function setError(entry: { errorCode: number; errorMessage?: string }, kind: ErrorKind, message: string): void {
  entry.errorCode = kind.code;
  entry.errorMessage = message;
}

function checkConfig(config: ShareGroupConfig): [ErrorKind, string] | undefined {
  const { lockDurationMs, deliveryLimit } = config;
  if (lockDurationMs !== undefined && !(Number.isInteger(lockDurationMs) && lockDurationMs >= ShareConfigBounds.minLockDurationMs && lockDurationMs <= ShareConfigBounds.maxLockDurationMs)) {
    return [Errors.INVALID_REQUEST, `share.record.lock.duration.ms ${lockDurationMs} is outside ${ShareConfigBounds.minLockDurationMs}..${ShareConfigBounds.maxLockDurationMs}`];
  }
  if (deliveryLimit !== undefined && !(Number.isInteger(deliveryLimit) && deliveryLimit >= ShareDefaults.minDeliveryLimit && deliveryLimit <= ShareDefaults.maxDeliveryLimit)) {
    return [Errors.INVALID_REQUEST, `share.delivery.count.limit ${deliveryLimit} is outside ${ShareDefaults.minDeliveryLimit}..${ShareDefaults.maxDeliveryLimit}`];
  }
  return undefined;
}

export { ShareDefaults };
