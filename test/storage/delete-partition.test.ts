// Proves LogManager.deletePartition (a cluster broker dropping the local replica of a
// partition reassigned away): the partition's records, producer snapshot and leader epochs
// go and it starts again empty at offset 0, the topic's other partitions untouched, at once
// and after a restart; `stillWanted` answering no (asked inside the topic's serialized
// operations) or an empty log deletes nothing. Then a crash at every file-system step of the
// deletion (a file system that dies after N mutating calls, the files reopened by a fresh
// manager): the deleted partition is a prefix of its old log or empty, and the partition
// still held is byte-identical with its epochs, so a restart in the middle loses nothing
// the broker holds.

import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager, type PartitionLogImpl, type StorageFs } from '../../src/storage/index.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

const clock = new ManualClock();
let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

/** node:fs that dies after `budget` mutating calls: that call and every later one throw. */
class DyingFs implements StorageFs {
  dead = false;
  budget = Number.POSITIVE_INFINITY;
  private step(): void {
    if (this.dead || this.budget-- <= 0) {
      this.dead = true;
      throw Object.assign(new Error('EIO: simulated crash'), { code: 'EIO' });
    }
  }
  openSync(path: string, flags: string): number {
    if ((flags !== 'r' && flags !== 'r+') || this.dead) this.step();
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

async function open(dir: string, fs?: StorageFs): Promise<{ manager: LogManager; held: PartitionLogImpl; moved: PartitionLogImpl }> {
  const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated: true, ...(fs ? { fs } : {}) });
  if (!manager.getTopic('t')) await manager.createTopic('t', 2, { segmentBytes: 400 });
  return { manager, held: manager.getPartition('t', 0), moved: manager.getPartition('t', 1) };
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

/** Two partitions with several segments each, written under epochs 1 and 2. */
async function fill(held: PartitionLogImpl, moved: PartitionLogImpl): Promise<void> {
  for (const log of [held, moved]) {
    for (let tag = 0; tag < 6; tag++) {
      log.setLeaderEpoch(tag < 3 ? 1 : 2);
      await log.append(makeBatch(tag, 2, 60));
    }
    log.advanceHighWatermark(log.logEndOffset);
    log.setLeaderEpoch(-1);
  }
}

describe('LogManager.deletePartition', () => {
  it('empties one partition, keeps the others, and stays so after a restart', async () => {
    const { manager, held, moved } = await open(data.dir);
    await fill(held, moved);
    const heldImage = image(held);
    const heldEpochs = held.leaderEpochs.all;
    expect(moved.segments.length).toBeGreaterThan(2);
    const movedDir = moved.dir;

    // Not wanted any more at the moment of deletion: nothing happens.
    expect(await manager.deletePartition('t', 1, () => false)).toBe(false);
    expect(moved.logEndOffset).toBe(12);

    expect(await manager.deletePartition('t', 1)).toBe(true);
    expect([moved.logStartOffset, moved.logEndOffset, moved.highWatermark, moved.leaderEpochs.all]).toEqual([0, 0, 0, []]);
    expect(readdirSync(movedDir).filter((name) => name.endsWith('.log'))).toEqual(['00000000000000000000.log']);
    expect(existsSync(join(movedDir, 'producer-state.snapshot'))).toBe(false);
    expect(image(held).equals(heldImage)).toBe(true);
    // An empty log has nothing to delete.
    expect(await manager.deletePartition('t', 1)).toBe(false);
    await expect(manager.deletePartition('t', 2)).rejects.toMatchObject({ kind: expect.objectContaining({ name: 'UNKNOWN_PARTITION' }) });
    await manager.close();

    const reopened = await open(data.dir);
    expect([reopened.moved.logStartOffset, reopened.moved.logEndOffset]).toEqual([0, 0]);
    expect(image(reopened.held).equals(heldImage)).toBe(true);
    expect(reopened.held.leaderEpochs.all).toEqual(heldEpochs);
    // The emptied replica takes a follower's appends again from offset 0.
    expect((await reopened.moved.append(makeBatch(99))).baseOffset).toBe(0);
    await reopened.manager.close();
  });

  it('a crash at every step leaves the held partition whole and the deleted one a prefix or empty', async () => {
    const template = join(data.dir, 'template');
    {
      const { manager, held, moved } = await open(template);
      await fill(held, moved);
      await manager.close();
    }
    const before = await open(template);
    const heldImage = image(before.held);
    const heldEpochs = before.held.leaderEpochs.all;
    const movedImage = image(before.moved);
    await before.manager.close();
    let finished = false;
    let crashes = 0;
    for (let budget = 0; !finished && budget < 200; budget++) {
      const copy = join(data.dir, `crash-${budget}`);
      cpSync(template, copy, { recursive: true });
      rmSync(join(copy, '.lock'), { force: true });
      const fs = new DyingFs();
      const { manager } = await open(copy, fs);
      fs.budget = budget;
      try {
        finished = (await manager.deletePartition('t', 1)) && !fs.dead;
      } catch {
        expect(fs.dead).toBe(true);
        crashes++;
      }
      manager.abandon();
      const reopened = await open(copy);
      expect(image(reopened.held).equals(heldImage)).toBe(true);
      expect(reopened.held.leaderEpochs.all).toEqual(heldEpochs);
      const moved = image(reopened.moved);
      if (finished) expect([reopened.moved.logStartOffset, moved.length]).toEqual([0, 0]);
      else expect(movedImage.subarray(0, moved.length).equals(moved)).toBe(true);
      await reopened.manager.close();
      rmSync(copy, { recursive: true, force: true });
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(5);
  });
});
