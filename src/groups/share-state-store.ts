// Where share-group state lives durably: the internal compacted topic __share_group_state
// (one partition), one record per (group, topic, partition) holding the whole state of
// that share-partition (share-state-codec.ts). The share coordinator keeps the state in
// memory and writes a snapshot after every change that must survive a crash (an
// acknowledgement, a release, a lock expiry); on start it replays the topic (the last
// record per key wins). MemoryShareStateStore: the same contract in an array, for tests.
//
// append() writes synchronously (call order is log order) and resolves when durable, so
// an acknowledgement is answered only once its snapshot is as durable as the fsync policy.

import { encodeBatch, type RecordInput } from '../records/index.js';
import type { LogManager, PartitionLog } from '../storage/types.js';
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

export const SHARE_STATE_TOPIC = '__share_group_state';

export interface ShareStateRecord extends ShareStateKey {
  /** null = tombstone */
  value: ShareStateValue | null;
  /** A group config record (topic '' and partition -1; value then unused): see share-state-codec.ts. */
  config?: ShareGroupConfigValue;
}

export interface ShareStateStore {
  /** Every record from the start of the store, in order (later records win). */
  load(onRecord: (record: ShareStateRecord) => void): Promise<void>;
  /** Makes append() possible (creates the topic on first use); await before the synchronous step. */
  prepare(): Promise<void>;
  /** Writes now, in call order; resolves when durable. */
  append(records: readonly ShareStateRecord[]): Promise<void>;
}

export class MemoryShareStateStore implements ShareStateStore {
  readonly records: ShareStateRecord[] = [];

  async load(onRecord: (record: ShareStateRecord) => void): Promise<void> {
    for (const record of this.records) onRecord(structuredClone(record));
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  append(records: readonly ShareStateRecord[]): Promise<void> {
    for (const record of records) this.records.push(structuredClone(record));
    return Promise.resolve();
  }
}

/** The topic is created on the first share-group write, so brokers that never use share groups do not have it. */
export class LogShareStateStore implements ShareStateStore {
  private partition: PartitionLog | undefined;
  private creating: Promise<void> | undefined;

  constructor(
    private readonly logs: LogManager,
    private readonly clock: Clock,
    private readonly warn: (message: string) => void,
  ) {
    if (logs.getTopic(SHARE_STATE_TOPIC) !== undefined) this.partition = logs.getPartition(SHARE_STATE_TOPIC, 0);
  }

  prepare(): Promise<void> {
    if (this.partition !== undefined) return Promise.resolve();
    this.creating ??= this.logs.createTopic(SHARE_STATE_TOPIC, 1, { cleanupPolicy: 'compact' }, true).then(() => {
      this.partition = this.logs.getPartition(SHARE_STATE_TOPIC, 0);
    });
    return this.creating.finally(() => {
      this.creating = undefined;
    });
  }

  async load(onRecord: (record: ShareStateRecord) => void): Promise<void> {
    if (this.partition === undefined) return;
    // A record that does not decode makes that share-partition's records available again
    // (redelivery, never loss).
    replayInternalLog(this.partition, {
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

  append(records: readonly ShareStateRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const timestamp = this.clock.nowMs();
    const inputs: RecordInput[] = records.map((record) => ({
      key: encodeShareStateKey(record),
      value: record.config !== undefined ? encodeShareGroupConfig(record.config) : record.value === null ? null : encodeShareStateValue(record.value),
      timestamp,
    }));
    assert(this.partition !== undefined, 'share state append before prepare()');
    return this.partition.append(encodeBatch(inputs)).then(() => undefined);
  }
}
