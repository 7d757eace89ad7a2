// Replaying an internal compacted topic of the coordinator (__consumer_offsets,
// __share_group_state): every record from the log start to the log end, in order, each key
// and value decoded by the topic's codec. Shared by the offset store and the share-state
// store so both skip the same things the same way.
//
// The batches passed their CRC check when they were read, so a record that does not decode
// was written by another (buggy or newer) broker: it is skipped with a warning, since
// refusing to start would take every group down. A decoder answers null for a record type
// it does not know (a newer broker's), which is skipped silently.

import { decodeBatch, forEachBatch } from '../records/index.js';
import type { PartitionLog } from '../storage/types.js';
import { isSpoolError } from '../util/errors.js';

const LOAD_READ_BYTES = 1024 * 1024;

export interface InternalLogReplay<R> {
  /** The topic's name, for warnings. */
  topic: string;
  /** Key and value bytes to a record; null for a record type this broker does not know. Throws a SpoolError on bad bytes. */
  decode(key: Buffer, value: Buffer | null): R | null;
  onRecord(record: R): void;
  warn(message: string): void;
}

export function replayInternalLog<R>(partition: PartitionLog, replay: InternalLogReplay<R>): void {
  let offset = partition.logStartOffset;
  const end = partition.logEndOffset;
  while (offset < end) {
    const { bytes } = partition.read(offset, LOAD_READ_BYTES);
    if (bytes.length === 0) break;
    let next = offset;
    forEachBatch(bytes, (header, position) => {
      for (const record of decodeBatch(bytes, position).records) {
        // Compaction may leave a batch whose first records are below `offset`.
        if (record.offset >= offset) apply(replay, record.key, record.value, record.offset);
      }
      next = Math.max(next, header.baseOffset + header.lastOffsetDelta + 1);
    });
    if (next <= offset) break;
    offset = next;
  }
}

function apply<R>(replay: InternalLogReplay<R>, key: Buffer | null, value: Buffer | null, offset: number): void {
  if (key === null) {
    replay.warn(`${replay.topic}: record at offset ${offset} has no key; skipped`);
    return;
  }
  let record: R | null;
  try {
    record = replay.decode(key, value);
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    replay.warn(`${replay.topic}: record at offset ${offset} skipped: ${error.message}`);
    return;
  }
  if (record !== null) replay.onRecord(record);
}
