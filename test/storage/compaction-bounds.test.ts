// Proves, with small segments and real files, the cleaner's bounds and what it keeps for
// idempotent producers (compaction.ts): a record at or above the high watermark never
// shadows an older record of its key (so a follower's truncation to its HW cannot lose the
// key), segments past the recovery point (a closed segment still being flushed) are left
// alone, a truncation during a pass ends it, and an idempotent producer whose every record
// was compacted away keeps its last batches (with no records): after a crash with no
// producer snapshot, a retry of its last batch is still answered as a duplicate with the
// original offsets, and its next sequence is accepted. A follower takes such a batch (no
// records, its offset range kept) but still refuses one that takes no offsets.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchLayout, CRC_START, crc32c, decodeBatch, encodeBatch, filterBatch, forEachBatch, setProducerFields } from '../../src/records/index.js';
import { compactPartition } from '../../src/storage/compaction.js';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import { PRODUCER_SNAPSHOT_FILE } from '../../src/storage/producer-state.js';
import { ManualClock } from '../../src/util/clock.js';
import { tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
let manager: LogManager | undefined;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  data.cleanup();
});

async function open(clock: ManualClock, replicated: boolean): Promise<PartitionLogImpl> {
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false, replicated });
  if (!manager.getTopic('c')) await manager.createTopic('c', 1, { cleanupPolicy: 'compact', segmentBytes: 1 << 20 });
  return manager.getPartition('c', 0) as PartitionLogImpl;
}

/** Every record in the log: offset, key, value. */
function allRecords(log: PartitionLogImpl): Array<{ offset: number; key: string | null; value: string | null }> {
  const out: Array<{ offset: number; key: string | null; value: string | null }> = [];
  // A read returns batches of one segment: read on from the end of the last batch.
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const { bytes } = log.read(offset, 1 << 24);
    if (bytes.length === 0) break;
    forEachBatch(bytes, (header, position) => {
      for (const record of decodeBatch(bytes, position).records) out.push({ offset: record.offset, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null });
      offset = header.baseOffset + header.lastOffsetDelta + 1;
    });
  }
  return out;
}

async function appendAndRoll(log: PartitionLogImpl, records: Array<{ key: string; value: string }>): Promise<void> {
  for (const record of records) await log.append(encodeBatch([record]));
  log.roll();
  await Promise.all(log.segments.map((segment) => segment.flushDone));
}

describe('cleaner bounds', () => {
  it('does not let a record above the high watermark shadow an older one (a truncation to the HW keeps the key)', async () => {
    const clock = new ManualClock();
    const log = await open(clock, true);
    await appendAndRoll(log, [{ key: 'k', value: 'committed' }, { key: 'other', value: 'o' }]);
    log.advanceHighWatermark(2);
    // Not yet replicated: a new leader may truncate it away.
    await appendAndRoll(log, [{ key: 'k', value: 'uncommitted' }, { key: 'other', value: 'o2' }]);
    const result = await compactPartition(log, nodeStorageFs, clock.nowMs());
    expect(result.recordsRemoved).toBe(0);
    log.truncateTo(log.highWatermark);
    expect(allRecords(log)).toEqual([
      { offset: 0, key: 'k', value: 'committed' },
      { offset: 1, key: 'other', value: 'o' },
    ]);
    // Once the HW passes the newer records, the older ones go.
    await appendAndRoll(log, [{ key: 'k', value: 'committed-2' }]);
    log.advanceHighWatermark(log.logEndOffset);
    await compactPartition(log, nodeStorageFs, clock.nowMs());
    expect(allRecords(log)).toEqual([
      { offset: 1, key: 'other', value: 'o' },
      { offset: 2, key: 'k', value: 'committed-2' },
    ]);
  });

  it('leaves segments at or past the recovery point alone', async () => {
    const clock = new ManualClock();
    const log = await open(clock, false);
    await appendAndRoll(log, [{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }]);
    await appendAndRoll(log, [{ key: 'x', value: 'x' }]);
    await appendAndRoll(log, [{ key: 'k', value: 'c' }]);
    // The second segment's post-roll fsync has not completed: the recovery point is its
    // base, and the third segment (durable, but past it) may not shadow anything either.
    log.segments[1]!.flushing = true;
    expect(log.recoveryPoint()).toBe(2);
    await compactPartition(log, nodeStorageFs, clock.nowMs());
    expect(allRecords(log).map((r) => r.value)).toEqual(['b', 'x', 'c']);
    log.segments[1]!.flushing = false;
    await compactPartition(log, nodeStorageFs, clock.nowMs());
    expect(allRecords(log).map((r) => r.value)).toEqual(['x', 'c']);
  });

  it('ends a pass when the log is truncated meanwhile', async () => {
    const clock = new ManualClock();
    const log = await open(clock, true);
    await appendAndRoll(log, [{ key: 'k', value: 'a' }]);
    await appendAndRoll(log, [{ key: 'k', value: 'b' }]);
    log.advanceHighWatermark(log.logEndOffset);
    const pass = compactPartition(log, nodeStorageFs, clock.nowMs());
    log.truncateTo(1);
    expect(await pass).toMatchObject({ segmentsCleaned: 0, recordsRemoved: 0 });
    expect(allRecords(log).map((r) => r.value)).toEqual(['a']);
  });
});

