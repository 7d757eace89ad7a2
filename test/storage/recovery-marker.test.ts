// Proves that recovery leaves the segments as a clean shutdown leaves them: after a crash
// (abandon(), as kill -9) a restart scans the segments once; after the next clean stop a
// restart scans none. Observed two ways: the LogManager's `recoveryStats.segmentsScanned`
// counter, and, independently of that counter, the bytes read from .log files during open
// (a wrapping StorageFs): a trusted segment costs two batch headers, a scanned one its size.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StorageFs, nodeStorageFs } from '../../src/storage/fs.js';
import { LogManager } from '../../src/storage/index.js';
import { makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

/** node:fs that counts the bytes read from .log files. */
function countingFs(): { fs: StorageFs; logBytesRead: () => number } {
  const logFds = new Set<number>();
  let bytes = 0;
  const fs: StorageFs = {
    ...nodeStorageFs,
    openSync(path, flags) {
      const fd = nodeStorageFs.openSync(path, flags);
      if (path.endsWith('.log')) logFds.add(fd);
      else logFds.delete(fd);
      return fd;
    },
    readSync(fd, buffer, offset, length, position) {
      const n = nodeStorageFs.readSync(fd, buffer, offset, length, position);
      if (logFds.has(fd)) bytes += n;
      return n;
    },
  };
  return { fs, logBytesRead: () => bytes };
}

async function openCounting(): Promise<{ manager: LogManager; logBytesRead: number }> {
  const counting = countingFs();
  const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, fs: counting.fs });
  return { manager, logBytesRead: counting.logBytesRead() };
}

describe('recovery after a crash', () => {
  it('leaves a clean state: the restart after the next clean stop scans nothing', async () => {
    const first = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    await first.createTopic('r', 2, { segmentBytes: 8192, indexIntervalBytes: 1024 });
    for (let i = 0; i < 200; i++) await first.getPartition('r', i % 2).append(makeBatch(i, 2, 200));
    const segments = first.getPartition('r', 0).segmentCount + first.getPartition('r', 1).segmentCount;
    expect(segments).toBeGreaterThan(6);
    const totalBytes = first.getPartition('r', 0).sizeBytes + first.getPartition('r', 1).sizeBytes;
    first.abandon(); // kill -9: no checkpoint, no closing index entries

    const recovering = await openCounting();
    expect(recovering.logBytesRead).toBeGreaterThanOrEqual(totalBytes);
    expect(recovering.manager.recoveryStats.segmentsScanned).toBe(segments);
    expect(recovering.manager.getPartition('r', 0).logEndOffset).toBe(200);
    await recovering.manager.close();

    const clean = await openCounting();
    expect(clean.manager.recoveryStats.segmentsScanned).toBe(0);
    expect(clean.manager.recoveryStats.segmentsTrusted).toBe(segments);
    // Two batch headers (43 bytes each) per trusted segment, plus the last batch header of
    // each of the 2 partitions that recovery's log-end assertion reads back; nothing more.
    expect(clean.logBytesRead).toBeLessThanOrEqual(segments * 2 * 43 + 2 * 43);
    expect(clean.manager.getPartition('r', 1).logEndOffset).toBe(200);
    await clean.manager.close();
  });

  it('checkpoints right after recovering, so a second crash scans only the active segments', async () => {
    const first = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    await first.createTopic('r', 1, { segmentBytes: 8192, indexIntervalBytes: 1024 });
    for (let i = 0; i < 100; i++) await first.getPartition('r', 0).append(makeBatch(i, 2, 200));
    first.abandon();
    const recovering = await openCounting();
    expect(recovering.manager.recoveryStats.segmentsScanned).toBeGreaterThan(3);
    recovering.manager.abandon(); // crash again before any checkpoint task ran
    const again = await openCounting();
    expect(again.manager.recoveryStats.segmentsScanned).toBe(1);
    expect(again.manager.getPartition('r', 0).logEndOffset).toBe(200);
    await again.manager.close();
  });
});
