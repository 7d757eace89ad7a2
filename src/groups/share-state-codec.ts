// Key and value of the records in __share_group_state (big-endian, see README.md):
//
//   ShareStateKey   => version:int8 (= 1) groupLength:uint16 group:utf8
//                      topicLength:uint16 topic:utf8 partition:int32
//   ShareStateValue => version:int8 (= 1) startOffset:int64 runCount:int32
//                      runs:[ length:int32 state:int8 deliveryCount:int8 ]
//   ShareStateValue v3 (a cluster: the writer's epochs, for fencing) =>
//                      version:int8 (= 3) leaderEpoch:int32 stateEpoch:int32
//                      startOffset:int64 runCount:int32 runs:[ as v1 ]
//
// v1 is written when the value carries no epochs (a single node: leader epoch -1, state
// epoch 0), so a single node's bytes are unchanged; v3 otherwise. Both decode.
//
// One record is the whole state of one share-partition (a snapshot, so compaction keeps
// only the last per key). The runs cover [startOffset, startOffset + sum(length))
// consecutively; state is 0 Available, 2 Acknowledged, 4 Archived (Acquired is written as
// Available: after a restart nobody holds a lock). A null value (tombstone) deletes.
//
// A share group's config is a record with the key's topic '' and partition -1:
//   ShareGroupConfigValue => version:int8 (= 2) lockDurationMs:int32 deliveryLimit:int8
// (0 = unset: the broker-wide value). The last one per group wins.

import { Errors, SpoolError } from '../util/errors.js';
import { readInt64, writeInt64 } from '../records/index.js';
import { assert } from '../util/assert.js';
import { encodeOffsetKey, decodeOffsetKey, type OffsetKey } from './offset-codec.js';
import { ShareDefaults, ShareRecordState, type StateRun } from './share-partition.js';

export const SHARE_STATE_VALUE_VERSION = 1;
export const SHARE_STATE_VALUE_VERSION_EPOCHS = 3;

/** Byte offsets derived from the grammar above (v1). */
export const ShareStateValueLayout = { VERSION: 0, START_OFFSET: 1, RUN_COUNT: 9, RUNS: 13, RUN_BYTES: 6 } as const;
/** Byte offsets of v3. */
export const ShareStateValueLayoutV3 = { VERSION: 0, LEADER_EPOCH: 1, STATE_EPOCH: 5, START_OFFSET: 9, RUN_COUNT: 17, RUNS: 21, RUN_BYTES: 6 } as const;

/** The key has the layout of the __consumer_offsets key (version 1), in its own topic. */
export type ShareStateKey = OffsetKey;
export const encodeShareStateKey = (key: ShareStateKey): Buffer => encodeOffsetKey(key);
export const decodeShareStateKey = (buf: Buffer): ShareStateKey | null => decodeOffsetKey(buf);

export interface ShareStateValue {
  startOffset: number;
  runs: StateRun[];
  /** The data partition's leader epoch of the broker that wrote it (-1 / absent: a single node). */
  leaderEpoch?: number;
  /** Bumped by an admin reset: a leader holding an older state epoch is fenced (0 / absent: never reset in a cluster). */
  stateEpoch?: number;
}

const KNOWN_STATES = new Set<number>([ShareRecordState.AVAILABLE, ShareRecordState.ACKNOWLEDGED, ShareRecordState.ARCHIVED]);

export function encodeShareStateValue(value: ShareStateValue): Buffer {
  const leaderEpoch = value.leaderEpoch ?? -1;
  const stateEpoch = value.stateEpoch ?? 0;
  const epochs = leaderEpoch !== -1 || stateEpoch !== 0;
  const layout = epochs ? ShareStateValueLayoutV3 : ShareStateValueLayout;
  const buf = Buffer.alloc(layout.RUNS + value.runs.length * layout.RUN_BYTES);
  buf.writeInt8(epochs ? SHARE_STATE_VALUE_VERSION_EPOCHS : SHARE_STATE_VALUE_VERSION, layout.VERSION);
  if (epochs) {
    buf.writeInt32BE(leaderEpoch, ShareStateValueLayoutV3.LEADER_EPOCH);
    buf.writeInt32BE(stateEpoch, ShareStateValueLayoutV3.STATE_EPOCH);
  }
  writeInt64(buf, layout.START_OFFSET, value.startOffset);
  buf.writeInt32BE(value.runs.length, layout.RUN_COUNT);
  let position: number = layout.RUNS;
  let expected = value.startOffset;
  for (const run of value.runs) {
    assert(run.firstOffset === expected && run.lastOffset >= run.firstOffset, 'share state runs must be consecutive');
    assert(KNOWN_STATES.has(run.state) && run.deliveryCount >= 0 && run.deliveryCount <= 127, 'share state run fields');
    position = buf.writeInt32BE(run.lastOffset - run.firstOffset + 1, position);
    position = buf.writeInt8(run.state, position);
    position = buf.writeInt8(run.deliveryCount, position);
    expected = run.lastOffset + 1;
  }
  return buf;
}

