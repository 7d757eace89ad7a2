// The share coordinator (KIP-932's share coordinator and persister): the durable state of
// share-partitions and the share groups' configs, held for the groups whose
// __share_group_state partition this broker leads (every group on a single node).
//
// It never acquires or acknowledges records: the leader of each data partition does
// (share-groups.ts, "share-partition leader"). A leader reads a share-partition's state
// here when it takes the share-partition up, and writes a snapshot here after every
// change that must survive (share-persister.ts carries both, in process or between brokers).
//
// Fencing (a cluster): each stored snapshot carries the data partition's leader epoch of
// its writer and a state epoch. A read or write with an older leader epoch than the one
// stored is FENCED_LEADER_EPOCH (a deposed leader); a read records the reader's epoch so
// the deposed leader's next write is refused even before the new leader wrote. A write
// with another state epoch than the stored one is FENCED_STATE_EPOCH: an admin reset
// (reset()) bumps the state epoch, and a leader still holding the old state must read the
// reset one before it writes again.
//
// Memory is updated when the snapshot is appended (call order = log order); the append
// resolves once durable (and, in a cluster, once the in-sync replicas hold it).

import { Errors, SpoolError } from '../util/errors.js';
import { validateTopicName } from '../storage/names.js';
import { checkGroupId } from './validate.js';
import { coordinatorPartitionOf, type CoordinatorRoles } from './coordinator-placement.js';
import { ShareDefaults, SharePartition, type SharePartitionLimits, type StateRun } from './share-partition.js';
import type { ShareStateValue } from './share-state-codec.js';
import { SHARE_STATE_TOPIC, type ShareStateRecord, type ShareStateStore } from './share-state-store.js';

/** A share group's own settings (unset fields: the broker-wide value). */
export interface ShareGroupConfig {
  lockDurationMs?: number;
  deliveryLimit?: number;
}

/** One share-partition's stored state, as a leader reads it. */
export interface ShareStateRead {
  /** The last snapshot (null: never written; the share-partition starts at the log start). */
  value: { startOffset: number; runs: StateRun[] } | null;
  /** The state epoch the reader must write with. */
  stateEpoch: number;
  /** The group's config in force (unset fields: the broker's). */
  config: ShareGroupConfig;
}

/** One snapshot a leader writes. */
export interface ShareStateWrite {
  topic: string;
  partition: number;
  /** The writer's leader epoch of the data partition (-1 on a single node). */
  leaderEpoch: number;
  /** The state epoch it read. */
  stateEpoch: number;
  startOffset: number;
  runs: StateRun[];
}

export interface ShareStateWriteResult {
  /** Per write, in order: 0, or the error that refused it (nothing of a refused write is stored). */
  partitions: { topic: string; partition: number; errorCode: number; errorMessage?: string }[];
  /** The group's config in force: a leader applies it (how a config change reaches the leaders). */
  config: ShareGroupConfig;
}

/** A share-partition as the coordinator last stored it (describe of a share-partition no live leader here holds). */
export interface PersistedSharePartition {
  topic: string;
  partition: number;
  startOffset: number;
  runs: readonly StateRun[];
}

interface StoredPartition {
  value: { startOffset: number; runs: StateRun[] } | null;
  leaderEpoch: number;
  stateEpoch: number;
}

