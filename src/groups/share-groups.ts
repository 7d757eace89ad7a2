// Share groups (KIP-932's model; README.md "Share groups"): any number of members consume
// the same partitions, the broker hands out records in acquisitions and each record is
// acknowledged on its own. This is the share kind of the coordinator: it owns the
// share-partitions (share-partition.ts), their durable snapshots (share-state-store.ts),
// the dead-letter path (share-dead-letter.ts) and the lock-expiry timer.
//
// acquire() is synchronous: it reads batch headers (never records) from storage and
// marks the covered offsets Acquired. acknowledge() mutates memory synchronously, then
// writes the dead letters and a snapshot of every changed share-partition in one
// synchronous step (call order = log order) and answers once they are durable. A crash
// before that loses only acquisitions and unanswered acknowledgements: those records are
// delivered again.

import type { LogManager } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { Errors, isSpoolError, SpoolError, type ErrorKind } from '../util/errors.js';
import { appendDeadLetters, deadLetterTopic, ensureDeadLetterTopic, type DeadLetterBatch } from './share-dead-letter.js';
import {
  AcknowledgeType,
  ShareDefaults,
  SharePartition,
  type AcknowledgeRange,
  type AcquiredRange,
  type BatchSpan,
  type SharePartitionLimits,
} from './share-partition.js';
import type { ShareStateRecord, ShareStateStore } from './share-state-store.js';
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
}

export interface ShareGroupDescription {
  groupId: string;
  members: string[];
  partitions: SharePartitionDescription[];
  deadLetterTopic: string;
  /** The group's lock duration and delivery limit in force (its own config, else the broker's). */
  lockDurationMs: number;
  deliveryLimit: number;
}

/**
 * A share group's own settings (Kafka's group configs `share.record.lock.duration.ms` and
 * `share.delivery.count.limit`); unset = the broker-wide value.
 */
