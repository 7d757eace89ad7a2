// Proves that a bad batch already on disk (from an older version or a bad disk) fails only
// the request that meets it, never the partition. Good batches, a poison batch with a
// valid CRC but garbage records, one with an undefined compression codec (6) and more
// good batches are written straight into the segment through the storage layer
// (bypassing append's validation). Then: reads before the poison return the good batches
// (cut before the bad header), a read at the bad-codec batch and a timestamp lookup that
// lands on the garbage batch throw CorruptBatchError (CORRUPT_MESSAGE, topic, partition,
// baseOffset, nextOffset), reads after the poison work, a compaction run leaves the
// poisoned segment as it is with a warning and still cleans the others, and the
// partition stays online throughout and after a restart.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATCH_HEADER_BYTES, BatchLayout, CRC_START, crc32c, encodeBatch, readInt64, setBaseOffset } from '../../src/records/index.js';
import { CorruptBatchError, LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { batchesOf, tempDataDir } from './helpers.js';

const T0 = 1_700_000_000_000;

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

function good(key: string, value: string, timestamp: number): Buffer {
  return encodeBatch([{ key, value, timestamp }]);
}

function resealed(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
  return batch;
}

/** Valid header and CRC, records section of 0xff bytes (a varint that never ends). */
function garbageRecords(timestamp: number): Buffer {
  const batch = good('poison', 'p'.repeat(40), timestamp);
  batch.fill(0xff, BATCH_HEADER_BYTES);
  return resealed(batch);
}

/** Valid CRC, compression codec 6 (not defined by Kafka). */
function unknownCodec(timestamp: number): Buffer {
  const batch = good('codec', 'c'.repeat(40), timestamp);
  batch.writeInt16BE(batch.readInt16BE(BatchLayout.ATTRIBUTES) | 6, BatchLayout.ATTRIBUTES);
  return resealed(batch);
}

/** Writes one batch into the active segment the way append would, without validating it. */
function appendUnchecked(log: PartitionLogImpl, batch: Buffer): number {
  const segment = log.active;
  segment.prepareForAppend();
  const baseOffset = segment.nextOffset;
  setBaseOffset(batch, 0, baseOffset);
  const position = segment.sizeBytes;
  segment.writeBatches(batch);
  const lastOffset = baseOffset + batch.readInt32BE(BatchLayout.LAST_OFFSET_DELTA);
  segment.noteBatch(position, baseOffset, lastOffset, batch.length, readInt64(batch, BatchLayout.MAX_TIMESTAMP), T0);
  segment.flushIndexEntries();
  return baseOffset;
}

async function open(warnings: string[]): Promise<LogManager> {
  return LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, warn: (m) => warnings.push(m) });
}

describe('poison batches on disk', () => {
  it('fail only the request that meets them; reads around them and timestamp lookups keep working', async () => {
    const warnings: string[] = [];
    const manager = await open(warnings);
    await manager.createTopic('p', 1, { indexIntervalBytes: 0 });
    const log = manager.getPartition('p', 0);
    for (let i = 0; i < 3; i++) await log.append(good(`k${i}`, `v${i}`, T0 + i));
    const garbageAt = appendUnchecked(log, garbageRecords(T0 + 10));
    const codecAt = appendUnchecked(log, unknownCodec(T0 + 20));
    for (let i = 3; i < 6; i++) await log.append(good(`k${i}`, `v${i}`, T0 + 30 + i));
    expect(garbageAt).toBe(3);
    expect(codecAt).toBe(4);

    // Before the poison: the good batches, cut before the bad-codec header.
    expect(batchesOf(log.read(0, 1 << 20).bytes).map((b) => b.baseOffset)).toEqual([0, 1, 2, 3]);
    // At the bad-codec batch: a named error with offsets to seek past it.
    let caught: unknown;
    try {
      log.read(codecAt, 1 << 20);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CorruptBatchError);
    expect(caught).toMatchObject({ code: 'CORRUPT_MESSAGE', topic: 'p', partition: 0, baseOffset: 4, nextOffset: 5 });
    expect((caught as Error).message).toContain('p-0 at offset 4');
    // After it.
    expect(batchesOf(log.read(5, 1 << 20).bytes).map((b) => b.baseOffset)).toEqual([5, 6, 7]);
    // Timestamp lookups: before, at the garbage batch (named error), past both.
    expect(log.offsetForTimestamp(T0 + 1)).toBe(1);
    expect(() => log.offsetForTimestamp(T0 + 5)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE', baseOffset: 3, nextOffset: 4 }));
    expect(log.offsetForTimestamp(T0 + 34)).toBe(6);
    expect(log.isOffline).toBe(false);
    expect(await log.append(good('k9', 'v9', T0 + 50))).toEqual({ baseOffset: 8, lastOffset: 8 });

    await manager.close();
    const reopened = await open(warnings);
    const again = reopened.getPartition('p', 0);
    expect(() => again.read(4, 100)).toThrow(CorruptBatchError);
    expect(batchesOf(again.read(5, 1 << 20).bytes).map((b) => b.baseOffset)).toEqual([5, 6, 7, 8]);
    await reopened.close();
  });

  it('compaction leaves a poisoned segment as it is (warning), cleans the others, partition online', async () => {
    const warnings: string[] = [];
    const manager = await open(warnings);
    await manager.createTopic('c', 1, { cleanupPolicy: 'compact', indexIntervalBytes: 0, deleteRetentionMs: 0 });
    const log = manager.getPartition('c', 0);
    // Segment 1: old values of a and b. Segment 2: the poison between good batches. Segment 3: new a and b.
    await log.append(good('a', 'a1', T0));
    await log.append(good('b', 'b1', T0 + 1));
    log.roll();
    await log.append(good('x', 'x1', T0 + 2));
    appendUnchecked(log, garbageRecords(T0 + 3));
    await log.append(good('a', 'a-mid', T0 + 4));
    log.roll();
    await log.append(good('a', 'a2', T0 + 5));
    await log.append(good('b', 'b2', T0 + 6));
    log.roll();
    await log.append(good('z', 'z1', T0 + 7));
    await Promise.all(log.segments.map((segment) => segment.flushDone));
    const poisonedBytes = log.segments[1]!.sizeBytes;

    await manager.runTask('log-cleaner');
    expect(log.isOffline).toBe(false);
    expect(warnings.some((w) => w.includes('does not decode') && w.includes('offset 3'))).toBe(true);
    // Segment 1 was cleaned (a1, b1 superseded); segment 2 is untouched.
    expect(log.segments[0]!.isEmpty || log.segments[0]!.baseOffset !== 0).toBe(true);
    const poisoned = log.segments.find((segment) => segment.baseOffset === 2)!;
    expect(poisoned.sizeBytes).toBe(poisonedBytes);
    expect(batchesOf(log.read(2, 1 << 20).bytes).map((b) => b.baseOffset)).toEqual([2, 3, 4]);
    expect(batchesOf(log.read(5, 1 << 20).bytes).map((b) => b.baseOffset)).toEqual([5, 6]);
    await reopenAndCheck(manager, warnings);
  });
});

async function reopenAndCheck(manager: LogManager, warnings: string[]): Promise<void> {
  await manager.close();
  const reopened = await open(warnings);
  const log = reopened.getPartition('c', 0);
  expect(batchesOf(log.read(2, 1 << 20).bytes).map((b) => b.baseOffset)).toEqual([2, 3, 4]);
  await reopened.runTask('log-cleaner');
  expect(log.isOffline).toBe(false);
  await reopened.close();
}
