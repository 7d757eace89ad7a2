// Proves that storage creates its data private by default: the data directory and every
// directory in it 0700, every file (segments, indexes, metadata, checkpoints, the lock)
// 0600, read back with fs.stat; that `fileMode` (the broker's --file-mode) widens both
// (0640 -> files 0640, directories 0750); and that an existing world-readable data
// directory is narrowed at open; and `spool serve --file-mode` reaches storage. Runs under umask 022, which these modes pass through.

import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { startBroker } from '../helpers/broker.js';
import { makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeAll(() => {
  process.umask(0o022);
});
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): Array<{ path: string; directory: boolean; mode: number }> {
  const out = [{ path: dir, directory: true, mode: statSync(dir).mode & 0o777 }];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = statSync(join(dir, name));
    out.push({ path: name, directory: stat.isDirectory(), mode: stat.mode & 0o777 });
  }
  return out;
}

async function populate(fileMode?: number): Promise<LogManager> {
  const manager = await LogManager.open({ dataDir: join(data.dir, 'd'), fsync: { kind: 'never' }, backgroundTasks: false, ...(fileMode ? { fileMode } : {}) });
  await manager.createTopic('m', 2, { segmentBytes: 4096 });
  for (let i = 0; i < 40; i++) await manager.getPartition('m', 0).append(makeBatch(i, 1, 200));
  await manager.runTask('recovery-checkpoint');
  return manager;
}

describe('file modes', () => {
  for (const [fileMode, file, directory] of [
    [undefined, 0o600, 0o700],
    [0o640, 0o640, 0o750],
  ] as const) {
    it(`creates files ${file.toString(8)} and directories ${directory.toString(8)} (fileMode ${fileMode?.toString(8) ?? 'default'})`, async () => {
      const manager = await populate(fileMode);
      const found = modes(join(data.dir, 'd'));
      expect(found.filter((f) => !f.directory).map((f) => f.path)).toEqual(expect.arrayContaining(['.lock', 'meta/topics/m.json', 'm-0/00000000000000000000.log', 'm-0/00000000000000000000.timeindex']));
      expect(found.filter((f) => f.path.endsWith('.index')).length).toBeGreaterThan(2);
      for (const f of found) expect({ path: f.path, mode: f.mode.toString(8) }).toEqual({ path: f.path, mode: (f.directory ? directory : file).toString(8) });
      await manager.close();
      for (const f of modes(join(data.dir, 'd'))) expect({ path: f.path, mode: f.mode.toString(8) }).toEqual({ path: f.path, mode: (f.directory ? directory : file).toString(8) });
    });
  }

  it('spool serve --file-mode 0640 makes the data directory 0750 and its files 0640', async () => {
    const dir = join(data.dir, 'served');
    const broker = await startBroker({ dataDir: dir, args: ['--file-mode', '0640'] });
    try {
      expect((statSync(dir).mode & 0o777).toString(8)).toBe('750');
      expect((statSync(join(dir, '.lock')).mode & 0o777).toString(8)).toBe('640');
      expect((statSync(join(dir, 'meta')).mode & 0o777).toString(8)).toBe('750');
    } finally {
      expect(await broker.stop()).toBe(0);
    }
  });

  it('narrows an existing world-readable data directory at open', async () => {
    const dir = join(data.dir, 'd');
    await (await populate()).close();
    chmodSync(dir, 0o755);
    const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, backgroundTasks: false });
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    await manager.close();
  });
});
