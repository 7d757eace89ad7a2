// Proves the storage primitives of replication on real files: the high watermark (the log
// end in single-node mode; in a replicated log its own value, advanced by the replica
// layer, cutting consumer reads, checkpointed and restored capped at the log end, an
// unreadable checkpoint ignored), leader appends stamped with the leader epoch and noted
// in the leader-epoch cache, appendAsFollower (leader offsets and epochs kept,
// contiguity and CRC checked, producer state updated, control and transactional batches
// taken as the leader has them though a client may not produce them), truncateTo (across segments,
// indexes, epochs, producer state, appends continue, the same log after a restart), and
// the leader-epoch checkpoint (rebuilt from the batches when corrupt or missing, entries
// past the log end dropped).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Attributes, BatchLayout, CRC_START, crc32c, setProducerFields } from '../../src/records/index.js';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

const clock = new ManualClock();
let data: ReturnType<typeof tempDataDir>;
let leaderData: ReturnType<typeof tempDataDir>;
const managers: LogManager[] = [];
beforeEach(() => {
  data = tempDataDir();
  leaderData = tempDataDir();
});
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close().catch(() => undefined);
  data.cleanup();
  leaderData.cleanup();
});

async function open(dir: string, replicated: boolean, warnings: string[] = []): Promise<{ manager: LogManager; log: PartitionLogImpl }> {
  const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated, warn: (line) => warnings.push(line) });
  managers.push(manager);
  if (!manager.getTopic('r')) await manager.createTopic('r', 1, { segmentBytes: 600, indexIntervalBytes: 100 });
  return { manager, log: manager.getPartition('r', 0) as PartitionLogImpl };
}

async function close(manager: LogManager): Promise<void> {
  managers.splice(managers.indexOf(manager), 1);
  await manager.close();
}

function crash(manager: LogManager): void {
  managers.splice(managers.indexOf(manager), 1);
  manager.abandon();
}

/** Every stored batch from the log start, as raw bytes. */
function allBytes(log: PartitionLogImpl): Buffer {
  const parts: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20);
    const batches = batchesOf(read.bytes);
    parts.push(read.bytes);
    offset = batches[batches.length - 1]!.lastOffset + 1;
  }
  return Buffer.concat(parts);
}

function producerBatch(producerId: number, sequence: number): Buffer {
  const batch = makeBatch(sequence, 1);
  setProducerFields(batch, 0, producerId, 0, sequence);
  return batch;
}

function epochOf(batch: Buffer): number {
  return batch.readInt32BE(BatchLayout.PARTITION_LEADER_EPOCH);
}