export function decodeShareStateValue(buf: Buffer): ShareStateValue {
  const bad = (why: string): SpoolError => new SpoolError(Errors.CORRUPT_MESSAGE, `bad share state value: ${why}`);
  const version = buf.length > 0 ? buf.readInt8(0) : -1;
  const layout = version === SHARE_STATE_VALUE_VERSION_EPOCHS ? ShareStateValueLayoutV3 : ShareStateValueLayout;
  if (buf.length < layout.RUNS || (version !== SHARE_STATE_VALUE_VERSION && version !== SHARE_STATE_VALUE_VERSION_EPOCHS)) throw bad(`version ${buf[0]}, ${buf.length} bytes`);
  const startOffset = readInt64(buf, layout.START_OFFSET);
  const runCount = buf.readInt32BE(layout.RUN_COUNT);
  if (runCount < 0 || layout.RUNS + runCount * layout.RUN_BYTES !== buf.length) throw bad('run count disagrees with the length');
  const runs: StateRun[] = [];
  let firstOffset = startOffset;
  let position: number = layout.RUNS;
  for (let index = 0; index < runCount; index++) {
    const length = buf.readInt32BE(position);
    const state = buf.readInt8(position + 4);
    const deliveryCount = buf.readInt8(position + 5);
    if (length < 1 || !KNOWN_STATES.has(state) || deliveryCount < 0) throw bad(`run ${index}`);
    runs.push({ firstOffset, lastOffset: firstOffset + length - 1, state: state as ShareRecordState, deliveryCount });
    firstOffset += length;
    position += layout.RUN_BYTES;
  }
  // A window larger than any share-partition holds is not a state we wrote: reading it back
  // would allocate and walk every offset of it.
  if (firstOffset - startOffset > ShareDefaults.maxInFlightRecords || !Number.isSafeInteger(firstOffset)) throw bad(`window of ${firstOffset - startOffset} offsets`);
  if (version !== SHARE_STATE_VALUE_VERSION_EPOCHS) return { startOffset, runs };
  return { startOffset, runs, leaderEpoch: buf.readInt32BE(ShareStateValueLayoutV3.LEADER_EPOCH), stateEpoch: buf.readInt32BE(ShareStateValueLayoutV3.STATE_EPOCH) };
}

export const SHARE_GROUP_CONFIG_VERSION = 2;

/** A share group's own lock duration and delivery limit (undefined = the broker's). */
export interface ShareGroupConfigValue {
  lockDurationMs?: number;
  deliveryLimit?: number;
}

export const isGroupConfigKey = (key: ShareStateKey): boolean => key.topic === '' && key.partition === -1;

export function encodeShareGroupConfig(config: ShareGroupConfigValue): Buffer {
  const buf = Buffer.alloc(6);
  buf.writeInt8(SHARE_GROUP_CONFIG_VERSION, 0);
  buf.writeInt32BE(config.lockDurationMs ?? 0, 1);
  buf.writeInt8(config.deliveryLimit ?? 0, 5);
  return buf;
}

export function decodeShareGroupConfig(buf: Buffer): ShareGroupConfigValue {
  if (buf.length !== 6 || buf.readInt8(0) !== SHARE_GROUP_CONFIG_VERSION) {
    throw new SpoolError(Errors.CORRUPT_MESSAGE, `bad share group config value: version ${buf[0]}, ${buf.length} bytes`);
  }
  const config: ShareGroupConfigValue = {};
  const lockDurationMs = buf.readInt32BE(1);
  const deliveryLimit = buf.readInt8(5);
  if (lockDurationMs > 0) config.lockDurationMs = lockDurationMs;
  if (deliveryLimit > 0) config.deliveryLimit = deliveryLimit;
  return config;
}
