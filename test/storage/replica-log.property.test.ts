// Property tests (fast-check) of the replica primitives:
// 1. the leader-epoch cache's endOffsetForEpoch agrees with a plain model of Kafka's
//    OffsetForLeaderEpoch over random assign / truncateFromEnd / truncateFromStart
//    sequences, and its checkpoint round-trips;
// 2. a follower that appendAsFollower's what it reads from a leader (random batch sizes,
//    random read sizes, leader epochs changing, segments rolling) holds the leader's
//    bytes exactly, before and after a restart;
// 3. truncateTo then a clean restart or a crash (files dropped, no close) gives the same
//    log: the same bytes and epochs, and appends continue at the log end.
// The seed is printed on failure; rerun one with SPOOL_FC_SEED=<seed>.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LeaderEpochCache, decodeLeaderEpochCheckpoint, encodeLeaderEpochCheckpoint } from '../../src/storage/leader-epoch-cache.js';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

const seed = process.env.SPOOL_FC_SEED ? Number(process.env.SPOOL_FC_SEED) : Date.now() % 1_000_000;
const clock = new ManualClock();
const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((cleanup) => cleanup()));

/** Kafka's answer, computed the slow, obvious way over a list of { epoch, start }. */
function modelEndOffset(entries: Array<{ epoch: number; startOffset: number }>, requested: number, logEndOffset: number): { epoch: number; endOffset: number } {
  if (requested === -1 || entries.length === 0) return { epoch: -1, endOffset: -1 };
  const latest = entries[entries.length - 1]!;
  if (latest.epoch === requested) return { epoch: requested, endOffset: logEndOffset };
  const higher = entries.find((entry) => entry.epoch > requested);
  if (!higher) return { epoch: -1, endOffset: -1 };
  const floor = entries.filter((entry) => entry.epoch <= requested).pop();
  return { epoch: floor ? floor.epoch : requested, endOffset: higher.startOffset };
}

async function openLog(dir: string): Promise<{ manager: LogManager; log: PartitionLogImpl }> {
  const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated: true });
  if (!manager.getTopic('p')) await manager.createTopic('p', 1, { segmentBytes: 700, indexIntervalBytes: 90 });
  return { manager, log: manager.getPartition('p', 0) as PartitionLogImpl };
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

