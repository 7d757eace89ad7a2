// Proves crash recovery on real files: a log is written, the process "crashes" (files
// dropped with no fsync, no closing index entries, no clean checkpoint), the files are
// damaged, and the log is reopened: (a) the active .log cut at random byte positions,
// (b) random bytes flipped inside the last batches, (c) .index/.timeindex files deleted
// or truncated, (d) stray temp files from an interrupted write, compaction or delete.
// After each reopen every batch before the damage reads back byte for byte, nothing after
// it does, recovery reported what it cut, and appends continue at the right offset.
// Flipped bytes avoid partitionLeaderEpoch (batch bytes 12-15), which by the format's
// design no checksum covers.

import { truncateSync, unlinkSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

interface Written {
  baseOffset: number;
  lastOffset: number;
  bytes: Buffer;
}

let data: ReturnType<typeof tempDataDir>;
let manager: LogManager | undefined;
const clock = new ManualClock();

beforeEach(() => {
  data = tempDataDir();
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  data.cleanup();
});

async function open(): Promise<LogManager> {
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
  return manager;
}

/** Writes `count` batches of 1-4 records into a topic with small segments; returns them. */
async function writeLog(count: number, seed: number): Promise<Written[]> {
  const m = await open();
  await m.createTopic('c', 1, { segmentBytes: 4096, indexIntervalBytes: 256 });
  const log = m.getPartition('c', 0);
  const written: Written[] = [];
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  for (let i = 0; i < count; i++) {
    const batch = makeBatch(i, 1 + Math.floor(random() * 4), 10 + Math.floor(random() * 200));
    const result = await log.append(batch);
    written.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: batch });
  }
  return written;
}

function crash(): void {
  manager!.abandon();
  manager = undefined;
}

/** Position of every written batch inside the segment that holds it. */
function layout(log: PartitionLogImpl, written: Written[]): Array<Written & { segmentBase: number; position: number }> {
  const bases = log.segments.map((s) => s.baseOffset);
  const out = [];
  let position = 0;
  let currentBase = -1;
  for (const batch of written) {
    let segmentBase = bases[0]!;
    for (const base of bases) if (base <= batch.baseOffset) segmentBase = base;
    if (segmentBase !== currentBase) {
      currentBase = segmentBase;
      position = 0;
    }
    out.push({ ...batch, segmentBase, position });
    position += batch.bytes.length;
  }
  return out;
}

/** Every batch in `intact` reads back exactly (from its first and last offset); the log ends after it. */
function expectExactly(log: PartitionLogImpl, intact: Written[]): void {
  for (const batch of intact) {
    for (const offset of new Set([batch.baseOffset, batch.lastOffset])) {
      const [first] = batchesOf(log.read(offset, 1).bytes);
      expect(first?.baseOffset).toBe(batch.baseOffset);
      expect(first!.bytes.equals(batch.bytes)).toBe(true);
    }
  }
  const end = intact.length === 0 ? 0 : intact[intact.length - 1]!.lastOffset + 1;
  expect(log.logEndOffset).toBe(end);
  expect(log.read(end, 1000).bytes.length).toBe(0);
  expect(() => log.read(end + 1, 1000)).toThrow(/outside/);
}

async function expectAppendsContinue(log: PartitionLogImpl): Promise<void> {
  const end = log.logEndOffset;
  const result = await log.append(makeBatch(9999, 2));
  expect(result).toEqual({ baseOffset: end, lastOffset: end + 1 });
  expect(batchesOf(log.read(end, 1000).bytes)[0]!.baseOffset).toBe(end);
}

