// Where committed offsets live durably. The coordinator keeps every committed offset in
// memory and writes each change through an OffsetStore; on start it replays the store.
//
// LogOffsetStore: the internal compacted topic __consumer_offsets, one record per (group,
// topic, partition), encoded as in offset-codec.ts; a tombstone (null value) deletes. A
// group's records all go to partition coordinatorPartitionOf(groupId, partitionCount)
// (coordinator-placement.ts): one partition on a single node (as it always was), several in
// a cluster, where each partition's leader coordinates its groups and an append is
// acknowledged once the in-sync replicas have it (InternalReplication). An existing topic
// keeps the partition count it was created with, so older data directories load as before. MemoryOffsetStore: the same contract in an array, for tests of
// the coordinator logic without storage.
//
// append() writes synchronously (the order of calls is the order in the log) and
// returns a promise that resolves when the write is acknowledged: as durable as the fsync
// policy promises (single node), on the in-sync replicas (cluster). The coordinator numbers
// the records in call order, keeps them pending until then (pending-commits.ts) and only
// then shows them and answers the client.

import { encodeBatch, type RecordInput } from '../records/index.js';
import type { LogManager } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
  type OffsetKey,
  type OffsetValue,
} from './offset-codec.js';
import { replayInternalLog } from './internal-log.js';
import { coordinatorPartitionOf, type InternalReplication } from './coordinator-placement.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
/** Records per batch when a commit or a deletion is large (keeps batches < 1 MiB). */
const RECORDS_PER_BATCH = 200;

export interface OffsetRecord extends OffsetKey {
  /** null = tombstone */
  value: OffsetValue | null;
}

export interface OffsetStore {
  /** Partitions of the store: a group's records are all in partition coordinatorPartitionOf(groupId, partitionCount). */
  readonly partitionCount: number;
  /** Every record from the start of the store (of one partition when given), in order (later records win). */
  load(onRecord: (record: OffsetRecord) => void, partition?: number): Promise<void>;
  /** Writes now, in call order; resolves when acknowledged (durable, or replicated to the ISR). */
  append(records: readonly OffsetRecord[]): Promise<void>;
}

export class MemoryOffsetStore implements OffsetStore {
  readonly records: OffsetRecord[] = [];
  /** When set, append throws this (a storage failure) before writing anything. */
  failure: Error | undefined;

  constructor(readonly partitionCount = 1) {}

  async load(onRecord: (record: OffsetRecord) => void, partition?: number): Promise<void> {
    for (const record of this.records) {
      if (partition === undefined || coordinatorPartitionOf(record.groupId, this.partitionCount) === partition) onRecord(structuredClone(record));
    }
  }

  append(records: readonly OffsetRecord[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    for (const record of records) this.records.push(structuredClone(record));
    return Promise.resolve();
  }
}

export interface LogOffsetStoreSettings {
  /** Partitions when the topic is created here (default 1); an existing topic keeps its count. */
  partitions?: number;
  /** Cluster mode: leadership check before, and the in-sync replicas' acknowledgement after, each append. */
  replication?: InternalReplication;
}

export class LogOffsetStore implements OffsetStore {
  private constructor(
    private readonly logs: LogManager,
    readonly partitionCount: number,
    private readonly clock: Clock,
    private readonly warn: (message: string) => void,
    private readonly replication: InternalReplication | undefined,
  ) {}

  /** Opens (creating when missing) the __consumer_offsets topic. */
  static async open(logs: LogManager, clock: Clock, warn: (message: string) => void, settings: LogOffsetStoreSettings = {}): Promise<LogOffsetStore> {
    const wanted = settings.partitions ?? 1;
    let info = logs.getTopic(OFFSETS_TOPIC);
    if (info === undefined) info = await logs.createTopic(OFFSETS_TOPIC, wanted, { cleanupPolicy: 'compact' }, true);
    else if (info.partitions !== wanted && settings.partitions !== undefined) {
      // The hash of every stored group depends on the count: changing it would strand their offsets.
      warn(`${OFFSETS_TOPIC} has ${info.partitions} partition(s); keeping that count (${wanted} applies only when the topic is created)`);
    }
    return new LogOffsetStore(logs, info.partitions, clock, warn, settings.replication);
  }

  async load(onRecord: (record: OffsetRecord) => void, partition?: number): Promise<void> {
    const partitions = partition === undefined ? [...Array(this.partitionCount).keys()] : [partition];
    for (const index of partitions) {
      replayInternalLog(this.logs.getPartition(OFFSETS_TOPIC, index), {
        topic: OFFSETS_TOPIC,
        decode(key, value) {
          const decodedKey = decodeOffsetKey(key);
          return decodedKey === null ? null : { ...decodedKey, value: value === null ? null : decodeOffsetValue(value) };
        },
        onRecord,
        warn: this.warn,
      });
    }
  }

  append(records: readonly OffsetRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const byPartition = new Map<number, OffsetRecord[]>();
    for (const record of records) {
      const partition = coordinatorPartitionOf(record.groupId, this.partitionCount);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      list.push(record);
    }
    // Every partition is checked before anything is written, so a refused append writes nothing.
    if (this.replication) for (const partition of byPartition.keys()) this.replication.beforeAppend(OFFSETS_TOPIC, partition);
    const written = [...byPartition].map(([partition, list]) => this.appendTo(partition, list));
    return written.length === 1 ? written[0]! : Promise.all(written).then(() => undefined);
  }

  private appendTo(partition: number, records: readonly OffsetRecord[]): Promise<void> {
    const timestamp = this.clock.nowMs();
    const batches: Buffer[] = [];
    for (let start = 0; start < records.length; start += RECORDS_PER_BATCH) {
      const inputs: RecordInput[] = records.slice(start, start + RECORDS_PER_BATCH).map((record) => ({
        key: encodeOffsetKey(record),
        value: record.value === null ? null : encodeOffsetValue(record.value),
        timestamp,
      }));
      batches.push(encodeBatch(inputs));
    }
    const appended = this.logs.getPartition(OFFSETS_TOPIC, partition).append(batches.length === 1 ? batches[0]! : Buffer.concat(batches));
    const replication = this.replication;
    if (!replication) return appended.then(() => undefined);
    return appended.then((result) => replication.afterAppend(OFFSETS_TOPIC, partition, result.lastOffset + 1));
  }
}
