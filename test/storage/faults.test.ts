// Proves the disk-error contract with an injected file system: ENOSPC on a write (after
// a partial write) rejects the append with NOT_ENOUGH_SPACE, leaves the log exactly as
// before (the partial bytes truncated away), and puts only that partition offline with a
// sticky error; EIO on fsync (policy always) rejects with KAFKA_STORAGE_ERROR the same
// way; another partition keeps working; a reopen with a healthy disk finds the log intact.

import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { FaultyFs, batchesOf, makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

describe('disk faults', () => {
  it('ENOSPC on write: error, log intact, partition offline (sticky), others fine', async () => {
    const fs = new FaultyFs();
    const warnings: string[] = [];
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, fs, backgroundTasks: false, warn: (m) => warnings.push(m) });
    await manager.createTopic('f', 2);
    const log = manager.getPartition('f', 0);
    const other = manager.getPartition('f', 1);
    for (let i = 0; i < 10; i++) await log.append(makeBatch(i, 2));
    const sizeBefore = statSync(log.active.logPath).size;
    fs.fail('write', 'ENOSPC', 1, 30);
    await expect(log.append(makeBatch(10, 2))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    expect(statSync(log.active.logPath).size).toBe(sizeBefore);
    await expect(log.append(makeBatch(11, 2))).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ code: 'NOT_ENOUGH_SPACE' }));
    expect(warnings.some((w) => w.includes('offline'))).toBe(true);
    expect(await other.append(makeBatch(0, 1))).toEqual({ baseOffset: 0, lastOffset: 0 });
    manager.abandon();

    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    const again = reopened.getPartition('f', 0);
    expect(again.logEndOffset).toBe(20);
    expect(batchesOf(again.read(0, 1 << 20).bytes)).toHaveLength(10);
    expect(await again.append(makeBatch(12, 1))).toEqual({ baseOffset: 20, lastOffset: 20 });
    await reopened.close();
  });

  it('EIO on fsync with policy always: KAFKA_STORAGE_ERROR, sticky', async () => {
    const fs = new FaultyFs();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'always' }, fs, backgroundTasks: false });
    await manager.createTopic('f', 2);
    const log = manager.getPartition('f', 0);
    await log.append(makeBatch(0));
    fs.fail('fdatasync', 'EIO', 1);
    await expect(log.append(makeBatch(1))).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    await expect(log.append(makeBatch(2))).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    expect(await manager.getPartition('f', 1).append(makeBatch(3))).toEqual({ baseOffset: 0, lastOffset: 0 });
    await manager.close();
  });

  it('EIO on a write that rolls a segment leaves the partition offline, not half-rolled', async () => {
    const fs = new FaultyFs();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, fs, backgroundTasks: false });
    await manager.createTopic('f', 1, { segmentBytes: 200 });
    const log = manager.getPartition('f', 0);
    await log.append(makeBatch(0, 1, 100));
    fs.fail('open', 'EIO', 1);
    await expect(log.append(makeBatch(1, 1, 100))).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    await expect(log.append(makeBatch(2, 1, 100))).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    manager.abandon();
    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    expect(reopened.getPartition('f', 0).logEndOffset).toBe(1);
    await reopened.close();
  });
});
