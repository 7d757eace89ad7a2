// Proves that a start after a crash, and a clean stop, make their files durable
// concurrently (sync-batch.ts), not one synchronous fdatasync after another on the main
// thread (which made a start after kill -9 with 1,000 partitions take 5+ s, and a clean
// stop of 10,000 partitions 100+ s, nearly all of it waiting in fdatasync), and that the
// order still holds: every scanned (or, at close, active) .log and its .index and
// .timeindex are fdatasynced before the checkpoint that vouches for them is renamed into
// place; a clean stop fsyncs meta/checkpoints once, not once per partition, and the next
// start trusts every segment. Observed through a wrapping StorageFs that logs fdatasync
// calls (sync and async, by path), checkpoint renames and directory fsyncs, and counts the
// async syncs in flight at once. Also: a failing fdatasync still fails the open.

import { basename, dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StorageFs, nodeStorageFs } from '../../src/storage/fs.js';
import { LogManager } from '../../src/storage/index.js';
import { makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

const PARTITIONS = 40;

interface Observed {
  fs: StorageFs;
  events: string[];
  syncSyncs: string[];
  dirSyncs: string[];
  maxInFlight: () => number;
}

function observingFs(failPath?: string): Observed {
  const paths = new Map<number, string>();
  const events: string[] = [];
  const syncSyncs: string[] = [];
  const dirSyncs: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fs: StorageFs = {
    ...nodeStorageFs,
    openSync(path, flags) {
      const fd = nodeStorageFs.openSync(path, flags);
      paths.set(fd, path);
      return fd;
    },
    fdatasyncSync(fd) {
      syncSyncs.push(paths.get(fd) ?? '?');
      events.push(`sync ${paths.get(fd)}`);
      nodeStorageFs.fdatasyncSync(fd);
    },
    async fdatasync(fd) {
      const path = paths.get(fd) ?? '?';
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (failPath !== undefined && path.endsWith(failPath)) throw Object.assign(new Error(`EIO: i/o error, fdatasync '${path}'`), { code: 'EIO' });
        await nodeStorageFs.fdatasync(fd);
        events.push(`sync ${path}`);
      } finally {
        inFlight--;
      }
    },
    fsyncDirSync(path) {
      dirSyncs.push(basename(path));
      nodeStorageFs.fsyncDirSync(path);
    },
    renameSync(from, to) {
      nodeStorageFs.renameSync(from, to);
      if (basename(dirname(to)) === 'checkpoints') events.push(`checkpoint ${basename(to, '.json')}`);
    },
  };
  return { fs, events, syncSyncs, dirSyncs, maxInFlight: () => maxInFlight };
}

async function crashedDataDir(): Promise<void> {
  const first = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
  await first.createTopic('r', PARTITIONS, { segmentBytes: 4096, indexIntervalBytes: 512 });
  for (let round = 0; round < 3; round++) {
    for (let partition = 0; partition < PARTITIONS; partition++) await first.getPartition('r', partition).append(makeBatch(round, 2, 100));
  }
  first.abandon(); // kill -9: no checkpoint, no fsync
}

/** Every partition's three files were fdatasynced, each before its checkpoint's rename. */
function expectSyncedBeforeCheckpoints(observed: Observed): void {
  expect(observed.syncSyncs).toEqual([]);
  expect(observed.maxInFlight()).toBeGreaterThan(1);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const checkpointAt = observed.events.indexOf(`checkpoint r-${partition}`);
    expect(checkpointAt, `checkpoint of r-${partition}`).toBeGreaterThanOrEqual(0);
    for (const kind of ['.log', '.index', '.timeindex']) {
      const syncAt = observed.events.findIndex((event) => event.startsWith('sync ') && event.includes(`/r-${partition}/`) && event.endsWith(kind));
      expect(syncAt, `fdatasync of r-${partition} ${kind}`).toBeGreaterThanOrEqual(0);
      expect(syncAt, `r-${partition} ${kind} durable before its checkpoint`).toBeLessThan(checkpointAt);
    }
  }
}

describe('batched fdatasyncs', () => {
  it('recovery runs them concurrently, each before the checkpoint that vouches for the file', async () => {
    await crashedDataDir();
    const observed = observingFs();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, fs: observed.fs });
    try {
      expect(manager.recoveryStats.segmentsScanned).toBeGreaterThanOrEqual(PARTITIONS);
      expectSyncedBeforeCheckpoints(observed);
      for (let partition = 0; partition < PARTITIONS; partition++) expect(manager.getPartition('r', partition).logEndOffset).toBe(6);
    } finally {
      await manager.close();
    }
  });

  it('a clean stop runs them concurrently, checkpoints after them, one directory fsync', async () => {
    await crashedDataDir();
    await (await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false })).close();
    const observed = observingFs();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, fs: observed.fs });
    // Appends after the start: the close has new data and new checkpoints to write.
    for (let partition = 0; partition < PARTITIONS; partition++) await manager.getPartition('r', partition).append(makeBatch(9, 2, 100));
    observed.events.length = 0;
    await manager.close();
    expectSyncedBeforeCheckpoints(observed);
    expect(observed.dirSyncs.filter((name) => name === 'checkpoints')).toEqual(['checkpoints']);

    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    try {
      expect(reopened.recoveryStats.segmentsScanned).toBe(0);
      for (let partition = 0; partition < PARTITIONS; partition++) expect(reopened.getPartition('r', partition).logEndOffset).toBe(8);
    } finally {
      await reopened.close();
    }
  });

  it('fails the open when one of them fails', async () => {
    await crashedDataDir();
    const observed = observingFs(`r-7/00000000000000000000.log`);
    await expect(LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, fs: observed.fs })).rejects.toThrow(/EIO/);
    expect(observed.events).not.toContain('checkpoint r-7');
  });
});