interface StoredGroup {
  config: ShareGroupConfig;
  partitions: Map<string, StoredPartition>;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * A written window must be one a share-partition can hold: at most the largest in-flight
 * window (ShareDefaults.maxInFlightRecords, the flag's maximum), runs consecutive from the
 * start offset. A leader never writes more; a bigger one would make every reader allocate
 * and walk it (restore() touches each offset).
 */
function checkWindow(startOffset: number, runs: readonly StateRun[]): void {
  let expected = startOffset;
  for (const run of runs) {
    if (run.firstOffset !== expected || run.lastOffset < run.firstOffset) throw new SpoolError(Errors.INVALID_REQUEST, `share state runs must be consecutive from ${startOffset}`);
    expected = run.lastOffset + 1;
  }
  if (expected - startOffset > ShareDefaults.maxInFlightRecords || !Number.isSafeInteger(expected)) {
    throw new SpoolError(Errors.INVALID_REQUEST, `a share-partition's state covers at most ${ShareDefaults.maxInFlightRecords} offsets, got ${expected - startOffset}`);
  }
}

/** A share-partition's topic and partition as the stored key needs them (the requests come from other brokers too). */
function checkPartition(topic: string, partition: number): void {
  validateTopicName(topic);
  if (!Number.isInteger(partition) || partition < 0) throw new SpoolError(Errors.INVALID_REQUEST, `partition ${partition} of ${topic} is not a partition number`);
}

export class ShareCoordinatorState {
  private readonly groups = new Map<string, StoredGroup>();
  private roles: CoordinatorRoles | undefined;
  private readonly loadedPartitions = new Set<number>();
  private unsubscribeRoles: (() => void) | undefined;
  private closed = false;
  /** Called when a state partition stops being led here (its groups were dropped). */
  onUnload: (groupIds: string[]) => void = () => {};

  constructor(
    readonly store: ShareStateStore,
    /** The broker-wide lock duration and delivery limit (reset() rebuilds a window with them). */
    private readonly limits: SharePartitionLimits,
  ) {}

  /**
   * Replays the durable snapshots (the last per share-partition wins). With `roles`
   * (cluster mode): only the partitions this broker leads, and from then on a partition's
   * groups are loaded when it becomes leader and dropped when it stops.
   */
  async load(roles?: CoordinatorRoles): Promise<void> {
    if (roles === undefined) {
      await this.store.load((record) => this.apply(record));
      return;
    }
    this.roles = roles;
    for (let partition = 0; partition < this.store.partitionCount; partition++) {
      if (roles.leads(SHARE_STATE_TOPIC, partition)) this.loadPartition(partition);
    }
    this.unsubscribeRoles = roles.onChange((topic, partition) => {
      if (topic !== SHARE_STATE_TOPIC || this.closed || partition >= this.store.partitionCount) return;
      const leads = roles.leads(topic, partition);
      if (leads && !this.loadedPartitions.has(partition)) this.loadPartition(partition);
      else if (!leads && this.loadedPartitions.has(partition)) this.unloadPartition(partition);
    });
  }

  private loadPartition(partition: number): void {
    // Synchronous replay (the promise only wraps it), so no request sees the partition half loaded.
    void this.store.load((record) => this.apply(record), partition);
    this.loadedPartitions.add(partition);
  }

  private unloadPartition(partition: number): void {
    this.loadedPartitions.delete(partition);
    const dropped: string[] = [];
    for (const groupId of [...this.groups.keys()]) {
      if (coordinatorPartitionOf(groupId, this.store.partitionCount) !== partition) continue;
      this.groups.delete(groupId);
      dropped.push(groupId);
    }
    if (dropped.length > 0) this.onUnload(dropped);
  }

  private apply(record: ShareStateRecord): void {
    const group = this.group(record.groupId);
    if (record.config !== undefined) {
      group.config = { ...record.config };
      return;
    }
    if (record.value === null) {
      group.partitions.delete(key(record.topic, record.partition));
      return;
    }
    const { startOffset, runs, leaderEpoch = -1, stateEpoch = 0 } = record.value;
    group.partitions.set(key(record.topic, record.partition), { value: { startOffset, runs }, leaderEpoch, stateEpoch });
  }

  /** NOT_COORDINATOR when another broker coordinates the group (cluster mode); INVALID_GROUP_ID for a bad id (another broker's request). */
  checkCoordinator(groupId: string): void {
    const invalid = checkGroupId(groupId);
    if (invalid !== undefined) throw new SpoolError(Errors.INVALID_GROUP_ID, invalid);
    if (this.closed) throw new SpoolError(Errors.COORDINATOR_NOT_AVAILABLE, 'the coordinator is shutting down');
    if (this.roles === undefined) return;
    const partition = coordinatorPartitionOf(groupId, this.store.partitionCount);
    if (!this.loadedPartitions.has(partition)) {
      throw new SpoolError(Errors.NOT_COORDINATOR, `this broker is not the coordinator of share group ${groupId} (${SHARE_STATE_TOPIC}-${partition})`);
    }
  }

  /** True when this broker coordinates the group (always on a single node). */
  coordinates(groupId: string): boolean {
    return this.roles === undefined || this.loadedPartitions.has(coordinatorPartitionOf(groupId, this.store.partitionCount));
  }

  /** A leader takes a share-partition up: its stored state, recording the leader's epoch (older leaders are fenced from now on). */
  read(groupId: string, topic: string, partition: number, leaderEpoch: number): ShareStateRead {
    this.checkCoordinator(groupId);
    checkPartition(topic, partition);
    const group = this.group(groupId);
    const stored = group.partitions.get(key(topic, partition));
    if (stored === undefined) {
      // Remembered (not written): an older leader's write is refused from now on.
      group.partitions.set(key(topic, partition), { value: null, leaderEpoch, stateEpoch: 0 });
      return { value: null, stateEpoch: 0, config: { ...group.config } };
    }
    if (leaderEpoch < stored.leaderEpoch) {
      throw new SpoolError(Errors.FENCED_LEADER_EPOCH, `share group ${groupId} ${topic}-${partition}: leader epoch ${leaderEpoch} is older than ${stored.leaderEpoch}`);
    }
    stored.leaderEpoch = leaderEpoch;
    return { value: stored.value === null ? null : { startOffset: stored.value.startOffset, runs: stored.value.runs.map((run) => ({ ...run })) }, stateEpoch: stored.stateEpoch, config: { ...group.config } };
  }

  /** Stores a leader's snapshots (each fenced on its own); resolves once durable. */
  async write(groupId: string, writes: readonly ShareStateWrite[]): Promise<ShareStateWriteResult> {
    this.checkCoordinator(groupId);
    await this.store.prepare();
    this.checkCoordinator(groupId);
    const group = this.group(groupId);
    const partitions: ShareStateWriteResult['partitions'] = [];
    const records: ShareStateRecord[] = [];
    for (const write of writes) {
      checkPartition(write.topic, write.partition);
      checkWindow(write.startOffset, write.runs);
    }
    for (const write of writes) {
      const stored = group.partitions.get(key(write.topic, write.partition));
      const entry: ShareStateWriteResult['partitions'][number] = { topic: write.topic, partition: write.partition, errorCode: 0 };
      partitions.push(entry);
      if (stored !== undefined && write.leaderEpoch < stored.leaderEpoch) {
        entry.errorCode = Errors.FENCED_LEADER_EPOCH.code;
        entry.errorMessage = `share group ${groupId} ${write.topic}-${write.partition}: leader epoch ${write.leaderEpoch} is older than ${stored.leaderEpoch}`;
        continue;
      }
      if ((stored?.stateEpoch ?? 0) !== write.stateEpoch) {
        entry.errorCode = Errors.FENCED_STATE_EPOCH.code;
        entry.errorMessage = `share group ${groupId} ${write.topic}-${write.partition}: state epoch ${write.stateEpoch} is not ${stored?.stateEpoch ?? 0} (reset meanwhile)`;
        continue;
      }
      const value: ShareStateValue = { startOffset: write.startOffset, runs: write.runs, leaderEpoch: write.leaderEpoch, stateEpoch: write.stateEpoch };
      group.partitions.set(key(write.topic, write.partition), { value: { startOffset: write.startOffset, runs: write.runs }, leaderEpoch: write.leaderEpoch, stateEpoch: write.stateEpoch });
      records.push({ groupId, topic: write.topic, partition: write.partition, value });
    }
    if (records.length > 0) await this.store.append(records);
    return { partitions, config: { ...group.config } };
  }

  /**
   * Sets fields of a group's config (the caller checked them), durable before it resolves.
   * `onlyIfUnset`: a member's first fetch, which must not override a config already set.
   * Answers the config in force.
   */
  async configure(groupId: string, config: ShareGroupConfig, onlyIfUnset: boolean): Promise<ShareGroupConfig> {
    this.checkCoordinator(groupId);
    const group = this.group(groupId);
    const isSet = group.config.lockDurationMs !== undefined || group.config.deliveryLimit !== undefined;
    if (onlyIfUnset && isSet) return { ...group.config };
    // The given fields are set; the others keep their value (Kafka's IncrementalAlterConfigs SET).
    group.config = { ...group.config, ...config };
    await this.store.prepare();
    await this.store.append([{ groupId, topic: '', partition: -1, value: null, config: group.config }]);
    return { ...group.config };
  }

  /**
   * Moves the start offset of share-partitions (admin reset; the caller checked the group
   * has no members) with SharePartition.resetStart's rules over the stored state, and bumps
   * each one's state epoch: a leader still holding the old state is fenced at its next
   * write and reads this one. Resolves once durable.
   */
  async reset(groupId: string, topic: string, targets: readonly { partition: number; offset: number }[]): Promise<void> {
    this.checkCoordinator(groupId);
    for (const { partition } of targets) checkPartition(topic, partition);
    await this.store.prepare();
    this.checkCoordinator(groupId);
    const group = this.group(groupId);
    const records: ShareStateRecord[] = targets.map(({ partition, offset }) => {
      const stored = group.partitions.get(key(topic, partition));
      const window = new SharePartition(topic, partition, this.limits);
      if (stored?.value) window.restore(stored.value.startOffset, stored.value.runs);
      window.resetStart(offset);
      const leaderEpoch = stored?.leaderEpoch ?? -1;
      const stateEpoch = (stored?.stateEpoch ?? 0) + 1;
      const value = { startOffset: window.startOffset, runs: window.stateRuns() };
      group.partitions.set(key(topic, partition), { value, leaderEpoch, stateEpoch });
      return { groupId, topic, partition, value: { ...value, leaderEpoch, stateEpoch } };
    });
    await this.store.append(records);
  }

  /** The group's own config (undefined fields: unset), or undefined when the group is unknown here. */
  configOf(groupId: string): ShareGroupConfig | undefined {
    const group = this.groups.get(groupId);
    return group === undefined ? undefined : { ...group.config };
  }

  /** The stored share-partitions of a group (describe, for the share-partitions no leader here holds live). */
  persisted(groupId: string): PersistedSharePartition[] {
    const group = this.groups.get(groupId);
    if (group === undefined) return [];
    const out: PersistedSharePartition[] = [];
    for (const [name, stored] of group.partitions) {
      if (stored.value === null) continue;
      const [topic, partition] = name.split('\u0000') as [string, string];
      out.push({ topic, partition: Number(partition), startOffset: stored.value.startOffset, runs: stored.value.runs });
    }
    return out;
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  close(): void {
    this.closed = true;
    this.unsubscribeRoles?.();
  }

  private group(groupId: string): StoredGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = { config: {}, partitions: new Map() };
      this.groups.set(groupId, group);
    }
    return group;
  }
}
