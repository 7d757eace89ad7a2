// Proves the admin side of share groups in the coordinator, on real storage with a manual
// clock: resetOffsets moves a share group's start offset (earliest, latest, an offset
// inside the in-flight window keeps the records above it, a time) only while the group
// has no members (NON_EMPTY_GROUP), writes it to __share_group_state (it survives a
// reopen) and leaves __consumer_offsets alone; listGroups shows share groups with kind
// 'share', their state and member count, next to consumer groups; per-group configs (lock
// duration, delivery limit): two groups with different lock durations expire independently
// (manual clock), a group's delivery limit dead-letters after its own count, the config
// survives a reopen (golden config bytes), and a member's first-join config does not
// override one already set.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { AcknowledgeType } from '../../src/groups/share-partition.js';
import { decodeShareGroupConfig, encodeShareGroupConfig } from '../../src/groups/share-state-codec.js';
import { encodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import type { LogManager as LogManagerType } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors, isSpoolError } from '../../src/util/errors.js';

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
  const dir = mkdtempSync(join(tmpdir(), 'spool-share-admin-'));
  dirs.push(dir);
  return dir;
}

/** Topic t, 2 partitions, each 12 records in 3 batches (timestamps 1000 + offset). */
async function fill(): Promise<void> {
  await logs!.createTopic('t', 2);
  for (const partition of [0, 1]) {
    for (let batch = 0; batch < 3; batch++) {
      const records = Array.from({ length: 4 }, (_, i) => ({ value: `v${batch * 4 + i}`, timestamp: 1_000 + batch * 4 + i }));
      await logs!.getPartition('t', partition).append(encodeBatch(records));
    }
  }
}

const fetchSpec = (memberId: string, maxRecords: number, partition = 0) => ({
  groupId: 'g',
  memberId,
  partitions: [{ topic: 't', partition }],
  maxRecords,
  maxBytes: 1 << 20,
});

const accept = (memberId: string, firstOffset: number, lastOffset: number) => ({
  groupId: 'g',
  memberId,
  partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset, lastOffset, type: AcknowledgeType.ACCEPT }] }],
});

describe('share group reset', () => {
  it('refuses while a member is active, then moves the start offset durably', async () => {
    const dir = tempDir();
    const c = await open(dir);
    await fill();
    c.shares.acquire(fetchSpec('a', 4));
    await c.shares.acknowledge(accept('a', 0, 1));
    const busy = await c.resetOffsets({ groupId: 'g', topic: 't', to: { kind: 'latest' } });
    expect(busy.errorCode).toBe(Errors.NON_EMPTY_GROUP.code);
    await c.shares.leave('g', 'a');

    const reset = await c.resetOffsets({ groupId: 'g', topic: 't', partitions: [0], to: { kind: 'offset', offset: 9 } });
    expect(reset).toEqual({ errorCode: 0, partitions: [{ topic: 't', partition: 0, offset: 9, errorCode: 0 }] });
    expect(c.shares.describe('g')?.partitions[0]).toMatchObject({ startOffset: 9, inFlight: 0 });
    // Share groups keep no committed offsets: __consumer_offsets is untouched.
    expect((await c.fetchOffsets({ groupId: 'g' })).offsets).toEqual([]);
    await shut();

    const reopened = await open(dir);
    expect(reopened.shares.describe('g')?.partitions[0]).toMatchObject({ startOffset: 9 });
    expect(reopened.shares.acquire(fetchSpec('b', 100)).partitions[0]!.acquired).toEqual([{ firstOffset: 9, lastOffset: 11, deliveryCount: 1 }]);
  });

  it('keeps the in-flight records above a new start inside the window, drops those below', async () => {
    const c = await open(tempDir());
    await fill();
    c.shares.acquire(fetchSpec('a', 8));
    await c.shares.acknowledge(accept('a', 5, 5));
    await c.shares.leave('g', 'a'); // 0..4 and 6..7 released after 1 delivery
    await c.resetOffsets({ groupId: 'g', topic: 't', partitions: [0], to: { kind: 'offset', offset: 3 } });
    expect(c.shares.describe('g')?.partitions[0]).toMatchObject({ startOffset: 3, inFlight: 5 });
    expect(c.shares.acquire(fetchSpec('b', 100)).partitions[0]!.acquired).toEqual([
      { firstOffset: 3, lastOffset: 4, deliveryCount: 2 },
      { firstOffset: 6, lastOffset: 7, deliveryCount: 2 },
      { firstOffset: 8, lastOffset: 11, deliveryCount: 1 },
    ]);
  });

  it('goes back to earliest (everything in flight dropped), to latest, and to a time, per partition', async () => {
    const c = await open(tempDir());
    await fill();
    c.shares.acquire(fetchSpec('a', 12));
    await c.shares.acknowledge(accept('a', 0, 11));
    await c.shares.leave('g', 'a');
    const earliest = await c.resetOffsets({ groupId: 'g', topic: 't', to: { kind: 'earliest' } });
    expect(earliest.partitions.map((p) => p.offset)).toEqual([0, 0]);
    expect(c.shares.acquire(fetchSpec('b', 100)).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 11, deliveryCount: 1 }]);
    await c.shares.leave('g', 'b');
    const latest = await c.resetOffsets({ groupId: 'g', topic: 't', partitions: [1], to: { kind: 'latest' } });
    expect(latest.partitions).toEqual([{ topic: 't', partition: 1, offset: 12, errorCode: 0 }]);
    expect(c.shares.acquire(fetchSpec('c', 100, 1)).partitions[0]!.acquired).toEqual([]);
    await c.shares.leave('g', 'c');
    const atTime = await c.resetOffsets({ groupId: 'g', topic: 't', partitions: [1], to: { kind: 'timestamp', timestamp: 1_010 } });
    expect(atTime.partitions[0]!.offset).toBe(10);
    const dry = await c.resetOffsets({ groupId: 'g', topic: 't', partitions: [1], to: { kind: 'earliest' }, dryRun: true });
    expect(dry.partitions[0]!.offset).toBe(0);
    expect(c.shares.describe('g')?.partitions.find((p) => p.partition === 1)).toMatchObject({ startOffset: 10 });
  });
});

