// Proves that a partition taken offline by a full disk (ENOSPC) comes back by itself once
// space returns, through the disk-space-retry task, with an injected file system:
// ENOSPC on an append (a torn tail left behind, its truncation failing too) -> offline,
// reads and appends throw NOT_ENOUGH_SPACE; while the disk stays full the probe fails and
// the partition stays offline; once space is back it is online within the probe interval,
// the torn tail is cut, every acknowledged batch reads back, and appends continue at the
// next offset (no gap, no duplicate), also after a restart. The same after an index write
// fails (memory ran ahead of the file). EIO-offline partitions stay offline (sticky).

import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { waitFor } from '../helpers/broker.js';
import { FaultyFs, batchesOf, makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

/** FaultyFs that can also fail writes to .index files only (the log write succeeds). */
class IndexFaultyFs extends FaultyFs {
  private readonly indexFds = new Set<number>();
  failIndexWrites = false;
  override openSync(path: string, flags: string): number {
    const fd = super.openSync(path, flags);
    if (path.endsWith('.index')) this.indexFds.add(fd);
    else this.indexFds.delete(fd);
    return fd;
  }
  override writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    if (this.failIndexWrites && this.indexFds.has(fd)) {
      const error = new Error('ENOSPC: injected failure of index write') as NodeJS.ErrnoException;
      error.code = 'ENOSPC';
      throw error;
    }
    return super.writeSync(fd, buffer, offset, length, position);
  }
}

async function open(fs: FaultyFs, warnings: string[], retryMs = 60_000): Promise<LogManager> {
  return LogManager.open({
    dataDir: data.dir,
    fsync: { kind: 'never' },
    fs,
    warn: (m) => warnings.push(m),
    taskIntervalsMs: { 'disk-space-retry': retryMs, retention: 600_000, 'log-cleaner': 600_000, 'segment-roll': 600_000, 'recovery-checkpoint': 600_000 },
  });
}

/** Base offsets of every batch, read segment by segment. */
function offsetsOf(log: PartitionLogImpl): number[] {
  const offsets: number[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const batches = batchesOf(log.read(offset, 1 << 24).bytes);
    offsets.push(...batches.map((b) => b.baseOffset));
    offset = batches.at(-1)!.lastOffset + 1;
  }
  return offsets;
}

describe('disk space returns', () => {
  it('ENOSPC on append: offline, stays offline while full, online within the probe interval when space is back', async () => {
    const fs = new FaultyFs();
    const warnings: string[] = [];
    const manager = await open(fs, warnings, 50);
    await manager.createTopic('s', 1, { segmentBytes: 600 });
    const log = manager.getPartition('s', 0);
    for (let i = 0; i < 10; i++) await log.append(makeBatch(i, 2));
    const acknowledged = offsetsOf(log);
    // The disk is full: a write leaves 30 bytes behind, and taking them back fails too.
    fs.fail('truncate', 'EIO', 1);
    fs.fail('write', 'ENOSPC', Number.POSITIVE_INFINITY, 30);
    await expect(log.append(makeBatch(10, 2))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    expect(statSync(log.active.logPath).size).toBe(log.active.sizeBytes + 30);
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ code: 'NOT_ENOUGH_SPACE' }));
    await expect(log.append(makeBatch(11, 2))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    await manager.runTask('disk-space-retry');
    expect(log.isOffline).toBe(true);
    expect(log.offlineCode).toBe('NOT_ENOUGH_SPACE');

    fs.heal();
    await waitFor(() => !log.isOffline, 5_000, 10);
    expect(warnings.some((w) => w.includes('back online'))).toBe(true);
    expect(statSync(log.active.logPath).size).toBe(log.active.sizeBytes);
    expect(offsetsOf(log)).toEqual(acknowledged);
    const end = log.logEndOffset;
    expect(end).toBe(20);
    expect(await log.append(makeBatch(12, 2))).toEqual({ baseOffset: 20, lastOffset: 21 });
    for (let i = 13; i < 20; i++) await log.append(makeBatch(i, 2));
    await manager.close();

    const reopened = await open(new FaultyFs(), warnings);
    const again = reopened.getPartition('s', 0);
    expect(reopened.recoveryReports.filter((r) => r.truncatedBytes > 0)).toEqual([]);
    expect(again.logEndOffset).toBe(36);
    const offsets = offsetsOf(again);
    expect(offsets).toEqual(Array.from({ length: 18 }, (_, i) => i * 2));
    await reopened.close();
  });

  it('an index write that fails with ENOSPC: memory ran ahead of the file, repaired from the disk', async () => {
    const fs = new IndexFaultyFs();
    const warnings: string[] = [];
    const manager = await open(fs, warnings);
    await manager.createTopic('s', 1, { indexIntervalBytes: 0 });
    const log = manager.getPartition('s', 0);
    for (let i = 0; i < 5; i++) await log.append(makeBatch(i, 1));
    fs.failIndexWrites = true;
    await expect(log.append(makeBatch(5, 1))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    fs.failIndexWrites = false;
    await manager.runTask('disk-space-retry');
    expect(log.isOffline).toBe(false);
    expect(log.logEndOffset).toBe(5);
    expect(offsetsOf(log)).toEqual([0, 1, 2, 3, 4]);
    expect(await log.append(makeBatch(6, 1))).toEqual({ baseOffset: 5, lastOffset: 5 });
    expect(batchesOf(log.read(5, 1000).bytes)[0]!.baseOffset).toBe(5);
    await manager.close();
    const reopened = await open(new FaultyFs(), warnings);
    expect(reopened.getPartition('s', 0).logEndOffset).toBe(6);
    await reopened.close();
  });

  it('fsync always: an fsync that fails with ENOSPC; back online, the written batch kept, no gap', async () => {
    const fs = new FaultyFs();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'always' }, fs, backgroundTasks: false });
    await manager.createTopic('s', 1);
    const log = manager.getPartition('s', 0);
    for (let i = 0; i < 3; i++) await log.append(makeBatch(i, 1));
    fs.fail('fdatasync', 'ENOSPC', 1);
    await expect(log.append(makeBatch(3, 1))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    expect(log.isOffline).toBe(true);
    await manager.runTask('disk-space-retry');
    expect(log.isOffline).toBe(false);
    // Written whole before its fsync failed: kept, as a crash would keep it (at-least-once).
    expect(offsetsOf(log)).toEqual([0, 1, 2, 3]);
    expect(await log.append(makeBatch(4, 1))).toEqual({ baseOffset: 4, lastOffset: 4 });
    await manager.close();
  });

  it('EIO stays offline (sticky); a probe that fails with EIO makes ENOSPC sticky too', async () => {
    const fs = new FaultyFs();
    const manager = await open(fs, []);
    await manager.createTopic('s', 2);
    const eio = manager.getPartition('s', 0);
    const full = manager.getPartition('s', 1);
    await eio.append(makeBatch(0));
    await full.append(makeBatch(0));
    fs.fail('write', 'EIO', 1);
    await expect(eio.append(makeBatch(1))).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    fs.fail('write', 'ENOSPC', 1);
    await expect(full.append(makeBatch(1))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    fs.fail('write', 'EIO', 1);
    await manager.runTask('disk-space-retry');
    expect(full.offlineCode).toBe('KAFKA_STORAGE_ERROR');
    fs.heal();
    await manager.runTask('disk-space-retry');
    expect(eio.isOffline).toBe(true);
    expect(full.isOffline).toBe(true);
    expect(() => eio.read(0, 100)).toThrow(expect.objectContaining({ code: 'KAFKA_STORAGE_ERROR' }));
    await manager.close();
  });
});
