// Proves the idempotent-producer state of a partition (storage/producer-state.ts): a
// duplicate of any of a producer's last 5 batches is not written and is answered with the
// original offsets; a gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is
// INVALID_PRODUCER_EPOCH and a newer one must start at sequence 0; and the state survives a
// restart, from the snapshot after a clean close and from a header replay after a crash
// (abandon, no snapshot), from a snapshot plus the headers after it (across segment rolls),
// with a damaged snapshot, or one covering more than the recovered log. Real files via LogManager.

import { join } from 'node:path';
import { readFileSync, writeFileSync, existsSync, truncateSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setProducerFields } from '../../src/records/index.js';
import { LogManager, type PartitionLog } from '../../src/storage/index.js';
import { ProducerStateTable, PRODUCER_SNAPSHOT_FILE, lastSequenceOf } from '../../src/storage/producer-state.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

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

async function open(): Promise<PartitionLog> {
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
  if (!manager.getTopic('t')) await manager.createTopic('t', 1);
  return manager.getPartition('t', 0);
}

function producerBatch(producerId: number, epoch: number, sequence: number, records = 2, tag = sequence): Buffer {
  const batch = makeBatch(tag, records);
  setProducerFields(batch, 0, producerId, epoch, sequence);
  return batch;
}

function storedCount(log: PartitionLog): number {
  return batchesOf(log.read(0, 1 << 24).bytes).length;
}