describe('high watermark', () => {
  it('is the log end after every append in single-node mode, and no checkpoint file is written', async () => {
    const { manager, log } = await open(data.dir, false);
    await log.append(makeBatch(1, 3));
    expect(log.highWatermark).toBe(3);
    expect(log.read(0, 1000, { isolation: 'high-watermark' }).highWatermark).toBe(3);
    expect(batchesOf(log.read(0, 1000, { isolation: 'high-watermark' }).bytes)).toHaveLength(1);
    await close(manager);
    expect(() => readFileSync(join(data.dir, 'replication-offset-checkpoint'))).toThrow();
    const reopened = await open(data.dir, false);
    expect(reopened.log.highWatermark).toBe(3);
  });

  it('in a replicated log stays until advanced, cuts consumer reads, and is restored capped at the log end', async () => {
    const { manager, log } = await open(data.dir, true);
    for (let tag = 0; tag < 6; tag++) await log.append(makeBatch(tag, 2));
    expect(log.logEndOffset).toBe(12);
    expect(log.highWatermark).toBe(0);
    expect(log.read(0, 1 << 20, { isolation: 'high-watermark' }).bytes.length).toBe(0);
    expect(batchesOf(log.read(0, 1 << 20).bytes).length).toBeGreaterThan(0);
    const seen: number[] = [];
    log.onHighWatermark((hw) => seen.push(hw));
    expect(log.advanceHighWatermark(6)).toBe(true);
    expect(log.advanceHighWatermark(4)).toBe(false);
    expect(seen).toEqual([6]);
    let offset = 0;
    const visible: number[] = [];
    for (;;) {
      const read = log.read(offset, 1 << 20, { isolation: 'high-watermark' });
      if (read.bytes.length === 0) break;
      for (const batch of batchesOf(read.bytes)) visible.push(batch.lastOffset);
      offset = visible[visible.length - 1]! + 1;
    }
    expect(visible).toEqual([1, 3, 5]);
    expect(log.read(8, 1000, { isolation: 'high-watermark' }).bytes.length).toBe(0);
    expect(log.advanceHighWatermark(100)).toBe(true);
    expect(log.highWatermark).toBe(12);
    await close(manager);
    expect(readFileSync(join(data.dir, 'replication-offset-checkpoint'), 'latin1')).toBe('0\n1\nr 0 12\n');
    // A checkpoint past the recovered end (the log lost its tail) is capped at the log end.
    writeFileSync(join(data.dir, 'replication-offset-checkpoint'), '0\n1\nr 0 99\n');
    const reopened = await open(data.dir, true);
    expect(reopened.log.highWatermark).toBe(12);
    reopened.log.truncateTo(4);
    expect(reopened.log.highWatermark).toBe(4);
  });

  it('the high-watermark-checkpoint task writes the file only when a high watermark moved', async () => {
    const { manager, log } = await open(data.dir, true);
    await manager.createTopic('other', 2);
    await log.append(makeBatch(1, 4));
    const path = join(data.dir, 'replication-offset-checkpoint');
    await manager.runTask('high-watermark-checkpoint');
    expect(readFileSync(path, 'latin1')).toBe('0\n3\nr 0 0\nother 0 0\nother 1 0\n');
    const { statSync } = await import('node:fs');
    const before = statSync(path).ino;
    await manager.runTask('high-watermark-checkpoint');
    expect(statSync(path).ino).toBe(before); // unchanged: not rewritten
    log.advanceHighWatermark(3);
    await manager.runTask('high-watermark-checkpoint');
    expect(readFileSync(path, 'latin1')).toBe('0\n3\nr 0 3\nother 0 0\nother 1 0\n');
  });

  it('an unreadable or torn checkpoint is ignored with a warning: every HW starts at the log start', async () => {
    const { manager, log } = await open(data.dir, true);
    await log.append(makeBatch(1, 5));
    log.advanceHighWatermark(5);
    await close(manager);
    for (const damaged of ['0\n2\nr 0 5\n', '0\n1\nr 0 5', 'garbage', '1\n1\nr 0 5\n']) {
      writeFileSync(join(data.dir, 'replication-offset-checkpoint'), damaged);
      const warnings: string[] = [];
      const reopened = await open(data.dir, true, warnings);
      expect(reopened.log.highWatermark).toBe(0);
      expect(warnings.join('\n')).toMatch(/replication-offset-checkpoint is unreadable/);
      crash(reopened.manager);
    }
  });
});

