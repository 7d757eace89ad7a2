// Crash tests of the replica primitives.
// 1. A crash at every file-system step of truncateTo (a file system that "dies" after N
//    mutating calls: every later call fails, then the files are reopened by a fresh
//    manager): the recovered log is whole batches, a prefix of the old log at least as
//    long as the truncated one, its leader-epoch cache equals the epochs of its batches,
//    HW <= log end, and appends continue at the log end.
//    The same for truncateFullyAndStartAt: a prefix of the old log, or the empty log at the
//    new start.
// 2. Torn or garbage checkpoint files (leader-epoch-checkpoint, replication-offset-
//    checkpoint, stray .tmp files) are rebuilt, ignored or removed.
// 3. kill -9 of a child process that appends under changing epochs, writes the HW
//    checkpoint and truncates in a loop: the reopened log passes the same checks.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchLayout } from '../../src/records/index.js';
import { LogManager, type PartitionLogImpl, type StorageFs } from '../../src/storage/index.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'replica-child.ts');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const clock = new ManualClock();
let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

/** node:fs that dies after `budget` mutating calls: that call and every later one throw. */
class DyingFs implements StorageFs {
  dead = false;
  constructor(private budget: number) {}
  private step(): void {
    if (this.dead || this.budget-- <= 0) {
      this.dead = true;
      throw Object.assign(new Error('EIO: simulated crash'), { code: 'EIO' });
    }
  }
  openSync(path: string, flags: string): number {
    if (flags !== 'r' && flags !== 'r+') this.step();
    else if (this.dead) this.step();
    return nodeStorageFs.openSync(path, flags);
  }
  closeSync(fd: number): void {
    nodeStorageFs.closeSync(fd);
  }
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    return nodeStorageFs.readSync(fd, buffer, offset, length, position);
  }
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    this.step();
    return nodeStorageFs.writeSync(fd, buffer, offset, length, position);
  }
  fileSizeSync(fd: number): number {
    return nodeStorageFs.fileSizeSync(fd);
  }
  ftruncateSync(fd: number, length: number): void {
    this.step();
    nodeStorageFs.ftruncateSync(fd, length);
  }
  fdatasyncSync(fd: number): void {
    this.step();
    nodeStorageFs.fdatasyncSync(fd);
  }
  fdatasync(fd: number): Promise<void> {
    if (this.dead) return Promise.reject(new Error('EIO: simulated crash'));
    return nodeStorageFs.fdatasync(fd);
  }
  fsyncDirSync(path: string): void {
    this.step();
    nodeStorageFs.fsyncDirSync(path);
  }
  renameSync(from: string, to: string): void {
    this.step();
    nodeStorageFs.renameSync(from, to);
  }
  unlinkSync(path: string): void {
    this.step();
    nodeStorageFs.unlinkSync(path);
  }
  mkdirSync(path: string): void {
    nodeStorageFs.mkdirSync(path);
  }
  readdirSync(path: string): string[] {
    return nodeStorageFs.readdirSync(path);
  }
  rmSync(path: string): void {
    this.step();
    nodeStorageFs.rmSync(path);
  }
  existsSync(path: string): boolean {
    return nodeStorageFs.existsSync(path);
  }
  isDirectorySync(path: string): boolean {
    return nodeStorageFs.isDirectorySync(path);
  }
}

function image(log: PartitionLogImpl): Buffer {
  const parts: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20);
    parts.push(read.bytes);
    offset = batchesOf(read.bytes).at(-1)!.lastOffset + 1;
  }
  return Buffer.concat(parts);
}

/** The epochs the batches themselves name: what the cache must hold. */
function epochsOfBatches(bytes: Buffer): Array<{ epoch: number; startOffset: number }> {
  const entries: Array<{ epoch: number; startOffset: number }> = [];
  for (const batch of batchesOf(bytes)) {
    const epoch = batch.bytes.readInt32BE(BatchLayout.PARTITION_LEADER_EPOCH);
    if (epoch >= 0 && (entries.length === 0 || epoch > entries.at(-1)!.epoch)) entries.push({ epoch, startOffset: batch.baseOffset });
  }
  return entries;
}

async function openWith(dir: string, fs: StorageFs = nodeStorageFs): Promise<{ manager: LogManager; log: PartitionLogImpl }> {
  const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated: true, fs });
  if (!manager.getTopic('c')) await manager.createTopic('c', 1, { segmentBytes: 500, indexIntervalBytes: 80 });
  return { manager, log: manager.getPartition('c', 0) as PartitionLogImpl };
}

/** Reopens and checks the invariants; returns the image. */
async function checkRecovered(dir: string): Promise<Buffer> {
  const { manager, log } = await openWith(dir);
  const bytes = image(log);
  expect(log.leaderEpochs.all).toEqual(epochsOfBatches(bytes));
  expect(log.highWatermark).toBeLessThanOrEqual(log.logEndOffset);
  const end = log.logEndOffset;
  expect(await log.append(makeBatch(4242, 1))).toEqual({ baseOffset: end, lastOffset: end });
  await manager.close();
  return bytes;
}