describe('leader-epoch cache', () => {
  it('endOffsetForEpoch agrees with the model after random operations; the checkpoint round-trips', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('assign' as const), epochStep: fc.integer({ min: 0, max: 3 }), offsetStep: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('truncateEnd' as const), back: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('truncateStart' as const), forward: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), fc.array(fc.integer({ min: -1, max: 30 }), { minLength: 1, maxLength: 10 }), (operations, queries) => {
        const cache = new LeaderEpochCache(nodeStorageFs, '/nonexistent');
        let model: Array<{ epoch: number; startOffset: number }> = [];
        let logEnd = 0;
        let logStart = 0;
        let epoch = 0;
        for (const op of operations) {
          if (op.kind === 'assign') {
            epoch += op.epochStep;
            logEnd += op.offsetStep;
            cache.assign(epoch, logEnd);
            const latest = model.at(-1);
            if (!(latest && latest.epoch === epoch)) {
              model = model.filter((entry) => entry.epoch < epoch && entry.startOffset < logEnd);
              model.push({ epoch, startOffset: logEnd });
            }
            logEnd += 1;
          } else if (op.kind === 'truncateEnd') {
            logEnd = Math.max(logStart, logEnd - op.back);
            cache.truncateFromEnd(logEnd);
            model = model.filter((entry) => entry.startOffset < logEnd);
          } else {
            logStart = Math.min(logEnd, logStart + op.forward);
            cache.truncateFromStart(logStart);
            const kept = model.filter((entry, i) => i + 1 >= model.length || model[i + 1]!.startOffset > logStart);
            model = kept.map((entry, i) => (i === 0 ? { epoch: entry.epoch, startOffset: Math.max(entry.startOffset, logStart) } : entry));
          }
          expect(cache.all).toEqual(model);
        }
        for (const requested of queries) expect(cache.endOffsetForEpoch(requested, logEnd)).toEqual(modelEndOffset(model, requested, logEnd));
        expect(decodeLeaderEpochCheckpoint(encodeLeaderEpochCheckpoint(cache.all))).toEqual(model);
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('replica logs', () => {
  it('a follower fed from the leader with appendAsFollower holds the leader bytes exactly, also after a restart', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ records: fc.integer({ min: 1, max: 4 }), valueBytes: fc.integer({ min: 1, max: 120 }), newEpoch: fc.boolean() }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 8 }),
        async (appends, readSizes) => {
          const leaderDir = tempDataDir();
          const followerDir = tempDataDir();
          cleanups.push(leaderDir.cleanup, followerDir.cleanup);
          const leader = await openLog(leaderDir.dir);
          const follower = await openLog(followerDir.dir);
          let epoch = 0;
          leader.log.setLeaderEpoch(epoch);
          for (const [tag, append] of appends.entries()) {
            if (append.newEpoch) leader.log.setLeaderEpoch(++epoch);
            await leader.log.append(makeBatch(tag, append.records, append.valueBytes));
          }
          for (let i = 0; follower.log.logEndOffset < leader.log.logEndOffset; i++) {
            const read = leader.log.read(follower.log.logEndOffset, readSizes[i % readSizes.length]!);
            await follower.log.appendAsFollower(read.bytes);
          }
          const leaderImage = image(leader.log);
          expect(image(follower.log).equals(leaderImage)).toBe(true);
          expect(follower.log.leaderEpochs.all).toEqual(leader.log.leaderEpochs.all);
          await follower.manager.close();
          await leader.manager.close();
          const reopened = await openLog(followerDir.dir);
          expect(image(reopened.log).equals(leaderImage)).toBe(true);
          await reopened.manager.close();
        },
      ),
      { seed, numRuns: 15 },
    );
  });

  it('truncateTo then a clean restart or a crash gives the same log, and appends continue', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ records: fc.integer({ min: 1, max: 3 }), valueBytes: fc.integer({ min: 1, max: 150 }), newEpoch: fc.boolean() }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.constantFrom('close', 'crash'),
        async (appends, cutSeed, restart) => {
          const dir = tempDataDir();
          cleanups.push(dir.cleanup);
          const { manager, log } = await openLog(dir.dir);
          let epoch = 1;
          log.setLeaderEpoch(epoch);
          for (const [tag, append] of appends.entries()) {
            if (append.newEpoch) log.setLeaderEpoch(++epoch);
            await log.append(makeBatch(tag, append.records, append.valueBytes));
          }
          const batches = batchesOf(image(log));
          const cut = cutSeed % (log.logEndOffset + 1);
          log.truncateTo(cut);
          const kept = batches.filter((batch) => batch.lastOffset < cut);
          expect(log.logEndOffset).toBe(kept.at(-1) ? kept.at(-1)!.lastOffset + 1 : 0);
          const expected = image(log);
          expect(expected.equals(Buffer.concat(kept.map((batch) => batch.bytes)))).toBe(true);
          const epochs = log.leaderEpochs.all;
          if (restart === 'close') await manager.close();
          else manager.abandon();
          const reopened = await openLog(dir.dir);
          expect(image(reopened.log).equals(expected)).toBe(true);
          expect(reopened.log.leaderEpochs.all).toEqual(epochs);
          const end = reopened.log.logEndOffset;
          expect(await reopened.log.append(makeBatch(999, 2))).toEqual({ baseOffset: end, lastOffset: end + 1 });
          await reopened.manager.close();
        },
      ),
      { seed, numRuns: 25 },
    );
  });
});
