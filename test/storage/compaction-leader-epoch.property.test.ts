// Proves that the log cleaner keeps each batch's partitionLeaderEpoch when it rewrites a
// segment (a follower's epoch cache and OffsetForLeaderEpoch are built from it). A
// fast-check property over random histories of a replicated, compacted partition: appends
// of a few keyed records (some tombstones) under a leader epoch that rises at random
// points, segments rolling. After a cleaning pass, every batch in the log carries the epoch
// its records were appended under (model: offset -> epoch), and the epoch cache rebuilt
// from the segments (checkpoint deleted, reopened) holds, per epoch, the base offset of its
// first surviving batch (a cleaned batch keeps its base offset, as in Kafka). The seed is printed on failure; rerun one with
// SPOOL_FC_SEED=<seed>.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/records/index.js';
import { compactPartition } from '../../src/storage/compaction.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from '../../src/storage/leader-epoch-cache.js';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import { ManualClock } from '../../src/util/clock.js';
import { tempDataDir } from './helpers.js';

const seed = process.env.SPOOL_FC_SEED ? Number(process.env.SPOOL_FC_SEED) : Date.now() % 1_000_000;
const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((cleanup) => cleanup()));

type Step = { kind: 'append'; keys: number[]; tombstone: boolean } | { kind: 'new-epoch' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), keys: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }), tombstone: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'new-epoch' as const }) },
);

async function openLog(dir: string, clock: ManualClock): Promise<{ manager: LogManager; log: PartitionLogImpl }> {
  const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated: true });
  if (!manager.getTopic('c')) await manager.createTopic('c', 1, { cleanupPolicy: 'compact', segmentBytes: 500, deleteRetentionMs: 1 });
  return { manager, log: manager.getPartition('c', 0) as PartitionLogImpl };
}

/** Every batch in the log as { epoch, offsets of its records }, read forward from the start. */
function batchEpochs(log: PartitionLogImpl): Array<{ epoch: number; baseOffset: number; offsets: number[] }> {
  const out: Array<{ epoch: number; baseOffset: number; offsets: number[] }> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { bytes } = log.read(offset, 1 << 20);
    let position = 0;
    while (position < bytes.length) {
      const { header, records } = decodeBatch(bytes, position);
      out.push({ epoch: header.partitionLeaderEpoch, baseOffset: header.baseOffset, offsets: records.map((record) => record.offset) });
      offset = header.baseOffset + header.lastOffsetDelta + 1;
      position += header.totalBytes;
    }
  }
  return out;
}

describe('compaction keeps partitionLeaderEpoch', () => {
  it('every rewritten batch carries the epoch its records were appended under', async () => {
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArbitrary, { minLength: 20, maxLength: 80 }), async (steps) => {
          const data = tempDataDir();
          cleanups.push(() => data.cleanup());
          const clock = new ManualClock();
          let { manager, log } = await openLog(data.dir, clock);
          let epoch = 0;
          log.setLeaderEpoch(epoch);
          const epochOfOffset = new Map<number, number>();
          for (const step of steps) {
            if (step.kind === 'new-epoch') {
              log.setLeaderEpoch(++epoch);
              continue;
            }
            const records = step.keys.map((key, i) => ({ key: `key-${key}`, value: step.tombstone && i === 0 ? null : `v${epoch}`, timestamp: clock.nowMs() }));
            const result = await log.append(encodeBatch(records));
            for (let i = 0; i < records.length; i++) epochOfOffset.set(result.baseOffset + i, epoch);
            // Everything written is committed: the cleaner works below the high watermark.
            log.advanceHighWatermark(log.logEndOffset);
          }
          await Promise.all(log.segments.map((segment) => segment.flushDone));
          clock.advance(10);
          await compactPartition(log, nodeStorageFs, clock.nowMs());
          const batches = batchEpochs(log);
          for (const batch of batches) {
            for (const offset of batch.offsets) expect({ offset, epoch: batch.epoch }).toEqual({ offset, epoch: epochOfOffset.get(offset) });
          }
          // The cache rebuilt from the segments: per epoch, its first surviving batch's base offset.
          const expected: Array<{ epoch: number; startOffset: number }> = [];
          for (const batch of batches) {
            const last = expected[expected.length - 1];
            if (batch.offsets.length > 0 && (!last || batch.epoch > last.epoch)) expected.push({ epoch: batch.epoch, startOffset: batch.baseOffset });
          }
          await manager.close();
          rmSync(join(log.dir, LEADER_EPOCH_CHECKPOINT_FILE), { force: true });
          ({ manager, log } = await openLog(data.dir, clock));
          expect(log.leaderEpochs.all).toEqual(expected);
          await manager.close();
          data.cleanup();
        }),
        { seed, numRuns: 25 },
      );
    } catch (error) {
      console.error(`compaction-leader-epoch property failed with SPOOL_FC_SEED=${seed}`);
      throw error;
    }
  }, 60_000);
});