describe('crash recovery', () => {
  it('(a) the active .log cut at random byte positions keeps every whole batch before the cut', async () => {
    for (let trial = 0; trial < 8; trial++) {
      const written = await writeLog(120, trial + 1);
      const placed = layout(manager!.getPartition('c', 0), written);
      const active = manager!.getPartition('c', 0).active;
      const activePath = active.logPath;
      const activeBase = active.baseOffset;
      const activeBytes = active.sizeBytes;
      crash();
      const cut = Math.floor(Math.random() * activeBytes);
      truncateSync(activePath, cut);
      const m = await open();
      const log = m.getPartition('c', 0);
      const intact = placed.filter((b) => b.segmentBase !== activeBase || b.position + b.bytes.length <= cut);
      expectExactly(log, intact);
      const cutBatch = placed.find((b) => b.segmentBase === activeBase && b.position + b.bytes.length > cut);
      if (cutBatch && cut > cutBatch.position) {
        expect(m.recoveryReports).toContainEqual(
          expect.objectContaining({ file: activePath, validBytes: cutBatch.position, truncatedBytes: cut - cutBatch.position }),
        );
      }
      await expectAppendsContinue(log);
      await m.close();
      manager = undefined;
      data.cleanup();
      data = tempDataDir();
    }
  });

  it('(b) a flipped byte inside one of the last batches drops that batch and everything after it', async () => {
    for (let trial = 0; trial < 8; trial++) {
      const written = await writeLog(80, trial + 100);
      const log0 = manager!.getPartition('c', 0);
      const placed = layout(log0, written);
      const activeBase = log0.active.baseOffset;
      const activePath = log0.active.logPath;
      crash();
      const inActive = placed.filter((b) => b.segmentBase === activeBase);
      const victim = inActive[Math.max(0, inActive.length - 1 - Math.floor(Math.random() * 3))]!;
      let at: number;
      do at = Math.floor(Math.random() * victim.bytes.length);
      while (at >= 12 && at < 16);
      const file = readFileSync(activePath);
      file[victim.position + at] = file[victim.position + at]! ^ (1 << Math.floor(Math.random() * 8));
      writeFileSync(activePath, file);
      const m = await open();
      const log = m.getPartition('c', 0);
      expectExactly(log, placed.filter((b) => b.baseOffset < victim.baseOffset));
      expect(m.recoveryReports).toContainEqual(expect.objectContaining({ file: activePath, validBytes: victim.position }));
      await expectAppendsContinue(log);
      await m.close();
      manager = undefined;
      data.cleanup();
      data = tempDataDir();
    }
  });

  it('(c) deleted or truncated indexes are rebuilt, after a crash and after a clean close', async () => {
    for (const clean of [false, true]) {
      for (const damage of ['delete', 'truncate-partial', 'truncate-entries', 'empty'] as const) {
        const written = await writeLog(100, 7);
        const log0 = manager!.getPartition('c', 0);
        const segments = log0.segments.map((s) => ({ index: s.indexPath, timeindex: s.timeIndexPath }));
        if (clean) {
          await manager!.close();
          manager = undefined;
        } else {
          crash();
        }
        const victims = [segments[0]!, segments[Math.floor(segments.length / 2)]!, segments[segments.length - 1]!];
        for (const [i, victim] of victims.entries()) {
          const path = i % 2 === 0 ? victim.index : victim.timeindex;
          if (damage === 'delete') unlinkSync(path);
          else if (damage === 'empty') truncateSync(path, 0);
          else {
            const size = readFileSync(path).length;
            truncateSync(path, damage === 'truncate-partial' ? Math.max(0, size - 3) : Math.max(8, size - 24));
          }
        }
        const m = await open();
        const log = m.getPartition('c', 0);
        expectExactly(log, written);
        expect(m.recoveryReports.some((r) => r.rebuiltIndex && r.truncatedBytes === 0)).toBe(true);
        // Random offsets read the batch holding them.
        for (let i = 0; i < 50; i++) {
          const batch = written[Math.floor(Math.random() * written.length)]!;
          const offset = batch.baseOffset + Math.floor(Math.random() * (batch.lastOffset - batch.baseOffset + 1));
          expect(batchesOf(log.read(offset, 1).bytes)[0]!.baseOffset).toBe(batch.baseOffset);
        }
        await expectAppendsContinue(log);
        await m.close();
        manager = undefined;
        data.cleanup();
        data = tempDataDir();
      }
    }
  });

  it('(d) stray temp files are removed and do not disturb the log', async () => {
    const written = await writeLog(60, 3);
    const log0 = manager!.getPartition('c', 0);
    const dir = log0.dir;
    const closedLog = log0.segments[0]!.logPath;
    crash();
    writeFileSync(join(dir, '00000000000000999999.log.cleaned'), 'garbage');
    writeFileSync(closedLog + '.cleaned', 'half a cleaned segment');
    writeFileSync(join(data.dir, 'meta', 'checkpoints', 'c-0.json.tmp'), '{"format":1');
    writeFileSync(join(data.dir, 'meta', 'topics', 'c.json.tmp'), '{');
    mkdirSync(join(data.dir, 'gone-0.1-1.deleted'));
    writeFileSync(join(data.dir, 'gone-0.1-1.deleted', '00000000000000000000.log'), 'x');
    const m = await open();
    const log = m.getPartition('c', 0);
    expectExactly(log, written);
    expect(existsSync(closedLog + '.cleaned')).toBe(false);
    expect(existsSync(join(dir, '00000000000000999999.log.cleaned'))).toBe(false);
    expect(existsSync(join(data.dir, 'gone-0.1-1.deleted'))).toBe(false);
    expect(existsSync(join(data.dir, 'meta', 'topics', 'c.json.tmp'))).toBe(false);
    await expectAppendsContinue(log);
  });

  it('a clean close needs no scan and loses nothing', async () => {
    const written = await writeLog(100, 11);
    await manager!.close();
    manager = undefined;
    const m = await open();
    expect(m.recoveryReports).toEqual([]);
    expectExactly(m.getPartition('c', 0), written);
  });

  it('garbage or zeros appended to the active log are cut', async () => {
    for (const tail of [Buffer.alloc(5000), Buffer.from('not a batch at all, just some text')]) {
      const written = await writeLog(40, 5);
      const path = manager!.getPartition('c', 0).active.logPath;
      crash();
      writeFileSync(path, Buffer.concat([readFileSync(path), tail]));
      const m = await open();
      expectExactly(m.getPartition('c', 0), written);
      expect(m.recoveryReports).toContainEqual(expect.objectContaining({ file: path, truncatedBytes: tail.length }));
      await m.close();
      manager = undefined;
      data.cleanup();
      data = tempDataDir();
    }
  });
});