describe('idempotent producers across compaction and a crash', () => {
  it('answers a retry of the last batch as a duplicate after its records were compacted away', async () => {
    const clock = new ManualClock();
    let log = await open(clock, false);
    const producerId = 42;
    const sent: Array<{ bytes: Buffer; baseOffset: number; lastOffset: number }> = [];
    for (let sequence = 0; sequence < 8; sequence += 2) {
      const bytes = Buffer.from(encodeBatch([{ key: 'k', value: `v${sequence}` }, { key: 'j', value: `w${sequence}` }]));
      setProducerFields(bytes, 0, producerId, 0, sequence);
      const result = await log.append(Buffer.from(bytes));
      sent.push({ bytes, ...result });
    }
    log.roll();
    // A plain producer overwrites both keys: every record of producer 42 is now shadowed.
    await appendAndRoll(log, [{ key: 'k', value: 'plain' }, { key: 'j', value: 'plain' }]);
    const result = await compactPartition(log, nodeStorageFs, clock.nowMs());
    expect(result.recordsRemoved).toBe(8);
    // Its batches stay, with no records, keeping their offsets and sequences.
    const headers: Array<{ baseOffset: number; lastOffsetDelta: number; producerId: number; baseSequence: number; recordCount: number }> = [];
    forEachBatch(log.read(0, 1 << 20).bytes, (header) => headers.push({ baseOffset: header.baseOffset, lastOffsetDelta: header.lastOffsetDelta, producerId: header.producerId, baseSequence: header.baseSequence, recordCount: header.recordCount }));
    expect(headers.slice(0, 4)).toEqual(sent.map((s, i) => ({ baseOffset: s.baseOffset, lastOffsetDelta: 1, producerId, baseSequence: i * 2, recordCount: 0 })));
    expect(allRecords(log).map((r) => r.value)).toEqual(['plain', 'plain']);

    // kill -9 with no producer snapshot: the state comes from the cleaned batch headers.
    manager!.abandon();
    rmSync(join(log.dir, PRODUCER_SNAPSHOT_FILE), { force: true });
    log = await open(clock, false);
    expect(manager!.recoveryReports).toEqual([]);
    const last = sent.at(-1)!;
    const logEnd = log.logEndOffset;
    expect(await log.append(Buffer.from(last.bytes))).toEqual({ baseOffset: last.baseOffset, lastOffset: last.lastOffset });
    expect(log.logEndOffset).toBe(logEnd);
    const next = Buffer.from(encodeBatch([{ key: 'k', value: 'next' }]));
    setProducerFields(next, 0, producerId, 0, 8);
    expect(await log.append(next)).toEqual({ baseOffset: logEnd, lastOffset: logEnd });
  });

  it('a follower takes a batch with no records that keeps its offsets, and refuses one that takes none', async () => {
    const clock = new ManualClock();
    const log = await open(clock, true);
    const empty = Buffer.from(encodeBatch([{ key: 'k', value: 'v' }, { key: 'k', value: 'w' }]));
    setProducerFields(empty, 0, 9, 0, 0);
    const kept = filterBatch(empty, () => false, { retainEmpty: true, maxUncompressedBytes: 1 << 20 }).batch!;
    expect(await log.appendAsFollower(Buffer.from(kept))).toEqual({ baseOffset: 0, lastOffset: 1 });
    expect(log.producerState.batchesOf(9)).toEqual([{ firstSeq: 0, lastSeq: 1, baseOffset: 0, lastOffset: 1 }]);
    const offsetless = Buffer.from(kept);
    offsetless.writeBigInt64BE(2n, 0);
    offsetless.writeInt32BE(-1, BatchLayout.LAST_OFFSET_DELTA);
    offsetless.writeUInt32BE(crc32c(offsetless, CRC_START, offsetless.length), BatchLayout.CRC);
    await expect(log.appendAsFollower(offsetless)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    expect(log.logEndOffset).toBe(2);
  });
});
