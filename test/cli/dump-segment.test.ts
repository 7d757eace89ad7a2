// Proves `spool dump-segment` reads real segment files offline: a broker process writes a
// topic through the CLI (several batches, one of them gzip), is stopped so its indexes are
// complete, and the built binary then prints every batch of the .log (offsets, count,
// position, size, CRC valid), every record with --records, and the .index / .timeindex
// entries; a corrupted byte shows up as an invalid CRC, and a wrong file kind is an error.

import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomTopic, startBroker, tempDir, type BrokerProcess } from '../helpers/broker.js';
import { SPOOL, expectOk, sh, spool } from './run.js';

let broker: BrokerProcess;
let segmentDir: string;
const topic = randomTopic('dump');
const base = '00000000000000000000';

beforeAll(async () => {
  broker = await startBroker();
  expectOk(await spool(broker.address, `topic create ${topic}`));
  // Three produce runs give at least three batches; the index interval (4 KiB) gives index entries.
  expectOk(await sh(`seq 1 3000 | ${SPOOL} --broker ${broker.address} produce ${topic}`));
  expectOk(await sh(`seq 3001 3010 | ${SPOOL} --broker ${broker.address} produce ${topic} --compression gzip`));
  expectOk(await spool(broker.address, `produce ${topic} --key-separator = --header h=1`, { stdin: 'user-1=alice\n' }));
  await broker.stop();
  segmentDir = join(broker.dataDir, `${topic}-0`);
});

afterAll(() => {
  broker?.cleanup();
});

interface BatchLine {
  baseOffset: number;
  lastOffset: number;
  count: number;
  position: number;
  size: number;
  compression: string;
  crc: string;
}

function batchLines(stdout: string): BatchLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('baseOffset: '))
    .map((line) => {
      const field = (name: string): string => new RegExp(`${name}: (\\S+)`).exec(line)?.[1] ?? '';
      return {
        baseOffset: Number(field('baseOffset')),
        lastOffset: Number(field('lastOffset')),
        count: Number(field('count')),
        position: Number(field('position')),
        size: Number(field('size')),
        compression: field('compression'),
        crc: /crc: \S+ (\S+)/.exec(line)?.[1] ?? '',
      };
    });
}

describe('dump-segment', () => {
  it('prints every batch of a .log, contiguous and valid', async () => {
    const log = join(segmentDir, `${base}.log`);
    expect(existsSync(log)).toBe(true);
    const result = await sh(`${SPOOL} dump-segment ${log}`);
    expect(result.code, result.stderr).toBe(0);
    const batches = batchLines(result.stdout);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    let nextOffset = 0;
    let nextPosition = 0;
    for (const batch of batches) {
      expect(batch.baseOffset).toBe(nextOffset);
      expect(batch.position).toBe(nextPosition);
      expect(batch.lastOffset - batch.baseOffset + 1).toBe(batch.count);
      expect(batch.crc).toBe('valid');
      nextOffset = batch.lastOffset + 1;
      nextPosition += batch.size;
    }
    expect(nextOffset).toBe(3011);
    expect(nextPosition).toBe(readFileSync(log).length);
    expect(batches.some((batch) => batch.compression === 'gzip')).toBe(true);
    expect(result.stdout).toMatch(/3011 records, 0 invalid/);
  });

  it('--records prints keys, values and headers', async () => {
    const result = await sh(`${SPOOL} dump-segment --records ${join(segmentDir, `${base}.log`)}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/offset: 0 \| timestamp: \S+ \| key: null \| value: "1"/);
    expect(result.stdout).toMatch(/offset: 3005 \| .*value: "3006"/);
    expect(result.stdout).toMatch(/offset: 3010 \| .*key: "user-1" \| value: "alice" \| headers: h=1/);
  });

  it('prints .index and .timeindex entries', async () => {
    const index = await sh(`${SPOOL} dump-segment ${join(segmentDir, `${base}.index`)}`);
    expect(index.code, index.stderr).toBe(0);
    expect(index.stdout).toMatch(/header: magic SPOI version 1 entryBytes 8/);
    expect(index.stdout).toMatch(/relativeOffset: \d+ \| offset: \d+ \| position: \d+/);
    const timeindex = await sh(`${SPOOL} dump-segment ${join(segmentDir, `${base}.timeindex`)}`);
    expect(timeindex.code, timeindex.stderr).toBe(0);
    expect(timeindex.stdout).toMatch(/header: magic SPTI version 1 entryBytes 12/);
    expect(timeindex.stdout).toMatch(/timestamp: \d{4}-\d\d-\d\dT\S+Z \(\d+\) \| relativeOffset: \d+ \| offset: \d+/);
  });

  it('shows a flipped byte as an invalid CRC and a torn tail as torn', async () => {
    const copy = join(tempDir('spool-dump-'), `${base}.log`);
    copyFileSync(join(segmentDir, `${base}.log`), copy);
    const bytes = readFileSync(copy);
    bytes[100] = bytes[100]! ^ 0xff; // inside the first batch's records
    writeFileSync(copy, bytes.subarray(0, bytes.length - 5));
    const result = await sh(`${SPOOL} dump-segment ${copy}`);
    expect(result.code, result.stderr).toBe(0);
    expect(batchLines(result.stdout)[0]!.crc).toBe('INVALID');
    expect(result.stdout).toMatch(/torn batch/);
  });

  it('refuses a file that is not a segment file, and a missing file, in one line', async () => {
    const [wrong, missing] = await Promise.all([sh(`${SPOOL} dump-segment /etc/hostname`), sh(`${SPOOL} dump-segment /nonexistent/${base}.log`)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toMatch(/^spool: dump-segment reads \.log, \.index or \.timeindex files/);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^spool: cannot open .*ENOENT$/);
  });
});
