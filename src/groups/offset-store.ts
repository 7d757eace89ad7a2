// Where committed offsets live durably. The coordinator keeps every committed offset in
// memory and writes each change through an OffsetStore; on start it replays the store.
//
// LogOffsetStore: the internal compacted topic __consumer_offsets (one partition), one
// record per (group, topic, partition), encoded as in offset-codec.ts; a tombstone
// (null value) deletes. MemoryOffsetStore: the same contract in an array, for tests of
// the coordinator logic without storage.
//
// append() writes synchronously (the order of calls is the order in the log) and
// returns a promise that resolves when the write is as durable as the fsync policy
// promises, so the coordinator can update memory right after the call, in log order,
// and answer the client only after the promise resolves.

import { encodeBatch, type RecordInput } from '../records/index.js';
import type { LogManager, PartitionLog } from '../storage/types.js';
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

export const OFFSETS_TOPIC = '__consumer_offsets';
/** Records per batch when a commit or a deletion is large (keeps batches < 1 MiB). */
const RECORDS_PER_BATCH = 200;

export interface OffsetRecord extends OffsetKey {
  /** null = tombstone */
  value: OffsetValue | null;
}

export interface OffsetStore {
  /** Every record from the start of the store, in order (later records win). */
  load(onRecord: (record: OffsetRecord) => void): Promise<void>;
  /** Writes now, in call order; resolves when durable. */
  append(records: readonly OffsetRecord[]): Promise<void>;
}

export class MemoryOffsetStore implements OffsetStore {
  readonly records: OffsetRecord[] = [];
  /** When set, append throws this (a storage failure) before writing anything. */
  failure: Error | undefined;

  async load(onRecord: (record: OffsetRecord) => void): Promise<void> {
    for (const record of this.records) onRecord(structuredClone(record));
  }

  append(records: readonly OffsetRecord[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    for (const record of records) this.records.push(structuredClone(record));
    return Promise.resolve();
  }
}

export class LogOffsetStore implements OffsetStore {
  private constructor(
    private readonly partition: PartitionLog,
    private readonly clock: Clock,
    private readonly warn: (message: string) => void,
  ) {}

  /** Opens (creating when missing) the __consumer_offsets topic. */
  static async open(logs: LogManager, clock: Clock, warn: (message: string) => void): Promise<LogOffsetStore> {
    if (logs.getTopic(OFFSETS_TOPIC) === undefined) {
      await logs.createTopic(OFFSETS_TOPIC, 1, { cleanupPolicy: 'compact' }, true);
    }
    return new LogOffsetStore(logs.getPartition(OFFSETS_TOPIC, 0), clock, warn);
  }

  async load(onRecord: (record: OffsetRecord) => void): Promise<void> {
    replayInternalLog(this.partition, {
      topic: OFFSETS_TOPIC,
      decode(key, value) {
        const decodedKey = decodeOffsetKey(key);
        return decodedKey === null ? null : { ...decodedKey, value: value === null ? null : decodeOffsetValue(value) };
      },
      onRecord,
      warn: this.warn,
    });
  }

  append(records: readonly OffsetRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
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
    return this.partition.append(batches.length === 1 ? batches[0]! : Buffer.concat(batches)).then(() => undefined);
  }
}
