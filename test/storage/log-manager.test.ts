// Proves the log manager's topic lifecycle on real files: create (validated name,
// partitions and config; metadata written atomically with a format version), list/get,
// getPartition errors, reopen loads topics with their config, delete removes directories
// and metadata and frees the name, and at start-up an interrupted create or delete
// (partition directories without metadata, `.deleted` directories) is cleaned up.
// Also: interval flush and checkpoint tasks run, and bad names never touch the disk.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_CONFIG, LogManager } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { makeBatch, tempDataDir } from './helpers.js';

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

function open(): Promise<LogManager> {
  return LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, defaults: { retentionMs: 123_456 } });
}

describe('LogManager topics', () => {
  it('creates, lists, reopens and deletes topics', async () => {
    const manager = await open();
    const info = await manager.createTopic('orders', 3, { segmentBytes: 4096 });
    expect(info).toEqual({ name: 'orders', partitions: 3, internal: false, config: { ...DEFAULT_TOPIC_CONFIG, retentionMs: 123_456, segmentBytes: 4096 } });
    await manager.createTopic('__consumer_offsets', 1, { cleanupPolicy: 'compact' }, true);
    expect(manager.listTopics().map((t) => t.name)).toEqual(['__consumer_offsets', 'orders']);
    expect(existsSync(join(data.dir, 'orders-2', '00000000000000000000.log'))).toBe(true);
    const meta = JSON.parse(readFileSync(join(data.dir, 'meta', 'topics', 'orders.json'), 'utf8'));
    expect(meta).toMatchObject({ format: 1, name: 'orders', partitions: 3, internal: false, config: { 'segment.bytes': 4096 } });
    await expect(manager.createTopic('orders', 1)).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
    await expect(manager.createTopic('x', 0)).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await expect(manager.createTopic('x', 1.5)).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await expect(manager.createTopic('x', 1, { segmentBytes: 1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(() => manager.getPartition('nope', 0)).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOPIC' }));
    expect(() => manager.getPartition('orders', 3)).toThrow(expect.objectContaining({ code: 'UNKNOWN_PARTITION' }));
    await manager.getPartition('orders', 1).append(makeBatch(1));
    await manager.close();
    await manager.close();

    const reopened = await open();
    expect(reopened.getTopic('orders')).toEqual(info);
    expect(reopened.getTopic('__consumer_offsets')?.internal).toBe(true);
    expect(reopened.getPartition('orders', 1).logEndOffset).toBe(1);
    const log = reopened.getPartition('orders', 0);
    await reopened.deleteTopic('orders');
    expect(reopened.getTopic('orders')).toBeUndefined();
    await expect(log.append(makeBatch(2))).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await expect(reopened.deleteTopic('orders')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    // The directories are renamed away at once and removed in the background (close() waits for it).
    expect(readdirSync(data.dir).filter((name) => /^orders-\d+$/.test(name))).toEqual([]);
    expect(existsSync(join(data.dir, 'meta', 'topics', 'orders.json'))).toBe(false);
    // The name is free again, and the new topic starts empty.
    await reopened.createTopic('orders', 1);
    expect(reopened.getPartition('orders', 0).logEndOffset).toBe(0);
    await reopened.close();
    expect(readdirSync(data.dir).filter((name) => name.startsWith('orders'))).toEqual(['orders-0']);
  });

  it('refuses bad topic names before touching the disk', async () => {
    const manager = await open();
    for (const name of ['../x', 'a/b', 'a\0b', '.', '..', 'x'.repeat(250), '']) {
      await expect(manager.createTopic(name, 1)).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    }
    expect(readdirSync(data.dir).sort()).toEqual(['.lock', 'meta']);
    expect(readdirSync(join(data.dir, '..')).includes('x-0')).toBe(false);
    await manager.close();
  });

  it('cleans up an interrupted delete or create at start-up', async () => {
    const manager = await open();
    await manager.createTopic('keep', 1);
    await manager.close();
    // A delete interrupted after the metadata went, and one interrupted after the rename.
    mkdirSync(join(data.dir, 'gone-0'));
    writeFileSync(join(data.dir, 'gone-0', '00000000000000000000.log'), '');
    mkdirSync(join(data.dir, 'gone-1.77-1.deleted'));
    // A create interrupted before its metadata: a partition beyond the topic's count.
    mkdirSync(join(data.dir, 'keep-5'));
    const warnings: string[] = [];
    const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, warn: (m) => warnings.push(m) });
    expect(readdirSync(data.dir).sort()).toEqual(['.lock', 'keep-0', 'meta']);
    expect(warnings.filter((w) => w.includes('no topic owns it'))).toHaveLength(2);
    await reopened.close();
  });

  it('runs background tasks on their own timers', async () => {
    const clock = new ManualClock();
    const manager = await LogManager.open({
      dataDir: data.dir,
      fsync: { kind: 'never' },
      clock,
      taskIntervalsMs: { retention: 10, 'segment-roll': 10, 'recovery-checkpoint': 10 },
    });
    await manager.createTopic('bg', 1, { segmentBytes: 300, retentionMs: 1000, segmentMs: 5000 });
    const log = manager.getPartition('bg', 0);
    for (let i = 0; i < 20; i++) await log.append(makeBatch(i, 1, 100, clock.nowMs()));
    const segments = log.segmentCount;
    clock.advance(5000);
    await waitFor(() => log.segmentCount === 1 && log.logStartOffset === 20);
    expect(segments).toBeGreaterThan(3);
    await waitFor(() => existsSync(join(data.dir, 'meta', 'checkpoints', 'bg-0.json')));
    await manager.close();
  });

  it('runs the interval flush and checkpoint tasks', async () => {
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'interval', intervalMs: 10 }, backgroundTasks: false });
    await manager.createTopic('f', 1, { segmentBytes: 300 });
    const log = manager.getPartition('f', 0);
    for (let i = 0; i < 10; i++) await log.append(makeBatch(i, 1, 100));
    await manager.runTask('interval-flush');
    await Promise.all(log.segments.map((s) => s.flushDone));
    expect(log.active.durableOffset).toBe(log.logEndOffset);
    await manager.runTask('recovery-checkpoint');
    const checkpoint = JSON.parse(readFileSync(join(data.dir, 'meta', 'checkpoints', 'f-0.json'), 'utf8'));
    expect(checkpoint).toEqual({ format: 1, recoveryPoint: log.active.baseOffset, logStartOffset: 0, cleanShutdown: false });
    await manager.close();
    const clean = JSON.parse(readFileSync(join(data.dir, 'meta', 'checkpoints', 'f-0.json'), 'utf8'));
    expect(clean).toEqual({ format: 1, recoveryPoint: 10, logStartOffset: 0, cleanShutdown: true });
  });
});