describe('a crash at every step of truncateTo', () => {
  it('recovers a consistent log between the truncated one and the old one', async () => {
    // Build the log once, then copy it per crash point.
    const { cpSync, rmSync } = await import('node:fs');
    const template = join(data.dir, 'template');
    {
      const { manager, log } = await openWith(template);
      for (let tag = 0; tag < 16; tag++) {
        if (tag % 4 === 0) log.setLeaderEpoch(tag);
        await log.append(makeBatch(tag, 2, 60));
      }
      log.advanceHighWatermark(log.logEndOffset);
      await manager.close();
    }
    const { manager: m0, log: l0 } = await openWith(template);
    const oldImage = image(l0);
    await m0.close();
    const cut = 9; // inside batch 8..9, in an early segment
    let finished = false;
    let crashes = 0;
    for (let budget = 0; !finished && budget < 200; budget++) {
      const copy = join(data.dir, `crash-${budget}`);
      cpSync(template, copy, { recursive: true });
      rmSync(join(copy, '.lock'), { force: true });
      const fs = new DyingFs(Number.POSITIVE_INFINITY);
      const { manager, log } = await openWith(copy, fs);
      (fs as unknown as { budget: number }).budget = budget;
      try {
        log.truncateTo(cut);
        finished = !fs.dead;
      } catch (error) {
        expect(fs.dead).toBe(true);
        expect(String(error)).toMatch(/simulated crash/);
        crashes++;
      }
      manager.abandon();
      const recovered = await checkRecovered(copy);
      // A prefix of the old log, and at least the truncated log.
      expect(oldImage.subarray(0, recovered.length).equals(recovered)).toBe(true);
      expect(batchesOf(recovered).at(-1)!.lastOffset + 1).toBeGreaterThanOrEqual(8);
      if (finished) expect(batchesOf(recovered).at(-1)!.lastOffset + 1).toBe(8);
      rmSync(copy, { recursive: true, force: true });
    }
    expect(finished).toBe(true);
    // Every step was a crash point once: the checkpoint write, the snapshot removal, each
    // segment removal, the cut, the index rewrite, the epoch checkpoint.
    expect(crashes).toBeGreaterThan(10);
  });
});

describe('a crash at every step of truncateFullyAndStartAt', () => {
  it('recovers a prefix of the old log or the empty log at the new start', async () => {
    const { cpSync, rmSync } = await import('node:fs');
    const template = join(data.dir, 'template');
    {
      const { manager, log } = await openWith(template);
      log.setLeaderEpoch(3);
      for (let tag = 0; tag < 10; tag++) await log.append(makeBatch(tag, 2, 60));
      await manager.close();
    }
    const { manager: m0, log: l0 } = await openWith(template);
    const oldImage = image(l0);
    await m0.close();
    let finished = false;
    for (let budget = 0; !finished && budget < 200; budget++) {
      const copy = join(data.dir, `crash-${budget}`);
      cpSync(template, copy, { recursive: true });
      rmSync(join(copy, '.lock'), { force: true });
      const fs = new DyingFs(Number.POSITIVE_INFINITY);
      const { manager, log } = await openWith(copy, fs);
      (fs as unknown as { budget: number }).budget = budget;
      try {
        log.truncateFullyAndStartAt(500);
        finished = !fs.dead;
      } catch {
        expect(fs.dead).toBe(true);
      }
      manager.abandon();
      const { manager: reopened, log: recovered } = await openWith(copy);
      const bytes = image(recovered);
      const start = recovered.logStartOffset;
      await reopened.close();
      if (finished) expect([start, bytes.length]).toEqual([500, 0]);
      else if (bytes.length > 0) expect(oldImage.subarray(0, bytes.length).equals(bytes)).toBe(true);
      await checkRecovered(copy);
      rmSync(copy, { recursive: true, force: true });
    }
    expect(finished).toBe(true);
  });
});

describe('torn checkpoint files', () => {
  it('a torn leader-epoch checkpoint is rebuilt; a torn HW checkpoint is ignored; stray .tmp files are removed', async () => {
    const { manager, log } = await openWith(data.dir);
    log.setLeaderEpoch(2);
    await log.append(makeBatch(1, 3));
    log.setLeaderEpoch(7);
    await log.append(makeBatch(2, 3));
    log.advanceHighWatermark(6);
    await manager.close();
    writeFileSync(join(data.dir, 'c-0', 'leader-epoch-checkpoint'), '0\n2\n2 0\n7');
    writeFileSync(join(data.dir, 'c-0', 'leader-epoch-checkpoint.tmp'), '0\n');
    writeFileSync(join(data.dir, 'replication-offset-checkpoint'), '0\n1\nc 0 ');
    writeFileSync(join(data.dir, 'replication-offset-checkpoint.tmp'), '0\n1\nc 0 6\n');
    const reopened = await openWith(data.dir);
    expect(reopened.log.leaderEpochs.all).toEqual([
      { epoch: 2, startOffset: 0 },
      { epoch: 7, startOffset: 3 },
    ]);
    expect(reopened.log.highWatermark).toBe(0);
    expect(existsSync(join(data.dir, 'c-0', 'leader-epoch-checkpoint.tmp'))).toBe(false);
    expect(existsSync(join(data.dir, 'replication-offset-checkpoint.tmp'))).toBe(false);
    await reopened.manager.close();
  });
});

describe('kill -9 of a replica mid-truncate and mid-checkpoint', () => {
  it('recovers a consistent log, epoch cache and HW', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, data.dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        let rounds = 0;
        let killed = false;
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.on('data', (chunk: Buffer) => {
          rounds += chunk.toString().split('round ').length - 1;
          if (!killed && rounds >= 15 + attempt * 7) {
            killed = true;
            child.kill('SIGKILL');
          }
        });
        child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
      });
      const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated: true });
      const log = manager.getPartition('k', 0) as PartitionLogImpl;
      const bytes = image(log);
      expect(log.leaderEpochs.all).toEqual(epochsOfBatches(bytes));
      expect(log.highWatermark).toBeLessThanOrEqual(log.logEndOffset);
      let expected = log.logStartOffset;
      for (const batch of batchesOf(bytes)) {
        expect(batch.baseOffset).toBe(expected);
        expected = batch.lastOffset + 1;
      }
      expect(expected).toBe(log.logEndOffset);
      await manager.close();
    }
  }, 30_000);
});
