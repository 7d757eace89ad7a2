// Where share-group state lives durably: the internal compacted topic __share_group_state
// (one partition on a single node; several in a cluster, a group's records all in
// partition coordinatorPartitionOf(groupId, partitionCount), whose leader coordinates the
// share group, as for __consumer_offsets), one record per (group, topic, partition) holding the whole state of
// that share-partition (share-state-codec.ts). The share coordinator keeps the state in
// memory and writes a snapshot after every change that must survive a crash (an
// acknowledgement, a release, a lock expiry); on start it replays the topic (the last
// record per key wins). MemoryShareStateStore: the same contract in an array, for tests.
//
// append() writes synchronously (call order is log order) and resolves when durable, so
// an acknowledgement is answered only once its snapshot is as durable as the fsync policy.

import { encodeBatch, type RecordInput } from '../records/index.js';
import type { LogManager } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { assert } from '../util/assert.js';
import {
  decodeShareGroupConfig,
  encodeShareGroupConfig,
  isGroupConfigKey,
  type ShareGroupConfigValue,
  decodeShareStateKey,
  decodeShareStateValue,
  encodeShareStateKey,
  encodeShareStateValue,
  type ShareStateKey,
  type ShareStateValue,
} from './share-state-codec.js';
import { replayInternalLog } from './internal-log.js';
import { coordinatorPartitionOf, type InternalReplication } from './coordinator-placement.js';

export const SHARE_STATE_TOPIC = '__share_group_state';

export interface ShareStateRecord extends ShareStateKey {
  /** null = tombstone */
  value: ShareStateValue | null;
  /** A group config record (topic '' and partition -1; value then unused): see share-state-codec.ts. */
  config?: ShareGroupConfigValue;
}

export interface ShareStateStore {
  /** Partitions of the store (1 until a single node's topic exists). */
  readonly partitionCount: number;
  /** Every record from the start of the store (of one partition when given), in order (later records win). */
  load(onRecord: (record: ShareStateRecord) => void, partition?: number): Promise<void>;
  /** Makes append() possible (creates the topic on first use); await before the synchronous step. */
  prepare(): Promise<void>;
  /** Writes now, in call order; resolves when durable. */
  append(records: readonly ShareStateRecord[]): Promise<void>;
}

export class MemoryShareStateStore implements ShareStateStore {
  readonly records: ShareStateRecord[] = [];

  constructor(readonly partitionCount = 1) {}

  async load(onRecord: (record: ShareStateRecord) => void, partition?: number): Promise<void> {
    for (const record of this.records) {
      if (partition === undefined || coordinatorPartitionOf(record.groupId, this.partitionCount) === partition) onRecord(structuredClone(record));
    }
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  append(records: readonly ShareStateRecord[]): Promise<void> {
    for (const record of records) this.records.push(structuredClone(record));
    return Promise.resolve();
  }
}

export interface LogShareStateStoreSettings {
  /** Partitions when the topic is created here (default 1); an existing topic keeps its count. */
  partitions?: number;
  /** Cluster mode: leadership check before, and the in-sync replicas' acknowledgement after, each append. */
  replication?: InternalReplication;
}

/**
 * On a single node the topic is created on the first share-group write, so brokers that
 * never use share groups do not have it; in a cluster the coordinator prepares it at open
 * (every replica must have it to follow it).
 */
export class LogShareStateStore implements ShareStateStore {
  private partitions: number | undefined;
  private creating: Promise<void> | undefined;

  constructor(
    private readonly logs: LogManager,
    private readonly clock: Clock,
    private readonly warn: (message: string) => void,
    private readonly settings: LogShareStateStoreSettings = {},
  ) {
    this.partitions = logs.getTopic(SHARE_STATE_TOPIC)?.partitions;
  }

  get partitionCount(): number {
    return this.partitions ?? this.settings.partitions ?? 1;
  }

  prepare(): Promise<void> {
    if (this.partitions !== undefined) return Promise.resolve();
    this.creating ??= this.logs.createTopic(SHARE_STATE_TOPIC, this.settings.partitions ?? 1, { cleanupPolicy: 'compact' }, true).then((info) => {
      this.partitions = info.partitions;
    });
    return this.creating.finally(() => {
      this.creating = undefined;
    });
  }

  async load(onRecord: (record: ShareStateRecord) => void, partition?: number): Promise<void> {
    if (this.partitions === undefined) return;
    const indexes = partition === undefined ? [...Array(this.partitions).keys()] : [partition];
    // A record that does not decode makes that share-partition's records available again
    // (redelivery, never loss).
    for (const index of indexes) {
      replayInternalLog(this.logs.getPartition(SHARE_STATE_TOPIC, index), {
        topic: SHARE_STATE_TOPIC,
        decode(key, value): ShareStateRecord | null {
          const decodedKey = decodeShareStateKey(key);
          if (decodedKey === null) return null;
          if (isGroupConfigKey(decodedKey)) return value === null ? null : { ...decodedKey, value: null, config: decodeShareGroupConfig(value) };
          return { ...decodedKey, value: value === null ? null : decodeShareStateValue(value) };
        },
        onRecord,
        warn: this.warn,
      });
    }
  }

  append(records: readonly ShareStateRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    assert(this.partitions !== undefined, 'share state append before prepare()');
    const partitionCount = this.partitions;
    const byPartition = new Map<number, ShareStateRecord[]>();
    for (const record of records) {
      const partition = coordinatorPartitionOf(record.groupId, partitionCount);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      list.push(record);
    }
    // Every partition is checked before anything is written, so a refused append writes nothing.
    const replication = this.settings.replication;
    if (replication) for (const partition of byPartition.keys()) replication.beforeAppend(SHARE_STATE_TOPIC, partition);
    const timestamp = this.clock.nowMs();
    const written = [...byPartition].map(([partition, list]) => {
      const inputs: RecordInput[] = list.map((record) => ({
        key: encodeShareStateKey(record),
        value: record.config !== undefined ? encodeShareGroupConfig(record.config) : record.value === null ? null : encodeShareStateValue(record.value),
        timestamp,
      }));
      const appended = this.logs.getPartition(SHARE_STATE_TOPIC, partition).append(encodeBatch(inputs));
      if (!replication) return appended.then(() => undefined);
      return appended.then((result) => replication.afterAppend(SHARE_STATE_TOPIC, partition, result.lastOffset + 1));
    });
    return written.length === 1 ? written[0]! : Promise.all(written).then(() => undefined);
  }
}
