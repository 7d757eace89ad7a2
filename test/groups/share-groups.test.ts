// Proves the share kind of the coordinator on real storage with a manual clock:
// acquisition returns the raw batches covering the acquired ranges, the records of one
// partition are split among members, an answered acknowledgement survives a reopen of
// storage + coordinator (from __share_group_state) while acquired-but-unanswered records
// come back available with their delivery count, lock expiry (the coordinator's timer
// hook) hands records to another member, a rejected / over-the-limit record lands in
// `<group>.dlq` with its original key, value, headers, timestamp and the provenance
// headers, a group id is of one kind at a time (share vs consumer), and the state record
// codec has the documented bytes.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { DlqHeaders } from '../../src/groups/share-dead-letter.js';
import { AcknowledgeType, ShareRecordState } from '../../src/groups/share-partition.js';
import { decodeShareStateValue, encodeShareStateValue } from '../../src/groups/share-state-codec.js';
import { SHARE_STATE_TOPIC } from '../../src/groups/share-state-store.js';
import { decodeBatch, encodeBatch, forEachBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import type { LogManager as LogManagerType } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';

const dirs: string[] = [];
let logs: LogManagerType | undefined;
let coordinator: GroupCoordinator | undefined;
const clock = new ManualClock();

async function open(dataDir: string): Promise<GroupCoordinator> {
  logs = await LogManager.open({ dataDir, fsync: { kind: 'always' }, clock, warn: () => {} });
  coordinator = await GroupCoordinator.open(logs, { clock, warn: () => {}, shareLockDurationMs: 1_000, shareDeliveryLimit: 5 });
  return coordinator;
}

async function shut(): Promise<void> {
  await coordinator?.close();
  await logs?.close();
  coordinator = undefined;
  logs = undefined;
}

afterEach(async () => {
  await shut();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-share-'));
  dirs.push(dir);
  return dir;
}

/** Topic t with one partition: 3 batches of 4 records (values v0..v11). */
async function fill(): Promise<void> {
  await logs!.createTopic('t', 1);
  for (let batch = 0; batch < 3; batch++) {
    const records = Array.from({ length: 4 }, (_, i) => ({
      key: `k${batch * 4 + i}`,
      value: `v${batch * 4 + i}`,
      headers: [['h', 'x']] as Array<[string, string]>,
      timestamp: 1_000 + batch * 4 + i,
    }));
    await logs!.getPartition('t', 0).append(encodeBatch(records));
  }
}

const fetchSpec = (memberId: string, maxRecords: number) => ({
  groupId: 'g',
  memberId,
  partitions: [{ topic: 't', partition: 0 }],
  maxRecords,
  maxBytes: 1 << 20,
});

function offsetsIn(records: Buffer | null): number[] {
  const offsets: number[] = [];
  if (records === null) return offsets;
  forEachBatch(records, (_header, position) => {
    for (const record of decodeBatch(records, position).records) offsets.push(record.offset);
  });
  return offsets;
}

describe('share groups in the coordinator', () => {
  it('splits one partition among members, with the covering batches', async () => {
    const c = await open(tempDir());
    await fill();
    const a = c.shares.acquire(fetchSpec('a', 6)).partitions[0]!;
    expect(a.acquired).toEqual([{ firstOffset: 0, lastOffset: 5, deliveryCount: 1 }]);
    expect(offsetsIn(a.records)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const b = c.shares.acquire(fetchSpec('b', 100)).partitions[0]!;
    expect(b.acquired).toEqual([{ firstOffset: 6, lastOffset: 11, deliveryCount: 1 }]);
    expect(offsetsIn(b.records)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(c.shares.acquire(fetchSpec('c', 100)).partitions[0]!.acquired).toEqual([]);
  });

  it('reads about what maxRecords records take, not the request maxBytes', async () => {
    const c = await open(tempDir());
    await logs!.createTopic('t', 1);
    const value = 'x'.repeat(100);
    for (let batch = 0; batch < 40; batch++) {
      await logs!.getPartition('t', 0).append(encodeBatch(Array.from({ length: 100 }, () => ({ key: null, value, timestamp: 1_000 }))));
    }
    const log = logs!.getPartition('t', 0);
    const readBytes: number[] = [];
    const read = log.read.bind(log);
    log.read = (offset: number, maxBytes: number) => (readBytes.push(maxBytes), read(offset, maxBytes));
    const first = c.shares.acquire(fetchSpec('a', 10)).partitions[0]!;
    expect(first.acquired).toEqual([{ firstOffset: 0, lastOffset: 9, deliveryCount: 1 }]);
    const second = c.shares.acquire(fetchSpec('a', 500)).partitions[0]!;
    expect(second.acquired).toEqual([{ firstOffset: 10, lastOffset: 509, deliveryCount: 1 }]);
    // Before any read: 64 KiB, not the request's 1 MiB; then 500 x ~110 B x 1.25.
    expect(readBytes[0]).toBe(64 * 1024);
    expect(readBytes[1]).toBeGreaterThan(500 * 100);
    expect(readBytes[1]).toBeLessThan(500 * 130 * 1.25);
  });

  it('keeps answered acknowledgements across a restart; unanswered acquisitions come back', async () => {
    const dir = tempDir();
    const c = await open(dir);
    await fill();
    c.shares.acquire(fetchSpec('a', 8));
    const result = await c.shares.acknowledge({
      groupId: 'g',
      memberId: 'a',
      partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 2, type: AcknowledgeType.ACCEPT }, { firstOffset: 5, lastOffset: 5, type: AcknowledgeType.ACCEPT }] }],
    });
    expect(result.partitions[0]!.errorCode).toBe(0);
    await shut();
    const reopened = await open(dir);
    expect(logs!.getTopic(SHARE_STATE_TOPIC)?.internal).toBe(true);
    expect(reopened.shares.describe('g')?.partitions[0]).toMatchObject({ startOffset: 3, acquired: 0 });
    const again = reopened.shares.acquire(fetchSpec('b', 100)).partitions[0]!;
    expect(again.acquired).toEqual([
      { firstOffset: 3, lastOffset: 4, deliveryCount: 2 },
      { firstOffset: 6, lastOffset: 7, deliveryCount: 2 },
      { firstOffset: 8, lastOffset: 11, deliveryCount: 1 },
    ]);
  });

  it('lock expiry hands the records to another member and refuses the late acknowledgement', async () => {
    const c = await open(tempDir());
    await fill();
    c.shares.acquire(fetchSpec('a', 2));
    clock.advance(1_000);
    c.shares.runLockExpiry();
    expect(c.shares.acquire(fetchSpec('b', 2)).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
    const late = await c.shares.acknowledge({
      groupId: 'g',
      memberId: 'a',
      partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 1, type: AcknowledgeType.ACCEPT }] }],
    });
    expect(late.partitions[0]!.errorCode).toBe(Errors.INVALID_RECORD_STATE.code);
  });

  it('dead-letters a poison record after exactly the delivery limit, with provenance', async () => {
    const c = await open(tempDir());
    await fill();
    for (let delivery = 1; delivery <= 5; delivery++) {
      const got = c.shares.acquire(fetchSpec('a', 1)).partitions[0]!;
      expect(got.acquired).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: delivery }]);
      await c.shares.acknowledge({
        groupId: 'g',
        memberId: 'a',
        partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, error: `boom ${delivery}` }] }],
      });
    }
    const dlq = logs!.getPartition('g.dlq', 0);
    expect(dlq.logEndOffset).toBe(1);
    const { records } = decodeBatch(dlq.read(0, 1 << 20).bytes, 0);
    const headers = Object.fromEntries(records[0]!.headers.map(([name, value]) => [name, value.toString()]));
    expect(records[0]).toMatchObject({ timestamp: 1_000 });
    expect(records[0]!.key?.toString()).toBe('k0');
    expect(records[0]!.value?.toString()).toBe('v0');
    expect(headers).toEqual({
      h: 'x',
      [DlqHeaders.TOPIC]: 't',
      [DlqHeaders.PARTITION]: '0',
      [DlqHeaders.OFFSET]: '0',
      [DlqHeaders.DELIVERY_COUNT]: '5',
      [DlqHeaders.GROUP]: 'g',
      [DlqHeaders.ERROR]: 'boom 5',
    });
    // Rejected records go at once.
    c.shares.acquire(fetchSpec('a', 1));
    await c.shares.acknowledge({
      groupId: 'g',
      memberId: 'a',
      partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 1, lastOffset: 1, type: AcknowledgeType.REJECT, error: 'bad' }] }],
    });
    expect(dlq.logEndOffset).toBe(2);
    expect(c.shares.describe('g')?.partitions[0]?.startOffset).toBe(2);
  });

  it('acquires nothing for a member that left (its parked fetch may outlive it)', async () => {
    const c = await open(tempDir());
    await fill();
    c.shares.acquire(fetchSpec('a', 2));
    await c.shares.leave('g', 'a');
    expect(c.shares.acquire(fetchSpec('a', 2)).errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    expect(c.shares.acquire(fetchSpec('b', 2)).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
  });

  it('bounds the member table and the member id', async () => {
    const c = await open(tempDir());
    await fill();
    expect(c.shares.acquire(fetchSpec('', 1)).errorCode).toBe(Errors.INVALID_REQUEST.code);
    expect(c.shares.acquire(fetchSpec('m'.repeat(256), 1)).errorCode).toBe(Errors.INVALID_REQUEST.code);
    for (let member = 0; member < 1_000; member++) expect(c.shares.acquire(fetchSpec(`m${member}`, 0)).errorCode).toBe(0);
    expect(c.shares.acquire(fetchSpec('one-more', 1)).errorCode).toBe(Errors.GROUP_MAX_SIZE_REACHED.code);
    expect(c.shares.acquire(fetchSpec('m7', 1)).errorCode).toBe(0);
  });

  it('refuses a share group id held by a consumer group with members', async () => {
    const c = await open(tempDir());
    await fill();
    await c.heartbeat({ groupId: 'g', memberId: '', memberEpoch: 0, topics: ['t'] });
    expect(c.shares.acquire(fetchSpec('a', 1)).errorCode).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL.code);
  });

  it('refuses a consumer join to an id used by a share group until its idle members are forgotten', async () => {
    const c = await open(tempDir());
    await fill();
    c.shares.acquire({ ...fetchSpec('a', 1), groupId: 's' });
    await c.shares.acknowledge({ groupId: 's', memberId: 'a', partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.ACCEPT }] }] });
    const join = await c.heartbeat({ groupId: 's', memberId: '', memberEpoch: 0, topics: ['t'] });
    expect(join.errorCode).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL.code);
    clock.advance(60_000);
    expect(c.shares.memberCount('s')).toBe(0);
    expect((await c.heartbeat({ groupId: 's', memberId: '', memberEpoch: 0, topics: ['t'] })).errorCode).toBe(0);
  });
});

describe('share state record codec', () => {
  it('encodes the documented value bytes and round-trips', () => {
    const value = {
      startOffset: 2 ** 32 + 5,
      runs: [
        { firstOffset: 2 ** 32 + 5, lastOffset: 2 ** 32 + 6, state: ShareRecordState.AVAILABLE, deliveryCount: 1 },
        { firstOffset: 2 ** 32 + 7, lastOffset: 2 ** 32 + 7, state: ShareRecordState.ACKNOWLEDGED, deliveryCount: 3 },
      ],
    };
    const bytes = encodeShareStateValue(value);
    expect(bytes.toString('hex')).toBe(['01', '0000000100000005', '00000002', '00000002', '00', '01', '00000001', '02', '03'].join(''));
    expect(decodeShareStateValue(bytes)).toEqual(value);
    expect(() => decodeShareStateValue(bytes.subarray(0, bytes.length - 1))).toThrow(/share state/);
  });
});
