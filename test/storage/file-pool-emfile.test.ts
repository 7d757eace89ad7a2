// Proves that when even the file pool cannot open a segment file (EMFILE/ENFILE after it
// closed half its files, or with nothing of its own to close), the error says what
// happened and what to change, instead of a bare "EMFILE: too many open files": the limit
// hit, how many files the pool holds of its maximum, and `ulimit -n` / --max-open-files;
// the errno code is kept. In process, with a StorageFs whose opens fail on demand: first
// the pool alone, then an append through a LogManager (the partition's KAFKA_STORAGE_ERROR
// carries the same message).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePool } from '../../src/storage/file-pool.js';
import { type StorageFs, nodeStorageFs } from '../../src/storage/fs.js';
import { LogManager } from '../../src/storage/index.js';
import { makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

function emfile(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: 'EMFILE' });
}

/** node:fs whose opens of segment files fail with EMFILE while `failing` is set. */
function exhaustibleFs(): { fs: StorageFs; fail(on: boolean): void } {
  let failing = false;
  const fs: StorageFs = {
    ...nodeStorageFs,
    openSync(path, flags) {
      if (failing && /\.(log|index|timeindex)$/.test(path)) throw emfile(path);
      return nodeStorageFs.openSync(path, flags);
    },
  };
  return { fs, fail: (on) => (failing = on) };
}

const HINT = /too many open files: cannot open .*: the process is at its open-file limit \(ulimit -n [0-9a-z]+\); the segment file pool holds \d+ of at most \d+ files .*Raise the open-file limit \(ulimit -n, LimitNOFILE=\) or lower --max-open-files/;

describe('file pool out of descriptors', () => {
  it('explains the failure after closing half its files, and with none to close', () => {
    const pool = new FilePool(32);
    const exhaustible = exhaustibleFs();
    const opened = Array.from({ length: 16 }, (_, index) => pool.openFile(exhaustible.fs, `${data.dir}/${index}.log`, 'w+'));
    exhaustible.fail(true);
    let thrown: NodeJS.ErrnoException | undefined;
    try {
      pool.openFile(exhaustible.fs, `${data.dir}/new.log`, 'w+');
    } catch (error) {
      thrown = error as NodeJS.ErrnoException;
    }
    expect(thrown?.code).toBe('EMFILE');
    expect(thrown?.message).toMatch(HINT);
    expect(thrown?.message).toContain(`${data.dir}/new.log`);
    // Half the pool (down to its minimum of 8) was closed to make room before giving up.
    expect(pool.openCount).toBe(7);
    for (const file of opened) file.close();
    expect(pool.openCount).toBe(0);
    expect(() => pool.openFile(exhaustible.fs, `${data.dir}/other.log`, 'w+')).toThrow(HINT);
  });

  it('reaches the producer as the partition storage error with the same explanation', async () => {
    const exhaustible = exhaustibleFs();
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, maxOpenFiles: 8, fs: exhaustible.fs });
    try {
      // 20 partitions through a pool of 8: partition 0's files were evicted long ago.
      await manager.createTopic('e', 20);
      for (let partition = 19; partition >= 1; partition--) await manager.getPartition('e', partition).append(makeBatch(partition));
      exhaustible.fail(true);
      await expect(manager.getPartition('e', 0).append(makeBatch(0))).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: expect.stringMatching(HINT) });
    } finally {
      exhaustible.fail(false);
      await manager.close().catch(() => undefined);
    }
  });
});
