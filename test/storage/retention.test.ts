// Proves retention with small segments and a ManualClock: closed segments whose newest
// timestamp is older than retention.ms are deleted oldest first, retention.bytes deletes
// the oldest while the rest still exceeds the limit, the active segment is never deleted,
// the log start offset moves (reads below it are OFFSET_OUT_OF_RANGE) and survives a
// restart through the checkpoint; compacted topics are left alone by age and size, but on
// any topic the segments wholly below the log start offset that DeleteRecords left (still
// flushing then) go at the next run.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { applyRetention } from '../../src/storage/retention.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

async function settle(manager: LogManager, topic: string): Promise<void> {
  // Let the post-roll flushes finish: retention leaves a segment alone while it flushes.
  const log = manager.getPartition(topic, 0);
  await Promise.all(log.segments.map((s) => s.flushDone));
}

describe('retention', () => {
  it('deletes closed segments by age, never the active one, and keeps the start offset across restart', async () => {
    const clock = new ManualClock(1_000_000);
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('r', 1, { segmentBytes: 500, retentionMs: 10_000 });
    const log = manager.getPartition('r', 0);
    for (let i = 0; i < 30; i++) {
      await log.append(makeBatch(i, 1, 100, clock.nowMs()));
      clock.advance(1000);
    }
    await settle(manager, 'r');
    const segmentsBefore = log.segmentCount;
    const firstPath = log.segments[0]!.logPath;
    expect(segmentsBefore).toBeGreaterThan(5);
    // Now = 1_030_000: batches stamped before 1_020_000 are expired.
    await manager.runTask('retention');
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(existsSync(firstPath)).toBe(false);
    for (const segment of log.segments.slice(0, -1)) expect(clock.nowMs() - segment.maxTimestamp).toBeLessThanOrEqual(10_000);
    const start = log.logStartOffset;
    expect(start).toBe(log.segments[0]!.baseOffset);
    expect(start).toBeGreaterThan(0);
    expect(() => log.read(start - 1, 100)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(batchesOf(log.read(start, 100).bytes)[0]!.baseOffset).toBe(start);
    // Everything expired: only the active segment stays.
    clock.advance(1_000_000);
    expect(applyRetention(log, clock.nowMs())).toBeGreaterThan(0);
    expect(log.segmentCount).toBe(1);
    expect(log.logEndOffset).toBe(30);
    const finalStart = log.logStartOffset;
    manager.abandon();
    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    const again = reopened.getPartition('r', 0);
    expect(again.logStartOffset).toBe(finalStart);
    expect(again.logEndOffset).toBe(30);
    expect(await again.append(makeBatch(99))).toEqual({ baseOffset: 30, lastOffset: 30 });
    await reopened.close();
  });

  it('finishes a retention that crashed between the checkpoint and the file deletion', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('r', 1, { segmentBytes: 500 });
    const log = manager.getPartition('r', 0);
    for (let i = 0; i < 20; i++) await log.append(makeBatch(i, 1, 100, clock.nowMs()));
    await settle(manager, 'r');
    const third = log.segments[2]!.baseOffset;
    const firstPath = log.segments[0]!.logPath;
    manager.abandon();
    writeFileSync(join(data.dir, 'meta', 'checkpoints', 'r-0.json'), JSON.stringify({ format: 1, recoveryPoint: 0, logStartOffset: third, cleanShutdown: false }));
    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    const again = reopened.getPartition('r', 0);
    expect(again.logStartOffset).toBe(third);
    expect(again.segments[0]!.baseOffset).toBe(third);
    expect(existsSync(firstPath)).toBe(false);
    expect(batchesOf(again.read(third, 1).bytes)[0]!.baseOffset).toBe(third);
    expect(again.logEndOffset).toBe(20);
    await reopened.close();
  });

  it('deletes the oldest segments while the partition exceeds retention.bytes', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('r', 1, { segmentBytes: 1000, retentionBytes: 3000, retentionMs: -1 });
    const log = manager.getPartition('r', 0);
    for (let i = 0; i < 60; i++) await log.append(makeBatch(i, 1, 100, clock.nowMs()));
    await settle(manager, 'r');
    expect(log.sizeBytes).toBeGreaterThan(5000);
    expect(applyRetention(log, clock.nowMs())).toBeGreaterThan(0);
    expect(log.sizeBytes).toBeLessThanOrEqual(3000 + 1000);
    expect(log.sizeBytes - log.segments[0]!.sizeBytes).toBeLessThan(3000);
    expect(log.logEndOffset).toBe(60);
    await manager.close();
  });

  it('leaves compacted topics to the cleaner', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('c', 1, { segmentBytes: 500, retentionMs: 1, cleanupPolicy: 'compact' });
    const log = manager.getPartition('c', 0);
    for (let i = 0; i < 20; i++) await log.append(makeBatch(i, 1, 100, clock.nowMs()));
    await settle(manager, 'c');
    clock.advance(100_000);
    expect(applyRetention(log, clock.nowMs())).toBe(0);
    await manager.close();
  });

  it('deletes the segments DeleteRecords left because they were still flushing, once flushed, on a compacted topic too', async () => {
    const clock = new ManualClock(1_000_000);
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('d', 1, { segmentBytes: 500, cleanupPolicy: 'compact' });
    const log = manager.getPartition('d', 0);
    for (let i = 0; i < 30; i++) await log.append(makeBatch(i, 1, 100, clock.nowMs()));
    await settle(manager, 'd');
    // DeleteRecords while the oldest segment's post-roll flush is still in flight (held here):
    // the start moves, that segment (and so every later one) stays.
    const oldest = log.segments[0]!;
    oldest.flushing = true;
    const segmentsBefore = log.segmentCount;
    expect(log.deleteRecordsBefore(20)).toBe(20);
    expect(log.segmentCount).toBe(segmentsBefore);
    oldest.flushing = false;
    await manager.runTask('retention');
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(log.segments[1]!.baseOffset).toBeGreaterThan(20);
    expect(log.logStartOffset).toBe(20);
    await manager.close();
  });
});
