// Proves that LogManager.createTopic, createPartitions and deleteTopic of a wide topic work in slices that
// yield to the event loop (a setImmediate ticker keeps running during them; in one piece,
// 10,000 partitions blocked the event loop 8.3 s to create and 2.7 s to delete) while
// staying atomic for callers: a topic being created is invisible until it is complete;
// creates and deletes of one name run one after another (a second create is
// TOPIC_ALREADY_EXISTS, a create racing a delete of the name gets a fresh empty topic);
// close() in the middle of a create removes what it made and rejects it with
// SHUTTING_DOWN; a crash in the middle (abandon()) leaves directories the next open()
// removes; a delete's directories are gone after close(). Real files in a temp dir.

import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { makeBatch, tempDataDir } from './helpers.js';

/** Enough partitions for many ~5 ms slices (each partition costs ~1-2 ms of file calls). */
const WIDE = 200;

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

function open(warn?: (message: string) => void): Promise<LogManager> {
  return LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, ...(warn ? { warn } : {}) });
}

/** Counts turns of the event loop (setImmediate) until stopped: 0 when the work never yields. */
function turnCounter(): { stop(): number } {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      running = false;
      return turns;
    },
  };
}

const partitionDirs = (topic: string): string[] => readdirSync(data.dir).filter((name) => name.startsWith(`${topic}-`));

describe('wide topics are created and deleted in slices', () => {
  it('create yields to the event loop and the topic is invisible until complete', async () => {
    const manager = await open();
    const turns = turnCounter();
    const seenDuring: unknown[] = [];
    const ticker = setInterval(() => seenDuring.push(manager.getTopic('wide'), manager.listTopics().length), 1);
    const created = manager.createTopic('wide', WIDE);
    expect(manager.getTopic('wide')).toBeUndefined();
    await created;
    clearInterval(ticker);
    expect(turns.stop()).toBeGreaterThan(1);
    expect(seenDuring.filter((seen) => seen !== undefined && seen !== 0)).toEqual([]);
    expect(manager.getTopic('wide')?.partitions).toBe(WIDE);
    expect((await manager.getPartition('wide', WIDE - 1).append(makeBatch(1))).baseOffset).toBe(0);

    // The delete's renames and its background removal of the directories (close() waits for it) yield too.
    const deleteTurns = turnCounter();
    await manager.deleteTopic('wide');
    expect(manager.getTopic('wide')).toBeUndefined();
    expect(partitionDirs('wide').filter((name) => /^wide-\d+$/.test(name))).toEqual([]);
    await manager.close();
    expect(deleteTurns.stop()).toBeGreaterThan(1);
    expect(partitionDirs('wide')).toEqual([]);
  });

  it('createPartitions grows a topic in slices; the new partitions appear only when all exist', async () => {
    const manager = await open();
    await manager.createTopic('grow', 1);
    const turns = turnCounter();
    const seenDuring: number[] = [];
    const ticker = setInterval(() => seenDuring.push(manager.getTopic('grow')!.partitions), 1);
    await manager.createPartitions('grow', WIDE);
    clearInterval(ticker);
    expect(turns.stop()).toBeGreaterThan(1);
    expect(seenDuring.filter((count) => count !== 1)).toEqual([]);
    expect(manager.getTopic('grow')?.partitions).toBe(WIDE);
    expect((await manager.getPartition('grow', WIDE - 1).append(makeBatch(1))).baseOffset).toBe(0);
    await manager.close();
    const reopened = await open();
    expect(reopened.getTopic('grow')?.partitions).toBe(WIDE);
    await reopened.close();
  });

  it('serializes operations on one name', async () => {
    const manager = await open();
    const [first, second] = await Promise.allSettled([manager.createTopic('same', WIDE), manager.createTopic('same', 2)]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'TOPIC_ALREADY_EXISTS' } });
    await manager.getPartition('same', 0).append(makeBatch(1));
    // A create racing the delete of its name waits for it and starts empty.
    const deleted = manager.deleteTopic('same');
    const recreated = manager.createTopic('same', 3);
    await deleted;
    expect((await recreated).partitions).toBe(3);
    expect(manager.getPartition('same', 0).logEndOffset).toBe(0);
    await manager.close();
    expect(partitionDirs('same').sort()).toEqual(['same-0', 'same-1', 'same-2']);
  });

  it('close() in the middle of a create removes its partitions', async () => {
    const manager = await open();
    const created = manager.createTopic('cut', WIDE);
    const outcome = created.then(
      () => 'created',
      (error: { code?: string }) => error.code,
    );
    await new Promise((resolve) => setImmediate(resolve));
    await manager.close();
    expect(await outcome).toBe('SHUTTING_DOWN');
    expect(partitionDirs('cut')).toEqual([]);
    const reopened = await open();
    expect(reopened.getTopic('cut')).toBeUndefined();
    await reopened.close();
  });

  it('a crash in the middle of a create leaves nothing after the next open', async () => {
    const manager = await open();
    const created = manager.createTopic('torn', WIDE).catch((error: { code?: string }) => error.code);
    while (partitionDirs('torn').length < 2) await new Promise((resolve) => setImmediate(resolve));
    manager.abandon();
    expect(await created).toBe('SHUTTING_DOWN');
    expect(partitionDirs('torn').length).toBeGreaterThan(0);
    const warnings: string[] = [];
    const reopened = await open((message) => warnings.push(message));
    expect(reopened.getTopic('torn')).toBeUndefined();
    expect(partitionDirs('torn')).toEqual([]);
    expect(warnings.some((warning) => warning.includes('no topic owns it'))).toBe(true);
    await reopened.createTopic('torn', 2);
    await reopened.close();
  });
});