describe('sequence checks', () => {
  it('drops a duplicate of any of the last 5 batches and answers with its offsets', async () => {
    const log = await open();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await log.append(producerBatch(7, 0, i * 2)));
    expect(answers[5]).toEqual({ baseOffset: 10, lastOffset: 11 });
    // Batches 1..5 are kept: each retry is answered with the original offsets.
    for (let i = 1; i < 6; i++) expect(await log.append(producerBatch(7, 0, i * 2))).toEqual(answers[i]);
    expect(log.logEndOffset).toBe(12);
    expect(storedCount(log)).toBe(6);
    // Batch 0 is forgotten: its sequence is now out of order.
    await expect(log.append(producerBatch(7, 0, 0))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
  });

  it('refuses a gap, an older epoch, and a new epoch not starting at 0', async () => {
    const log = await open();
    await log.append(producerBatch(1, 3, 0));
    await expect(log.append(producerBatch(1, 3, 5))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    await expect(log.append(producerBatch(1, 2, 2))).rejects.toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
    await expect(log.append(producerBatch(1, 4, 2))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(await log.append(producerBatch(1, 4, 0))).toEqual({ baseOffset: 2, lastOffset: 3 });
    // Epoch 3 is fenced now.
    await expect(log.append(producerBatch(1, 3, 2))).rejects.toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
    // Other producers and non-idempotent batches are independent.
    expect(await log.append(producerBatch(2, 0, 100))).toEqual({ baseOffset: 4, lastOffset: 5 });
    expect(await log.append(makeBatch(9))).toEqual({ baseOffset: 6, lastOffset: 6 });
    expect(log.logEndOffset).toBe(7);
  });

  it('refuses a batch with a producer id that is not alone in the append', async () => {
    const log = await open();
    await expect(log.append(Buffer.concat([producerBatch(1, 0, 0), makeBatch(2)]))).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    expect(log.logEndOffset).toBe(0);
  });

  it('wraps sequences past 2^31 - 1 to 0', () => {
    expect(lastSequenceOf(0x7ffffffe, 3)).toBe(1);
    const table = new ProducerStateTable();
    table.record({ producerId: 1, epoch: 0, firstSeq: 0x7ffffffe, lastSeq: 0x7fffffff }, 0, 1);
    expect(table.check({ producerId: 1, epoch: 0, firstSeq: 0, lastSeq: 0 }, 'p')).toBeNull();
  });
});

describe('recovery', () => {
  async function fill(log: PartitionLog): Promise<void> {
    for (let i = 0; i < 3; i++) await log.append(producerBatch(5, 1, i * 2));
    await log.append(makeBatch(50));
  }

  it('keeps the state across a clean close through the snapshot', async () => {
    await fill(await open());
    await manager!.close();
    expect(existsSync(join(data.dir, 't-0', PRODUCER_SNAPSHOT_FILE))).toBe(true);
    const log = await open();
    expect(await log.append(producerBatch(5, 1, 4))).toEqual({ baseOffset: 4, lastOffset: 5 });
    expect(await log.append(producerBatch(5, 1, 6))).toEqual({ baseOffset: 7, lastOffset: 8 });
    expect(storedCount(log)).toBe(5);
  });

  it('rebuilds the state by replaying batch headers after a crash or with a damaged snapshot', async () => {
    await fill(await open());
    manager!.abandon();
    manager = undefined;
    let log = await open();
    expect(await log.append(producerBatch(5, 1, 2))).toEqual({ baseOffset: 2, lastOffset: 3 });
    await expect(log.append(producerBatch(5, 0, 6))).rejects.toMatchObject({ code: 'INVALID_PRODUCER_EPOCH' });
    await log.append(producerBatch(5, 1, 6));
    await manager!.close();
    const path = join(data.dir, 't-0', PRODUCER_SNAPSHOT_FILE);
    const snapshot = readFileSync(path);
    snapshot[snapshot.length - 1] = snapshot[snapshot.length - 1]! ^ 0xff;
    writeFileSync(path, snapshot);
    log = await open();
    expect(await log.append(producerBatch(5, 1, 6))).toEqual({ baseOffset: 7, lastOffset: 8 });
    expect(log.logEndOffset).toBe(9);
  });

  it('ignores a snapshot that covers more than the recovered log (a lost tail): the lost batch is new again', async () => {
    let log = await open();
    await fill(log);
    const lost = await log.append(producerBatch(5, 1, 6));
    expect(lost).toEqual({ baseOffset: 7, lastOffset: 8 });
    await manager!.close();
    manager = undefined;
    // The tail the snapshot covers is gone (as after a power failure with unsynced data).
    const segment = join(data.dir, 't-0', '00000000000000000000.log');
    truncateSync(segment, statSync(segment).size - 10); // tears the last batch: recovery drops it
    log = await open();
    expect(log.logEndOffset).toBe(7);
    // Not answered as a duplicate at offsets that no longer exist: written again.
    expect(await log.append(producerBatch(5, 1, 6))).toEqual({ baseOffset: 7, lastOffset: 8 });
    expect(log.logEndOffset).toBe(9);
    expect(storedCount(log)).toBe(5);
  });

  it('replays the headers after the snapshot from the middle of a segment and across rolls, after a crash', async () => {
    manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    await manager.createTopic('t', 1, { segmentBytes: 1024 });
    let log = manager.getPartition('t', 0);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await log.append(producerBatch(3, 0, i * 2)));
    log.writeCheckpoint(false); // the snapshot covers the first 10 batches
    const next = new Map([[3, 20], [4, 0]]);
    for (let i = 10; i < 30; i++) {
      const producerId = i % 2 === 0 ? 3 : 4;
      answers.push(await log.append(producerBatch(producerId, 0, next.get(producerId)!)));
      next.set(producerId, next.get(producerId)! + 2);
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    manager.abandon();
    manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
    log = manager.getPartition('t', 0);
    // Producer 3's last batch (sequence 38), an older one of producer 4 (sequence 12): duplicates.
    expect(await log.append(producerBatch(3, 0, 38))).toEqual(answers[28]);
    expect(await log.append(producerBatch(4, 0, 12))).toEqual(answers[23]);
    await expect(log.append(producerBatch(4, 0, 30))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(await log.append(producerBatch(3, 0, 40))).toEqual({ baseOffset: 60, lastOffset: 61 });
  });
});