export interface ShareGroupConfig {
  lockDurationMs?: number;
  deliveryLimit?: number;
}

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

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class ShareGroups {
  private readonly groups = new Map<string, ShareGroup>();
  private readonly lockExpiry: SessionExpiryTask;
  /** Called when records of a partition became available again (parked share fetches wake). */
  onAvailable: (topic: string, partition: number) => void = () => {};
  private closed = false;

  constructor(
    private readonly logs: LogManager,
    private readonly store: ShareStateStore,
    private readonly clock: Clock,
    readonly limits: SharePartitionLimits,
    private readonly warn: (message: string) => void,
    /** A problem when the group id is taken by another kind with members. */
    private readonly otherKind: (groupId: string) => string | undefined = () => undefined,
  ) {
    this.lockExpiry = new SessionExpiryTask(clock, { expireMembers: (nowMs) => this.expireLocks(nowMs) });
  }

  /** Replays the durable snapshots (the last per share-partition wins). */
  async load(): Promise<void> {
    await this.store.load((record) => {
      const group = this.group(record.groupId);
      if (record.config !== undefined) {
        group.applyConfig(record.config);
        return;
      }
      if (record.value === null) {
        group.partitions.delete(key(record.topic, record.partition));
        return;
      }
      this.partition(group, record.topic, record.partition).restore(record.value.startOffset, record.value.runs);
    });
  }

  /** Acquires records for a member; synchronous (reads batch headers only). */
  acquire(spec: ShareFetchSpec): ShareFetchResult {
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
      if (recordsLeft <= 0 || bytesLeft <= 0) continue;
      try {
        const read = this.acquireFrom(group, topic, partition, spec.memberId, recordsLeft, bytesLeft, nowMs);
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
    group: ShareGroup,
    topic: string,
    partition: number,
    memberId: string,
    maxRecords: number,
    maxBytes: number,
    nowMs: number,
  ): { records: Buffer; acquired: AcquiredRange[] } | undefined {
    const log = this.logs.getPartition(topic, partition);
    const share = this.partition(group, topic, partition);
    share.skipTo(log.logStartOffset);
    const from = share.nextFetchOffset(nowMs);
    if (from === undefined || from >= log.logEndOffset) return undefined;
    // Read about what maxRecords records take, not maxBytes: reading (and allocating) a MiB
    // to hand out 500 records of 100 bytes was most of the share path's CPU.
    const { bytes } = log.read(from, Math.min(maxBytes, readBytesFor(share.bytesPerRecord, maxRecords)));
    const spans: (BatchSpan & { start: number; end: number })[] = [];
    forEachBatch(bytes, (header, position) => {
      spans.push({ baseOffset: header.baseOffset, lastOffset: header.baseOffset + header.lastOffsetDelta, start: position, end: position + header.totalBytes });
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
      const share = group?.partitions.get(key(topic, partition));
      const entry: ShareAcknowledgeResult['partitions'][number] = { topic, partition, errorCode: 0 };
      partitions.push(entry);
      if (share === undefined) {
        setError(entry, Errors.INVALID_RECORD_STATE, `group ${spec.groupId} holds nothing of ${topic}-${partition}`);
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
      }
      changed.push(share);
      if (letters.length > 0) dead.push({ topic, partition, letters });
      // A release, or a start offset that moved (the in-flight window has room again), may
      // let a parked ShareFetch acquire.
      if (released || share.startOffset !== startBefore) this.onAvailable(topic, partition);
    }
    if (group !== undefined) group.members.set(spec.memberId, nowMs);
    try {
      await this.persist(spec.groupId, changed, dead);
    } catch (error) {
      if (!isSpoolError(error)) throw error;
      for (const entry of partitions) if (entry.errorCode === 0) setError(entry, error.kind, error.message);
    }
    return { errorCode: 0, partitions };
  }

  /** Releases everything a member holds (it closed); durable like an acknowledgement. */
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
    await this.persist(groupId, changed, dead);
  }

  /** The lock-expiry task's target: releases expired locks, returns the next deadline. */
  expireLocks(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const group of this.groups.values()) {
      const changed: SharePartition[] = [];
      const dead: DeadLetterBatch[] = [];
      for (const share of group.partitions.values()) {
        const expired = share.expireLocks(nowMs);
        next = Math.min(next, expired.nextDeadlineMs);
        if (expired.released === 0) continue;
        changed.push(share);
        if (expired.dead.length > 0) dead.push({ topic: share.topic, partition: share.partition, letters: expired.dead });
        this.onAvailable(share.topic, share.partition);
      }
      if (changed.length === 0) continue;
      // Nobody waits on this write: a failure is logged, and a restart redelivers (never loses).
      this.persist(group.groupId, changed, dead).catch((error: unknown) => {
        if (!isSpoolError(error)) throw error;
        this.warn(`share group ${group.groupId}: state after lock expiry not written: ${error.message}`);
      });
    }
    return next;
  }

  /** Checks lock deadlines now (the background timer does this on its own). */
  runLockExpiry(): void {
    this.lockExpiry.runNow();
  }

  describe(groupId: string): ShareGroupDescription | undefined {
    const group = this.groups.get(groupId);
    if (group === undefined) return undefined;
    return {
      groupId,
      members: [...group.members.keys()],
      deadLetterTopic: deadLetterTopic(groupId),
      lockDurationMs: group.limits.lockDurationMs,
      deliveryLimit: group.limits.deliveryLimit,
      partitions: [...group.partitions.values()].map((share) => ({
        topic: share.topic,
        partition: share.partition,
        startOffset: share.startOffset,
        inFlight: share.inFlightCount(),
        acquired: share.acquiredCount(),
        deliveryCounts: [...share.deliveryCounts()].sort((a, b) => a[0] - b[0]),
      })),
    };
  }

  /**
   * Moves the start offset of each named share-partition (admin reset; the caller checked
   * that the group has no members) and writes the new state; resolves once durable.
   * See SharePartition.resetStart for what happens to the records in flight.
   */
  async resetStart(groupId: string, topic: string, targets: readonly { partition: number; offset: number }[]): Promise<void> {
    const group = this.group(groupId);
    const changed = targets.map(({ partition, offset }) => {
      const share = this.partition(group, topic, partition);
      share.resetStart(offset);
      this.onAvailable(topic, partition);
      return share;
    });
    await this.persist(groupId, changed, []);
  }

  /**
   * Sets fields of a share group's config (checked: lock 1 s..1 h, delivery limit 2..10), durable in
   * __share_group_state before it resolves. `onlyIfUnset`: the SDK's first join, which
   * must not override a config an admin (or an earlier member) set. Answers the config in force.
   */
  async configure(groupId: string, config: ShareGroupConfig, onlyIfUnset = false): Promise<ShareGroupConfig> {
    const problem = this.checkGroup(groupId) ?? checkConfig(config);
    if (problem !== undefined) throw new SpoolError(problem[0], problem[1]);
    const group = this.group(groupId);
    const isSet = group.config.lockDurationMs !== undefined || group.config.deliveryLimit !== undefined;
    if (onlyIfUnset && isSet) return group.config;
    // The given fields are set; the others keep their value (Kafka's IncrementalAlterConfigs SET).
    group.applyConfig({ ...group.config, ...config });
    await this.store.prepare();
    await this.store.append([{ groupId, topic: '', partition: -1, value: null, config: group.config }]);
    return group.config;
  }

  /** A share group's config in force (unset fields: the broker-wide value). */
  configOf(groupId: string): Required<ShareGroupConfig> {
    const limits = this.groups.get(groupId)?.limits ?? this.limits;
    return { lockDurationMs: limits.lockDurationMs, deliveryLimit: limits.deliveryLimit };
  }

  /** Every share group's id (a group exists once a member fetched or a snapshot named it), sorted. */
  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  /** Members seen lately (a consumer or classic join of this id is refused while > 0). */
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

  close(): void {
    this.closed = true;
    this.lockExpiry.close();
  }

  /**
   * Dead letters first, then the snapshots, both appended synchronously in this order
   * (after the DLQ topic exists), so a crash never leaves a record archived in the state
   * without its dead letter written before it. Snapshots are taken at append time: a
   * later snapshot holds every earlier change too.
   */
  private async persist(groupId: string, changed: readonly SharePartition[], dead: readonly DeadLetterBatch[]): Promise<void> {
    if (changed.length === 0) return;
    await this.store.prepare();
    if (dead.length > 0) await ensureDeadLetterTopic(this.logs, groupId);
    const deadWritten = dead.length > 0 ? appendDeadLetters(this.logs, groupId, dead, this.warn) : Promise.resolve();
    const records: ShareStateRecord[] = changed.map((share) => ({
      groupId,
      topic: share.topic,
      partition: share.partition,
      value: { startOffset: share.startOffset, runs: share.stateRuns() },
    }));
    await Promise.all([deadWritten, this.store.append(records)]);
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

  private partition(group: ShareGroup, topic: string, partition: number): SharePartition {
    let share = group.partitions.get(key(topic, partition));
    if (share === undefined) {
      share = new SharePartition(topic, partition, group.limits);
      group.partitions.set(key(topic, partition), share);
    }
    return share;
  }
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
