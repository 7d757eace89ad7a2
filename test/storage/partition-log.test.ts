// Proves the partition log's append and read contract on real files: consecutive offsets
// written into batch headers, nothing written when any batch is bad, reads of whole
// batches starting with the one holding the offset (at least one, even past maxBytes),
// reads across segment rolls, OFFSET_OUT_OF_RANGE outside [start, end], offsetForTimestamp,
// index entries every index.interval.bytes, and group commit (one fsync for many appends).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c, encodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { FaultyFs, batchesOf, makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
let manager: LogManager;
const clock = new ManualClock();

beforeEach(() => {
  data = tempDataDir();
});
afterEach(async () => {
  await manager?.close();
  data.cleanup();
});

async function open(fsync: 'always' | 'never' = 'never', fs?: FaultyFs): Promise<LogManager> {
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: fsync }, clock, backgroundTasks: false, ...(fs ? { fs } : {}) });
  return manager;
}

describe('append', () => {
  it('assigns consecutive offsets across batches and calls', async () => {
    await open();
    await manager.createTopic('t', 1);
    const log = manager.getPartition('t', 0);
    const first = await log.append(Buffer.concat([makeBatch(0, 3), makeBatch(1, 2)]));
    expect(first).toEqual({ baseOffset: 0, lastOffset: 4 });
    const second = await log.append(makeBatch(2, 1));
    expect(second).toEqual({ baseOffset: 5, lastOffset: 5 });
    expect(log.logEndOffset).toBe(6);
    const batches = batchesOf(log.read(0, 1 << 20).bytes);
    expect(batches.map((b) => [b.baseOffset, b.lastOffset])).toEqual([[0, 2], [3, 4], [5, 5]]);
  });

  it('writes nothing when any batch is corrupt or too large', async () => {
    await open();
    await manager.createTopic('t', 1, { maxMessageBytes: 500 });
    const log = manager.getPartition('t', 0);
    await log.append(makeBatch(0));
    const bad = makeBatch(1);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    await expect(log.append(Buffer.concat([makeBatch(2), bad]))).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    await expect(log.append(makeBatch(3, 1, 600))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await expect(log.append(makeBatch(4).subarray(0, 40))).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    const empty = makeBatch(7, 1);
    empty.writeInt32BE(0, 57); // recordCount
    empty.writeInt32BE(-1, 23); // lastOffsetDelta
    empty.writeUInt32BE(crc32c(empty, 21), 17);
    await expect(log.append(empty)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    const overclaiming = makeBatch(6, 2);
    overclaiming.writeInt32BE(1000, 23); // lastOffsetDelta, with a CRC that matches
    overclaiming.writeUInt32BE(crc32c(overclaiming, 21), 17);
    await expect(log.append(overclaiming)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    expect(log.logEndOffset).toBe(1);
    expect(log.sizeBytes).toBe(makeBatch(0).length);
    expect((await log.append(makeBatch(5))).baseOffset).toBe(1);
  });

  it('group-commits appends of one tick into one fsync with policy always', async () => {
    let fsyncs = 0;
    const fs = new FaultyFs();
    const base = fs.fdatasync.bind(fs);
    fs.fdatasync = (fd: number) => {
      fsyncs++;
      return base(fd);
    };
    await open('always', fs);
    await manager.createTopic('t', 1);
    const log = manager.getPartition('t', 0);
    fsyncs = 0;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(makeBatch(i))));
    expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(fsyncs).toBe(1);
  });
});

describe('group commit across partitions', () => {
  it('appends of one tick to several partitions cost one fsync per file, and later ones join the next', async () => {
    const synced: number[] = [];
    const fs = new FaultyFs();
    const base = fs.fdatasync.bind(fs);
    fs.fdatasync = (fd: number) => {
      synced.push(fd);
      return base(fd);
    };
    await open('always', fs);
    await manager.createTopic('t', 3);
    synced.length = 0;
    const logs = [0, 1, 2].map((p) => manager.getPartition('t', p));
    const first = logs.flatMap((log) => Array.from({ length: 10 }, (_, i) => log.append(makeBatch(i))));
    await Promise.all(first);
    expect(synced.length).toBe(3);
    expect(new Set(synced).size).toBe(3);
    for (const log of logs) expect(log.logEndOffset).toBe(10);
  });
});

describe('read', () => {
  it('returns whole batches from the one holding the offset, at least one', async () => {
    await open();
    await manager.createTopic('t', 1, { indexIntervalBytes: 100 });
    const log = manager.getPartition('t', 0);
    for (let i = 0; i < 50; i++) await log.append(makeBatch(i, 4));
    const batchBytes = makeBatch(2, 4).length; // tags 2-9 encode to the same size
    for (const offset of [0, 1, 3, 4, 101, 199]) {
      const { bytes } = log.read(offset, 1);
      const batches = batchesOf(bytes);
      const batch = batches[0];
      expect(batches).toHaveLength(1);
      expect(batch!.bytes.length).toBe(bytes.length);
      expect(batch!.baseOffset).toBe(Math.floor(offset / 4) * 4);
    }
    const three = log.read(10, batchBytes * 3 + batchBytes - 1).bytes;
    expect(batchesOf(three).map((b) => b.baseOffset)).toEqual([8, 12, 16]);
    expect(log.read(200, 100).bytes.length).toBe(0);
    expect(log.read(200, 100).highWatermark).toBe(200);
    await expect(async () => log.read(201, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(async () => log.read(-1, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });

  it('reads across segment rolls', async () => {
    await open();
    await manager.createTopic('t', 1, { segmentBytes: 1000, indexIntervalBytes: 0 });
    const log = manager.getPartition('t', 0);
    for (let i = 0; i < 100; i++) await log.append(makeBatch(i, 2));
    expect(log.segmentCount).toBeGreaterThan(5);
    // Old closed segments gave their in-memory indexes back at roll; reads load them again.
    await Promise.all(log.segments.map((s) => s.flushDone));
    log.roll();
    expect(log.segments[0]!.indexesLoaded).toBe(false);
    let offset = 0;
    const seen: number[] = [];
    while (offset < log.logEndOffset) {
      const batches = batchesOf(log.read(offset, 10_000).bytes);
      expect(batches.length).toBeGreaterThan(0);
      for (const batch of batches) seen.push(batch.baseOffset);
      offset = batches[batches.length - 1]!.lastOffset + 1;
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
  });

  it('finds offsets by timestamp', async () => {
    await open();
    await manager.createTopic('t', 1, { segmentBytes: 2000, indexIntervalBytes: 200 });
    const log = manager.getPartition('t', 0);
    for (let i = 0; i < 100; i++) await log.append(makeBatch(i, 3, 20, 1000 + i * 10));
    // batch i has records at 1000 + 10i, +1, +2 and offsets 3i .. 3i+2
    expect(log.offsetForTimestamp(0)).toBe(0);
    expect(log.offsetForTimestamp(1000)).toBe(0);
    expect(log.offsetForTimestamp(1001)).toBe(1);
    expect(log.offsetForTimestamp(1003)).toBe(3);
    expect(log.offsetForTimestamp(1500)).toBe(150);
    expect(log.offsetForTimestamp(1992)).toBe(299);
    expect(log.offsetForTimestamp(1993)).toBeNull();
  });
});

describe('roll', () => {
  it('rolls at segment.bytes and segment.ms and names segments by base offset', async () => {
    await open();
    await manager.createTopic('t', 1, { segmentBytes: 1000, segmentMs: 60_000 });
    const log = manager.getPartition('t', 0);
    const batch = makeBatch(0, 1, 100);
    for (let i = 0; i < 10; i++) await log.append(makeBatch(i, 1, 100));
    const perSegment = Math.floor(1000 / batch.length);
    expect(log.segmentCount).toBe(Math.ceil(10 / perSegment));
    expect(log.segments.map((s) => s.baseOffset)).toEqual(Array.from({ length: log.segmentCount }, (_, i) => i * perSegment));
    const before = log.segmentCount;
    clock.advance(60_000);
    expect(log.rollIfOld(clock.nowMs())).toBe(true);
    expect(log.segmentCount).toBe(before + 1);
    expect(log.rollIfOld(clock.nowMs())).toBe(false);
    await log.append(encodeBatch([{ value: 'after' }]));
    expect(log.read(10, 100).bytes.length).toBeGreaterThan(0);
  });
});
