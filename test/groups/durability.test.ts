// Proves committed offsets are durable in the real storage: the coordinator creates the
// compacted internal topic __consumer_offsets, commits and deletions (tombstones) are
// written there, and a new LogManager + coordinator opened on the same temp directory
// rebuild exactly the same offsets, while membership is gone (members get
// UNKNOWN_MEMBER_ID and rejoin with epoch 0). Also: the same after the log cleaner
// compacted the topic, a record that does not decode is skipped with a warning, reset
// by timestamp on a real log, and describe's lag against real log end offsets.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { encodeOffsetKey } from '../../src/groups/offset-codec.js';
import { OFFSETS_TOPIC } from '../../src/groups/offset-store.js';
import { encodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import type { LogManager as LogManagerType } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { Errors } from '../../src/util/errors.js';
import { settle, SimMember } from './helpers.js';

const dirs: string[] = [];
let logs: LogManagerType | undefined;
let coordinator: GroupCoordinator | undefined;
const clock = new ManualClock();

async function open(dataDir: string): Promise<GroupCoordinator> {
  logs = await LogManager.open({ dataDir, fsync: { kind: 'always' }, clock, warn: () => {} });
  coordinator = await GroupCoordinator.open(logs, { clock, warn: () => {} });
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
  const dir = mkdtempSync(join(tmpdir(), 'spool-groups-'));
  dirs.push(dir);
  return dir;
}

describe('offsets in __consumer_offsets', () => {
  it('survive reopening the LogManager and the coordinator; membership does not', async () => {
    const dir = tempDir();
    await open(dir);
    expect(logs!.getTopic(OFFSETS_TOPIC)).toMatchObject({ internal: true, partitions: 1 });
    expect(logs!.getTopic(OFFSETS_TOPIC)!.config.cleanupPolicy).toBe('compact');
    await logs!.createTopic('orders', 3);
    const a = new SimMember(coordinator!, 'g', ['orders']);
    await settle(coordinator!, 'g', [a]);
    for (let round = 1; round <= 3; round++) {
      const result = await coordinator!.commitOffsets({
        groupId: 'g', memberId: a.memberId, memberEpoch: a.memberEpoch,
        offsets: [0, 1, 2].map((partition) => ({ topic: 'orders', partition, offset: round * 10 + partition, metadata: `r${round}` })),
      });
      expect(result.partitions.every((p) => p.errorCode === 0)).toBe(true);
    }
    await coordinator!.commitOffsets({ groupId: 'other', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 0, offset: 4 }] });
    await coordinator!.commitOffsets({ groupId: 'doomed', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 1, offset: 4 }] });
    expect((await coordinator!.deleteGroups({ groupIds: ['doomed'] })).groups[0]!.errorCode).toBe(0);
    const before = await coordinator!.fetchOffsets({ groupId: 'g' });
    await shut();

    await open(dir);
    expect(await coordinator!.fetchOffsets({ groupId: 'g' })).toEqual(before);
    expect(before.offsets.map((o) => o.offset)).toEqual([30, 31, 32]);
    expect((await coordinator!.fetchOffsets({ groupId: 'other' })).offsets.map((o) => o.offset)).toEqual([4]);
    expect((await coordinator!.listGroups({})).groups.map((g) => g.groupId)).toEqual(['g', 'other']);
    // Membership is not persisted: the old member is unknown and rejoins from scratch.
    const stale = await coordinator!.heartbeat({ groupId: 'g', memberId: a.memberId, memberEpoch: a.memberEpoch });
    expect(stale.errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    const rejoined = new SimMember(coordinator!, 'g', ['orders']);
    await settle(coordinator!, 'g', [rejoined]);
    expect(rejoined.count()).toBe(3);
  });

  it('resets by timestamp and describes lag against the real log', async () => {
    await open(tempDir());
    await logs!.createTopic('events', 1);
    const partition = logs!.getPartition('events', 0);
    for (let i = 0; i < 10; i++) await partition.append(encodeBatch([{ value: `v${i}`, timestamp: 1000 + i * 100 }]));
    const reset = await coordinator!.resetOffsets({ groupId: 'g', topic: 'events', to: { kind: 'timestamp', timestamp: 1450 } });
    expect(reset.partitions).toEqual([{ topic: 'events', partition: 0, offset: 5, errorCode: 0 }]);
    const [described] = (await coordinator!.describeGroups({ groupIds: ['g'] })).groups;
    expect(described!.state).toBe('empty');
    expect(described!.offsets).toEqual([{ topic: 'events', partition: 0, committed: 5, logEndOffset: 10, lag: 5, memberId: '' }]);
    const latest = await coordinator!.resetOffsets({ groupId: 'g', topic: 'events', to: { kind: 'latest' } });
    expect(latest.partitions[0]!.offset).toBe(10);
  });

  it('rebuild the same offsets after the log cleaner compacted __consumer_offsets', async () => {
    const dir = tempDir();
    const openSmall = async (): Promise<void> => {
      // Tiny segments so most of the offsets log is in closed segments the cleaner compacts.
      logs = await LogManager.open({ dataDir: dir, fsync: { kind: 'always' }, clock, warn: () => {}, defaults: { segmentBytes: 1024 }, backgroundTasks: false });
      coordinator = await GroupCoordinator.open(logs, { clock, warn: () => {} });
    };
    await openSmall();
    await logs!.createTopic('orders', 4);
    const expected = new Map<string, number>();
    for (let round = 0; round < 40; round++) {
      const groupId = `g${round % 3}`;
      const partition = round % 4;
      await coordinator!.commitOffsets({ groupId, memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition, offset: round }] });
      expected.set(`${groupId}/${partition}`, round);
    }
    await coordinator!.deleteGroups({ groupIds: ['g2'] });
    for (const key of [...expected.keys()]) if (key.startsWith('g2/')) expected.delete(key);
    const before = logs!.getPartition(OFFSETS_TOPIC, 0).sizeBytes;
    await (logs as unknown as { runTask(name: string): Promise<void> }).runTask('log-cleaner');
    expect(logs!.getPartition(OFFSETS_TOPIC, 0).sizeBytes).toBeLessThan(before);
    await shut();
    await openSmall();
    const actual = new Map<string, number>();
    for (const groupId of ['g0', 'g1', 'g2']) {
      for (const o of (await coordinator!.fetchOffsets({ groupId })).offsets) actual.set(`${groupId}/${o.partition}`, o.offset);
    }
    expect(actual).toEqual(expected);
  });

  it('skips (with a warning) an offsets record that does not decode, keeping the rest', async () => {
    const dir = tempDir();
    await open(dir);
    await logs!.createTopic('orders', 1);
    await coordinator!.commitOffsets({ groupId: 'g', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 0, offset: 8 }] });
    const bad = encodeOffsetKey({ groupId: 'h', topic: 'orders', partition: 0 });
    await logs!.getPartition(OFFSETS_TOPIC, 0).append(encodeBatch([{ key: bad, value: Buffer.from([9, 9, 9]) }]));
    await shut();
    const warnings: string[] = [];
    logs = await LogManager.open({ dataDir: dir, fsync: { kind: 'always' }, clock, warn: () => {} });
    coordinator = await GroupCoordinator.open(logs, { clock, warn: (line) => warnings.push(line) });
    expect((await coordinator.fetchOffsets({ groupId: 'g' })).offsets.map((o) => o.offset)).toEqual([8]);
    expect((await coordinator.listGroups({})).groups.map((g) => g.groupId)).toEqual(['g']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped/);
  });
});

