// Proves PartitionLog.deleteRecordsBefore (DeleteRecords) and LogManager.alterTopicConfig
// on a real data directory with small segments: the log start offset moves up (never down,
// OFFSET_OUT_OF_RANGE past the log end), closed segments wholly below it are deleted and
// the active one never, reads below it are OFFSET_OUT_OF_RANGE and at it return the batch
// holding it, and both the start and an altered config survive a restart (checkpoint and
// topic metadata); appends continue at the log end.

import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { isSpoolError, Errors } from '../../src/util/errors.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

function open(): Promise<LogManager> {
  return LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
}

describe('deleteRecordsBefore', () => {
  it('moves the start, deletes whole segments below it, and survives a restart', async () => {
    let manager = await open();
    await manager.createTopic('d', 1, { segmentBytes: 500 });
    let log = manager.getPartition('d', 0);
    for (let i = 0; i < 30; i++) await log.append(makeBatch(i, 1, 100));
    await Promise.all(log.segments.map((segment) => segment.flushDone));
    const segmentsBefore = log.segmentCount;
    const firstPath = log.segments[0]!.logPath;
    expect(segmentsBefore).toBeGreaterThan(5);

    expect(log.deleteRecordsBefore(17)).toBe(17);
    expect(log.logStartOffset).toBe(17);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(existsSync(firstPath)).toBe(false);
    expect(log.segments[0]!.baseOffset).toBeLessThanOrEqual(17);
    expect(() => log.read(16, 1 << 20)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(batchesOf(log.read(17, 1 << 20).bytes).some((batch) => batch.baseOffset <= 17 && batch.lastOffset >= 17)).toBe(true);
    // Never down; past the end is an error; exactly the end empties the log but keeps the active segment.
    expect(log.deleteRecordsBefore(5)).toBe(17);
    let thrown: unknown;
    try {
      log.deleteRecordsBefore(31);
    } catch (error) {
      thrown = error;
    }
    expect(isSpoolError(thrown, Errors.OFFSET_OUT_OF_RANGE)).toBe(true);

    await manager.close();
    manager = await open();
    log = manager.getPartition('d', 0);
    expect(log.logStartOffset).toBe(17);
    expect(log.deleteRecordsBefore(30)).toBe(30);
    expect(log.segmentCount).toBeGreaterThanOrEqual(1);
    expect((await log.append(makeBatch(30, 1, 100))).baseOffset).toBe(30);
    await manager.close();
    manager = await open();
    expect(manager.getPartition('d', 0).logStartOffset).toBe(30);
    expect(manager.getPartition('d', 0).logEndOffset).toBe(31);
    await manager.close();
  });
});

describe('deleteRecordsBefore the log end', () => {
  it('empties the log; a restart keeps the start and appends continue there', async () => {
    let manager = await open();
    await manager.createTopic('e', 1, { segmentBytes: 500 });
    const log = manager.getPartition('e', 0);
    for (let i = 0; i < 12; i++) await log.append(makeBatch(i, 1, 100));
    await Promise.all(log.segments.map((segment) => segment.flushDone));
    expect(log.deleteRecordsBefore(12)).toBe(12);
    await manager.close();
    manager = await open();
    const reopened = manager.getPartition('e', 0);
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([12, 12]);
    expect((await reopened.append(makeBatch(12, 1, 100))).baseOffset).toBe(12);
    expect(batchesOf(reopened.read(12, 1 << 20).bytes)[0]!.baseOffset).toBe(12);
    await manager.close();
  });
});

describe('alterTopicConfig', () => {
  it('sets the named configs, keeps the rest, applies to the partitions at once and survives a restart', async () => {
    let manager = await open();
    await manager.createTopic('c', 2, { segmentBytes: 4096, retentionMs: 60_000 });
    const info = await manager.alterTopicConfig('c', { retentionMs: 1000 });
    expect(info.config.retentionMs).toBe(1000);
    expect(info.config.segmentBytes).toBe(4096);
    expect(manager.getPartition('c', 1).config.retentionMs).toBe(1000);
    await expect(manager.alterTopicConfig('missing', { retentionMs: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await manager.close();
    manager = await open();
    expect(manager.getTopic('c')!.config).toMatchObject({ retentionMs: 1000, segmentBytes: 4096 });
    expect(manager.getPartition('c', 0).config.retentionMs).toBe(1000);
    await manager.close();
  });
});