describe('leader epochs', () => {
  it('stamps leader appends with the current epoch, notes each new epoch, answers OffsetForLeaderEpoch', async () => {
    const { manager, log } = await open(data.dir, true);
    await log.append(makeBatch(0, 2));
    expect(epochOf(log.read(0, 1000).bytes)).toBe(-1);
    log.setLeaderEpoch(3);
    await log.append(makeBatch(1, 2));
    await log.append(makeBatch(2, 2));
    log.setLeaderEpoch(5);
    await log.append(makeBatch(3, 2));
    expect(epochOf(log.read(2, 1000).bytes)).toBe(3);
    expect(epochOf(log.read(6, 1000).bytes)).toBe(5);
    expect(log.leaderEpochs.all).toEqual([
      { epoch: 3, startOffset: 2 },
      { epoch: 5, startOffset: 6 },
    ]);
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 6 });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 3, endOffset: 6 });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, endOffset: 8 });
    expect(log.endOffsetForEpoch(6)).toEqual({ epoch: -1, endOffset: -1 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    await close(manager);
    expect(readFileSync(join(data.dir, 'r-0', 'leader-epoch-checkpoint'), 'latin1')).toBe('0\n2\n3 2\n5 6\n');
  });

  it('rebuilds a corrupt checkpoint (and a missing one in a replicated log) from the batches; drops entries past the log end', async () => {
    const { manager, log } = await open(data.dir, true);
    log.setLeaderEpoch(1);
    await log.append(makeBatch(0, 2));
    log.setLeaderEpoch(4);
    await log.append(makeBatch(1, 2));
    await close(manager);
    const path = join(data.dir, 'r-0', 'leader-epoch-checkpoint');
    const expected = [
      { epoch: 1, startOffset: 0 },
      { epoch: 4, startOffset: 2 },
    ];
    for (const damage of ['0\n3\n1 0\n4 2\n', '0\n2\n4 0\n1 2\n', 'x']) {
      writeFileSync(path, damage);
      const warnings: string[] = [];
      const reopened = await open(data.dir, true, warnings);
      expect(reopened.log.leaderEpochs.all).toEqual(expected);
      expect(warnings.join('\n')).toMatch(/corrupt; rebuilding/);
      await close(reopened.manager);
      expect(readFileSync(path, 'latin1')).toBe('0\n2\n1 0\n4 2\n');
    }
    writeFileSync(path, '0\n3\n1 0\n4 2\n9 4\n');
    const stale = await open(data.dir, true);
    expect(stale.log.leaderEpochs.all).toEqual(expected);
    await close(stale.manager);
    readFileSync(path);
    writeFileSync(path, '');
    const { rmSync } = await import('node:fs');
    rmSync(path);
    const missing = await open(data.dir, true);
    expect(missing.log.leaderEpochs.all).toEqual(expected);
  });
});