describe('listGroups with share groups', () => {
  it('lists share groups with kind share, state and member count, beside consumer groups', async () => {
    const c = await open(tempDir());
    await fill();
    c.shares.acquire(fetchSpec('a', 1));
    c.shares.acquire(fetchSpec('b', 1));
    c.shares.acquire({ ...fetchSpec('x', 1), groupId: 'idle' });
    await c.shares.leave('idle', 'x');
    await c.heartbeat({ groupId: 'plain', memberId: '', memberEpoch: 0, topics: ['t'] });
    const { groups } = await c.listGroups();
    expect(groups.find((g) => g.groupId === 'g')).toEqual({ groupId: 'g', state: 'stable', members: 2, kind: 'share' });
    expect(groups.find((g) => g.groupId === 'idle')).toEqual({ groupId: 'idle', state: 'empty', members: 0, kind: 'share' });
    expect(groups.find((g) => g.groupId === 'plain')?.kind).toBeUndefined();
    expect(groups.map((g) => g.groupId)).toEqual(['g', 'idle', 'plain']);
  });
});

describe('per-group share config', () => {
  it('encodes the documented config value bytes (version 2, 0 = unset)', () => {
    expect(encodeShareGroupConfig({ lockDurationMs: 5_000, deliveryLimit: 3 }).toString('hex')).toBe('020000138803');
    expect(encodeShareGroupConfig({ deliveryLimit: 4 }).toString('hex')).toBe('020000000004');
    expect(decodeShareGroupConfig(Buffer.from('020000000004', 'hex'))).toEqual({ deliveryLimit: 4 });
  });

  const spec = (groupId: string, memberId: string, maxRecords: number) => ({ ...fetchSpec(memberId, maxRecords), groupId });

  it('two groups with different lock durations expire independently', async () => {
    const c = await open(tempDir()); // broker-wide lock: 1 s
    await fill();
    await c.shares.configure('slow', { lockDurationMs: 5_000 });
    expect(c.shares.configOf('slow')).toEqual({ lockDurationMs: 5_000, deliveryLimit: 5 });
    expect(c.shares.configOf('fast')).toEqual({ lockDurationMs: 1_000, deliveryLimit: 5 });
    c.shares.acquire(spec('fast', 'a', 2));
    c.shares.acquire(spec('slow', 'a', 2));
    clock.advance(1_000);
    c.shares.runLockExpiry();
    expect(c.shares.acquire(spec('fast', 'b', 2)).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
    expect(c.shares.acquire(spec('slow', 'b', 2)).partitions[0]!.acquired).toEqual([{ firstOffset: 2, lastOffset: 3, deliveryCount: 1 }]);
    clock.advance(4_000);
    c.shares.runLockExpiry();
    expect(c.shares.acquire(spec('slow', 'c', 2)).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
  });

  it('dead-letters after the group\'s own delivery limit; the config survives a reopen; a first join does not override it', async () => {
    const dir = tempDir();
    const c = await open(dir);
    await fill();
    await c.shares.configure('g', { deliveryLimit: 2, lockDurationMs: 2_000 });
    expect(await c.shares.configure('g', { deliveryLimit: 9 }, true)).toEqual({ deliveryLimit: 2, lockDurationMs: 2_000 });
    const refused = await c.shares.configure('g', { deliveryLimit: 11 }).catch((error: unknown) => error);
    expect(isSpoolError(refused, Errors.INVALID_REQUEST)).toBe(true);
    await shut();
    const reopened = await open(dir);
    expect(reopened.shares.configOf('g')).toEqual({ lockDurationMs: 2_000, deliveryLimit: 2 });
    const release = (memberId: string) => ({
      groupId: 'g',
      memberId,
      partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE }] }],
    });
    reopened.shares.acquire(fetchSpec('a', 1));
    await reopened.shares.acknowledge(release('a'));
    reopened.shares.acquire(fetchSpec('a', 1));
    await reopened.shares.acknowledge(release('a')); // second delivery = the limit: archived
    expect(logs!.getPartition('g.dlq', 0).logEndOffset).toBe(1);
    expect(reopened.shares.describe('g')?.partitions[0]).toMatchObject({ startOffset: 1 });
  });
});
