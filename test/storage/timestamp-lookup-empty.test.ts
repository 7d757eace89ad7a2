// Proves that an offset lookup by timestamp (PartitionLog.offsetForTimestamp, what
// ListOffsets with a timestamp asks) passes over a batch with no records, as Kafka's
// LogSegment.findOffsetByTimestamp does, instead of answering its base offset. The
// zero-record batches are what the cleaner keeps of an idempotent producer's batch
// (records' filterBatch with retainEmpty: the header, maxTimestamp included, and its offset
// range, no records), appended as a copy from another log. Checked on real files: a lookup
// landing on such a batch answers the first record at or after the target in a later
// batch of the same segment, of a later segment, or null when no record reaches it.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchLayout, encodeBatch, filterBatch, setProducerFields } from '../../src/records/index.js';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { tempDataDir } from './helpers.js';

const T0 = 1_700_000_000_000;
const FROM_LOG = { origin: 'log' } as const;

let data: ReturnType<typeof tempDataDir>;
let manager: LogManager;
let log: PartitionLogImpl;
beforeEach(async () => {
  data = tempDataDir();
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock: new ManualClock(T0), backgroundTasks: false });
  await manager.createTopic('t', 1, { cleanupPolicy: 'compact' });
  log = manager.getPartition('t', 0) as PartitionLogImpl;
});
afterEach(async () => {
  await manager.close();
  data.cleanup();
});

function batchAt(timestamps: number[]): Buffer {
  return encodeBatch(timestamps.map((timestamp, i) => ({ key: `k${i}`, value: `v${timestamp}`, timestamp })));
}

/** What the cleaner keeps of an idempotent producer's batch whose records all went: header and offsets, no records. */
function emptiedBatch(timestamps: number[]): Buffer {
  const batch = Buffer.from(batchAt(timestamps));
  setProducerFields(batch, 0, 7, 0, 0);
  const emptied = filterBatch(batch, () => false, { retainEmpty: true, maxUncompressedBytes: 1 << 20 }).batch!;
  expect(emptied.readInt32BE(BatchLayout.RECORD_COUNT)).toBe(0);
  return emptied;
}

describe('offsetForTimestamp over a batch with no records', () => {
  it('goes on to the next batch of the segment', async () => {
    await log.append(batchAt([T0, T0 + 1])); // offsets 0-1
    await log.append(emptiedBatch([T0 + 10, T0 + 20]), FROM_LOG); // offsets 2-3, no records, maxTimestamp T0 + 20
    await log.append(batchAt([T0 + 15, T0 + 30])); // offsets 4-5
    expect(log.logEndOffset).toBe(6);
    expect(log.offsetForTimestamp(T0 + 1)).toBe(1);
    expect(log.offsetForTimestamp(T0 + 2)).toBe(4);
    expect(log.offsetForTimestamp(T0 + 20)).toBe(5);
    expect(log.offsetForTimestamp(T0 + 30)).toBe(5);
    expect(log.offsetForTimestamp(T0 + 31)).toBeNull();
  });

  it('goes on to the next segment', async () => {
    await log.append(batchAt([T0])); // offset 0
    await log.append(emptiedBatch([T0 + 50]), FROM_LOG); // offset 1
    log.roll();
    await log.append(batchAt([T0 + 40, T0 + 60])); // offsets 2-3
    expect(log.segments.length).toBe(2);
    expect(log.offsetForTimestamp(T0 + 1)).toBe(2);
    expect(log.offsetForTimestamp(T0 + 41)).toBe(3);
    expect(log.offsetForTimestamp(T0 + 50)).toBe(3);
  });

  it('answers null when the only batch reaching the target has no records', async () => {
    await log.append(batchAt([T0])); // offset 0
    await log.append(emptiedBatch([T0 + 50, T0 + 51]), FROM_LOG); // offsets 1-2
    expect(log.offsetForTimestamp(T0)).toBe(0);
    expect(log.offsetForTimestamp(T0 + 1)).toBeNull();
  });
});
