// Proves that the log is safe for any offset gap a batch may claim: batches whose
// lastOffsetDelta is huge (a gzip batch claiming 2^31 - 1 records, built with records'
// encodeBatch and patched, CRC recomputed) are appended alone and several to one append;
// the segment rolls before a batch's last offset relative to the segment base would
// pass u32, nothing throws or goes offline, and after a clean close and after a crash
// (files dropped, no close) recovery keeps every acknowledged batch: no truncation, the
// log end is the last batch's last offset + 1, and every batch reads back by offset.
// A fast-check property does the same with random gaps and random restart kinds.

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchLayout, CRC_START, crc32c, encodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import { batchesOf, tempDataDir } from './helpers.js';

/**
 * Offset gaps come from logs, not producers (a producer's batch must take exactly the
 * offsets of its records, which append checks for client batches): these appends copy
 * batches as a replica or a rewrite would.
 */
const FROM_LOG = { origin: 'log' } as const;

/** A gzip batch of one record that claims `offsetCount` records (lastOffsetDelta = offsetCount - 1). */
export function gapBatch(tag: number, offsetCount: number): Buffer {
  const batch = encodeBatch([{ key: `k${tag}`, value: `v${tag}`, timestamp: 1_700_000_000_000 + tag }], { compression: 'gzip' });
  batch.writeInt32BE(offsetCount - 1, BatchLayout.LAST_OFFSET_DELTA);
  batch.writeInt32BE(offsetCount, BatchLayout.RECORD_COUNT);
  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
  return batch;
}

const HUGE = 2 ** 31 - 1;

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

async function open(dir: string, warnings: string[] = []): Promise<LogManager> {
  return LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, backgroundTasks: false, warn: (m) => warnings.push(m) });
}

describe('offset gaps', () => {
  it('batches claiming 2^31 - 1 offsets each: rolls, no overflow, nothing lost after restart', async () => {
    const manager = await open(data.dir);
    await manager.createTopic('g', 1);
    const log = manager.getPartition('g', 0);
    const expected: Array<{ baseOffset: number; lastOffset: number }> = [];
    for (let i = 0; i < 5; i++) {
      const result = await log.append(gapBatch(i, HUGE), FROM_LOG);
      expected.push(result);
    }
    // Three at once: together they span more than u32 from any one segment base.
    const many = Buffer.concat([gapBatch(10, HUGE), gapBatch(11, HUGE), gapBatch(12, HUGE)]);
    const three = await log.append(many, FROM_LOG);
    expect(three.lastOffset - three.baseOffset + 1).toBe(3 * HUGE);
    expect(log.isOffline).toBe(false);
    const end = log.logEndOffset;
    expect(end).toBe(8 * HUGE);
    for (const { baseOffset } of expected) expect(batchesOf(log.read(baseOffset, 1).bytes)[0]!.baseOffset).toBe(baseOffset);
    manager.abandon();
    const warnings: string[] = [];
    const reopened = await open(data.dir, warnings);
    const again = reopened.getPartition('g', 0);
    expect(reopened.recoveryReports.filter((r) => r.truncatedBytes > 0)).toEqual([]);
    expect(again.logEndOffset).toBe(end);
    for (const { baseOffset } of expected) expect(batchesOf(again.read(baseOffset, 1).bytes)[0]!.baseOffset).toBe(baseOffset);
    expect(await again.append(gapBatch(20, 1))).toEqual({ baseOffset: end, lastOffset: end });
    await reopened.close();
  });
});

describe('offset gaps: recovery', () => {
  it('asserts (stops) rather than truncate a cleanly closed log at a batch past u32', async () => {
    // Written by hand as a broken append would have: four in-sequence gap batches in
    // one segment (the fourth's base offset is past u32), closed cleanly, indexes gone (so recovery scans).
    const manager = await open(data.dir);
    await manager.createTopic('g', 1);
    const log = manager.getPartition('g', 0);
    const segmentPath = log.active.logPath;
    await manager.close();
    const { writeFileSync, unlinkSync } = await import('node:fs');
    const { setBaseOffset } = await import('../../src/records/index.js');
    const one = gapBatch(0, HUGE).length;
    const bytes = Buffer.concat([0, 1, 2, 3].map((i) => gapBatch(i, HUGE)));
    for (let i = 0; i < 4; i++) setBaseOffset(bytes, i * one, i * HUGE);
    writeFileSync(segmentPath, bytes);
    unlinkSync(segmentPath.replace(/\.log$/, '.index'));
    const checkpointPath = `${data.dir}/meta/checkpoints/g-0.json`;
    writeFileSync(checkpointPath, JSON.stringify({ format: 1, recoveryPoint: 4 * HUGE, logStartOffset: 0, cleanShutdown: true }));
    await expect(open(data.dir)).rejects.toMatchObject({ name: 'AssertionError' });
  });

  it('property: random gaps, appends of 1-3 batches, clean or crash restarts: nothing lost', async () => {
    const gap = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 2 ** 30, max: HUGE }), fc.constant(HUGE));
    const step = fc.record({ gaps: fc.array(gap, { minLength: 1, maxLength: 3 }), restart: fc.constantFrom('none', 'none', 'clean', 'crash') });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const dir = `${data.dir}/run-${run++}`;
        let manager = await open(dir);
        await manager.createTopic('p', 1, { indexIntervalBytes: 0 });
        const appended: Array<{ baseOffset: number; lastOffset: number }> = [];
        let end = 0;
        let tag = 0;
        for (const { gaps, restart } of steps) {
          const log = manager.getPartition('p', 0);
          const result = await log.append(Buffer.concat(gaps.map((g) => gapBatch(tag++, g))), FROM_LOG);
          let base = result.baseOffset;
          for (const g of gaps) {
            appended.push({ baseOffset: base, lastOffset: base + g - 1 });
            base += g;
          }
          expect(result.baseOffset).toBe(end);
          end = result.lastOffset + 1;
          if (restart === 'clean') await manager.close();
          if (restart === 'crash') manager.abandon();
          if (restart !== 'none') {
            manager = await open(dir);
            expect(manager.recoveryReports.filter((r) => r.truncatedBytes > 0)).toEqual([]);
          }
          const now = manager.getPartition('p', 0);
          expect(now.logEndOffset).toBe(end);
          for (const batch of appended) {
            const read = batchesOf(now.read(batch.lastOffset, 1).bytes)[0]!;
            expect({ baseOffset: read.baseOffset, lastOffset: read.lastOffset }).toEqual(batch);
          }
        }
        await manager.close();
      }),
      { numRuns: 25, seed: Number(process.env.SPOOL_FC_SEED ?? Date.now() % 2 ** 31), verbose: true },
    );
  });
});