describe('appendAsFollower', () => {
  it('keeps the leader offsets, epochs and bytes; checks contiguity and CRC; updates producer state', async () => {
    const leader = await open(leaderData.dir, true);
    leader.log.setLeaderEpoch(2);
    for (let tag = 0; tag < 10; tag++) await leader.log.append(makeBatch(tag, 1 + (tag % 3), 40));
    const follower = await open(data.dir, true);
    const fetched = leader.log.read(0, 300);
    const result = await follower.log.appendAsFollower(fetched.bytes);
    expect(result.baseOffset).toBe(0);
    expect(result.lastOffset).toBe(batchesOf(fetched.bytes).at(-1)!.lastOffset);
    while (follower.log.logEndOffset < leader.log.logEndOffset) {
      await follower.log.appendAsFollower(leader.log.read(follower.log.logEndOffset, 300).bytes);
    }
    expect(allBytes(follower.log).equals(allBytes(leader.log))).toBe(true);
    expect(follower.log.segmentCount).toBeGreaterThan(1);
    expect(follower.log.leaderEpochs.all).toEqual([{ epoch: 2, startOffset: 0 }]);
    expect(follower.log.highWatermark).toBe(0);
    follower.log.advanceHighWatermark(leader.log.logEndOffset);
    expect(follower.log.highWatermark).toBe(leader.log.logEndOffset);

    // A gap, a replay and a bad CRC are refused and nothing is written.
    const end = follower.log.logEndOffset;
    await leader.log.append(makeBatch(50, 2));
    const next = leader.log.read(end, 1000).bytes;
    const gap = Buffer.from(next);
    gap.writeBigInt64BE(BigInt(end + 1), 0);
    await expect(follower.log.appendAsFollower(gap)).rejects.toMatchObject({ code: 'UNEXPECTED_APPEND_OFFSET' });
    await expect(follower.log.appendAsFollower(leader.log.read(0, 100).bytes)).rejects.toMatchObject({ code: 'UNEXPECTED_APPEND_OFFSET' });
    // A refused append leaves the epoch cache alone too: a good epoch-9 batch followed by a gap.
    const newEpoch = Buffer.from(next);
    newEpoch.writeInt32BE(9, BatchLayout.PARTITION_LEADER_EPOCH);
    await expect(follower.log.appendAsFollower(Buffer.concat([newEpoch, gap]))).rejects.toMatchObject({ code: 'UNEXPECTED_APPEND_OFFSET' });
    expect(follower.log.leaderEpochs.all).toEqual([{ epoch: 2, startOffset: 0 }]);
    const corrupt = Buffer.from(next);
    corrupt[corrupt.length - 1]! ^= 0xff;
    await expect(follower.log.appendAsFollower(corrupt)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    expect(follower.log.logEndOffset).toBe(end);
    await follower.log.appendAsFollower(next);
    expect(follower.log.logEndOffset).toBe(leader.log.logEndOffset);

    // After a restart the follower's log is the same.
    await close(follower.manager);
    const reopened = await open(data.dir, true);
    expect(allBytes(reopened.log).equals(allBytes(leader.log))).toBe(true);
  });

  it('takes control and transactional batches (a copy of what the leader has), which a client append refuses', async () => {
    const leaderBatches: Buffer[] = [];
    for (const [tag, bits] of [[0, Attributes.CONTROL | Attributes.TRANSACTIONAL], [1, Attributes.TRANSACTIONAL], [2, Attributes.CONTROL]] as const) {
      const batch = makeBatch(tag, 1);
      batch.writeInt16BE(batch.readInt16BE(BatchLayout.ATTRIBUTES) | bits, BatchLayout.ATTRIBUTES);
      batch.writeBigInt64BE(BigInt(tag), BatchLayout.BASE_OFFSET);
      batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
      leaderBatches.push(batch);
    }
    const follower = await open(data.dir, true);
    for (const batch of leaderBatches) await expect(follower.log.append(Buffer.from(batch))).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    expect(follower.log.logEndOffset).toBe(0);
    expect(await follower.log.appendAsFollower(Buffer.concat(leaderBatches))).toMatchObject({ baseOffset: 0, lastOffset: 2 });
    expect(allBytes(follower.log)).toEqual(Buffer.concat(leaderBatches));
  });

  it('updates the producer state without checking it (a later leader append of the same producer continues its sequence)', async () => {
    const leader = await open(leaderData.dir, true);
    const batch = (sequence: number): Buffer => producerBatch(7, sequence);
    await leader.log.append(batch(0));
    await leader.log.append(batch(1));
    const follower = await open(data.dir, true);
    await follower.log.appendAsFollower(leader.log.read(0, 1000).bytes);
    // The follower now leads: a duplicate of sequence 1 is answered with its offset, sequence 2 goes on.
    expect(await follower.log.append(batch(1))).toEqual({ baseOffset: 1, lastOffset: 1 });
    expect(await follower.log.append(batch(2))).toEqual({ baseOffset: 2, lastOffset: 2 });
  });
});

describe('truncateTo', () => {
  it('drops every offset at and above the target across segments; appends continue; a restart sees the same log', async () => {
    const { manager, log } = await open(data.dir, true);
    log.setLeaderEpoch(1);
    for (let tag = 0; tag < 12; tag++) {
      if (tag === 6) log.setLeaderEpoch(2);
      await log.append(makeBatch(tag, 2, 40));
    }
    log.advanceHighWatermark(log.logEndOffset);
    await close(manager);
    const reopened = await open(data.dir, true);
    const before = reopened.log.segmentCount;
    expect(before).toBeGreaterThan(2);
    reopened.log.truncateTo(9); // inside batch 8..9: the whole batch goes
    expect(reopened.log.logEndOffset).toBe(8);
    expect(reopened.log.segmentCount).toBeLessThan(before);
    expect(reopened.log.highWatermark).toBe(8);
    expect(reopened.log.leaderEpochs.all).toEqual([{ epoch: 1, startOffset: 0 }]);
    expect(batchesOf(allBytes(reopened.log)).map((b) => b.baseOffset)).toEqual([0, 2, 4, 6]);
    reopened.log.truncateTo(100); // past the end: nothing
    expect(reopened.log.logEndOffset).toBe(8);
    reopened.log.setLeaderEpoch(3);
    await reopened.log.append(makeBatch(99, 3, 40));
    expect(reopened.log.leaderEpochs.all).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 8 },
    ]);
    const image = allBytes(reopened.log);
    await close(reopened.manager);
    const again = await open(data.dir, true);
    expect(allBytes(again.log).equals(image)).toBe(true);
    expect(again.log.leaderEpochs.all).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 8 },
    ]);
    // Truncating to the very start leaves an empty log that takes appends at that offset.
    again.log.truncateTo(0);
    expect(again.log.logEndOffset).toBe(0);
    expect(again.log.leaderEpochs.all).toEqual([]);
    expect(await again.log.append(makeBatch(1, 1))).toEqual({ baseOffset: 0, lastOffset: 0 });
  });

  it('a truncation into a segment whose post-roll flush is still running keeps it usable for appends', async () => {
    const { manager, log } = await open(data.dir, true);
    while (log.segmentCount < 2) await log.append(makeBatch(log.logEndOffset, 2, 60));
    // The roll above started the closed segment's background flush; cut into it now.
    const closed = log.segments[0]!;
    expect(closed.flushing).toBe(true);
    log.truncateTo(closed.baseOffset + 2);
    expect(log.segmentCount).toBe(1);
    await closed.flushDone;
    for (let tag = 0; tag < 6; tag++) await log.append(makeBatch(100 + tag, 1, 60));
    expect(log.isOffline).toBe(false);
    const image = allBytes(log);
    await close(manager);
    const reopened = await open(data.dir, true);
    expect(allBytes(reopened.log).equals(image)).toBe(true);
  });

  it('truncateFullyAndStartAt empties the log and restarts it at an offset, across restarts', async () => {
    const { manager, log } = await open(data.dir, true);
    log.setLeaderEpoch(1);
    for (let tag = 0; tag < 8; tag++) await log.append(makeBatch(tag, 2, 60));
    log.advanceHighWatermark(10);
    log.truncateFullyAndStartAt(100);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark, log.segmentCount]).toEqual([100, 100, 100, 1]);
    expect(log.leaderEpochs.all).toEqual([]);
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    log.setLeaderEpoch(2);
    expect(await log.append(makeBatch(9, 3))).toEqual({ baseOffset: 100, lastOffset: 102 });
    expect(log.leaderEpochs.all).toEqual([{ epoch: 2, startOffset: 100 }]);
    const image = allBytes(log);
    crash(manager);
    const reopened = await open(data.dir, true);
    expect([reopened.log.logStartOffset, reopened.log.logEndOffset]).toEqual([100, 103]);
    expect(allBytes(reopened.log).equals(image)).toBe(true);
    expect(reopened.log.leaderEpochs.all).toEqual([{ epoch: 2, startOffset: 100 }]);
  });

  it('rebuilds the producer state below the cut', async () => {
    const { log } = await open(data.dir, true);
    const batch = (sequence: number): Buffer => producerBatch(9, sequence);
    for (let sequence = 0; sequence < 4; sequence++) await log.append(batch(sequence));
    log.truncateTo(2);
    // Sequences 2 and 3 were cut away: 3 is out of order again (not a duplicate), 2 is next.
    await expect(log.append(batch(3))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(await log.append(batch(2))).toEqual({ baseOffset: 2, lastOffset: 2 });
    expect(await log.append(batch(1))).toEqual({ baseOffset: 1, lastOffset: 1 });
  });
});
