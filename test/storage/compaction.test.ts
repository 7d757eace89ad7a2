// Proves compaction with small segments and a ManualClock: closed segments keep only the
// latest record per key at its original offset (batch baseOffset + offsetDelta = the
// original offset; gaps allowed, between and inside batches), tombstones survive until delete.retention.ms and then
// go, the active segment is untouched, reads of compacted-away offsets return the next
// batch, the result survives a restart, and leftovers of an interrupted swap (*.cleaned)
// are removed by recovery with the log intact.

import { existsSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/records/index.js';
import { compactPartition } from '../../src/storage/compaction.js';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import { tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

/** Every record in the log, by reading forward from the start offset. */
function allRecords(log: PartitionLogImpl): Array<{ offset: number; key: string | null; value: string | null }> {
  const out: Array<{ offset: number; key: string | null; value: string | null }> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { bytes } = log.read(offset, 1 << 20);
    let position = 0;
    let next = offset;
    while (position < bytes.length) {
      const { header, records } = decodeBatch(bytes, position);
      for (const record of records) {
        out.push({ offset: record.offset, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null });
      }
      next = header.baseOffset + header.lastOffsetDelta + 1;
      position += header.totalBytes;
    }
    offset = next;
  }
  return out;
}

describe('compaction', () => {
  it('keeps the latest record per key at its offset, drops expired tombstones, survives restart', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('k', 1, { cleanupPolicy: 'compact', segmentBytes: 600, deleteRetentionMs: 60_000 });
    const log = manager.getPartition('k', 0);
    const latest = new Map<string, { offset: number; value: string | null }>();
    for (let i = 0; i < 120; i++) {
      const key = `key-${i % 7}`;
      const value = i % 23 === 22 ? null : `value-${i}`;
      const records = [{ key, value, timestamp: clock.nowMs() }];
      if (i % 5 === 0) records.push({ key: `key-${(i + 3) % 7}`, value: `pair-${i}`, timestamp: clock.nowMs() });
      // A key written once and then deleted: its tombstone is the latest record for it.
      if (i === 10) records.push({ key: 'dead', value: 'alive', timestamp: clock.nowMs() });
      if (i === 11) records.push({ key: 'dead', value: null, timestamp: clock.nowMs() });
      const result = await log.append(encodeBatch(records));
      records.forEach((r, j) => latest.set(r.key, { offset: result.baseOffset + j, value: r.value }));
    }
    await Promise.all(log.segments.map((s) => s.flushDone));
    const before = allRecords(log);
    const activeBase = log.active.baseOffset;
    const result = await compactPartition(log, nodeStorageFs, clock.nowMs());
    expect(result.segmentsCleaned).toBeGreaterThan(0);
    const after = allRecords(log);
    // Closed part: only latest-per-key (tombstones still kept: not yet expired); active part untouched.
    const closedAfter = after.filter((r) => r.offset < activeBase);
    const keysInActive = new Set(before.filter((r) => r.offset >= activeBase).map((r) => r.key));
    for (const record of closedAfter) {
      const newest = before.filter((r) => r.key === record.key && r.offset < activeBase).pop()!;
      expect(record.offset).toBe(newest.offset);
      expect(record.value).toBe(newest.value);
    }
    expect(new Set(closedAfter.map((r) => r.key)).size).toBe(closedAfter.length);
    expect(after.filter((r) => r.offset >= activeBase)).toEqual(before.filter((r) => r.offset >= activeBase));
    void keysInActive;
    // Every record still present has the offset it was appended with.
    const beforeByOffset = new Map(before.map((r) => [r.offset, r]));
    for (const record of after) expect(beforeByOffset.get(record.offset)).toEqual(record);
    // A read of a compacted-away offset returns the batch that held it (a cleaned batch keeps
    // its offset range, as in Kafka) or the next one: its first record at or past the offset
    // is the next surviving one.
    const gone = before.find((r) => r.offset < activeBase && !after.some((a) => a.offset === r.offset))!;
    const next = after.find((r) => r.offset > gone.offset)!;
    const { records } = decodeBatch(log.read(gone.offset, 1).bytes, 0);
    expect(records.find((r) => r.offset >= gone.offset)!.offset).toBe(next.offset);
    // Tombstones go after delete.retention.ms.
    expect(closedAfter.some((r) => r.value === null)).toBe(true);
    clock.advance(61_000);
    await compactPartition(log, nodeStorageFs, clock.nowMs());
    const final = allRecords(log);
    expect(final.filter((r) => r.offset < activeBase && r.value === null)).toEqual([]);
    await manager.close();

    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    const again = reopened.getPartition('k', 0);
    expect(allRecords(again)).toEqual(final);
    expect(reopened.recoveryReports).toEqual([]);
    expect((await again.append(encodeBatch([{ key: 'x', value: 'y' }]))).baseOffset).toBe(log.logEndOffset);
    await reopened.close();
  });

  it('recovery removes the leftovers of an interrupted swap and keeps the log', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('k', 1, { cleanupPolicy: 'compact', segmentBytes: 400 });
    const log = manager.getPartition('k', 0);
    for (let i = 0; i < 40; i++) await log.append(encodeBatch([{ key: `k${i % 3}`, value: `v${i}` }]));
    const before = allRecords(log);
    const segment = log.segments[0]!;
    manager.abandon();
    writeFileSync(segment.logPath + '.cleaned', 'partial');
    writeFileSync(segment.indexPath + '.cleaned', 'partial');
    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    expect(existsSync(segment.logPath + '.cleaned')).toBe(false);
    expect(allRecords(reopened.getPartition('k', 0))).toEqual(before);
    await reopened.close();
  });

  it('runs as the log-cleaner background task', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('k', 1, { cleanupPolicy: 'compact', segmentBytes: 300 });
    const log = manager.getPartition('k', 0);
    for (let i = 0; i < 60; i++) await log.append(encodeBatch([{ key: 'same', value: `v${i}` }]));
    await Promise.all(log.segments.map((s) => s.flushDone));
    const sizeBefore = log.sizeBytes;
    await manager.runTask('log-cleaner');
    expect(log.sizeBytes).toBeLessThan(sizeBefore);
    const keys = allRecords(log).filter((r) => r.offset < log.active.baseOffset);
    expect(keys.length).toBe(1);
    await manager.close();
  });
});
