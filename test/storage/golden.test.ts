// Pins the on-disk format with golden files in test/fixtures/storage/golden-0/: the same
// three batches appended today must produce byte-identical .log, .index and .timeindex
// files, and a data directory holding the committed files opens and reads back (so a
// format change shows up here as a diff to review, never silently).
// Regenerate (after a deliberate format change) with SPOOL_WRITE_GOLDEN=1.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { tempDataDir } from './helpers.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'storage', 'golden-0');
const FILES = ['00000000000000000000.log', '00000000000000000000.index', '00000000000000000000.timeindex'];

function goldenBatches(): Buffer[] {
  const t = 1_700_000_000_000;
  return [
    encodeBatch([{ key: 'a', value: 'first', timestamp: t }]),
    encodeBatch([
      { key: 'b', value: 'second', timestamp: t + 10, headers: { h: 'v' } },
      { key: null, value: null, timestamp: t + 11 },
    ]),
    encodeBatch([{ key: 'c', value: 'third', timestamp: t + 20 }]),
  ];
}

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

describe('golden segment files', () => {
  it('today\'s appends produce the committed bytes', async () => {
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, clock: new ManualClock(), backgroundTasks: false });
    await manager.createTopic('golden', 1, { indexIntervalBytes: 0 });
    const log = manager.getPartition('golden', 0);
    for (const batch of goldenBatches()) await log.append(batch);
    await manager.close();
    if (process.env.SPOOL_WRITE_GOLDEN === '1') {
      mkdirSync(FIXTURE, { recursive: true });
      for (const file of FILES) copyFileSync(join(data.dir, 'golden-0', file), join(FIXTURE, file));
    }
    for (const file of FILES) {
      expect(readFileSync(join(data.dir, 'golden-0', file)).toString('hex'), file).toBe(readFileSync(join(FIXTURE, file)).toString('hex'));
    }
  });

  it('a data directory with the committed files opens and reads back', async () => {
    mkdirSync(join(data.dir, 'golden-0'), { recursive: true });
    mkdirSync(join(data.dir, 'meta', 'topics'), { recursive: true });
    for (const file of FILES) copyFileSync(join(FIXTURE, file), join(data.dir, 'golden-0', file));
    const meta = { format: 1, name: 'golden', partitions: 1, internal: false, config: { 'index.interval.bytes': 0 } };
    writeFileSync(join(data.dir, 'meta', 'topics', 'golden.json'), JSON.stringify(meta));
    const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    const log = manager.getPartition('golden', 0);
    expect(log.logEndOffset).toBe(4);
    const { records } = decodeBatch(log.read(2, 1).bytes, 0);
    expect(records.map((r) => [r.offset, r.key, r.value])).toEqual([
      [1, Buffer.from('b'), Buffer.from('second')],
      [2, null, null],
    ]);
    expect(log.offsetForTimestamp(1_700_000_000_015)).toBe(3);
    await manager.close();
  });
});
