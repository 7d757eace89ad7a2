// Proves that every topic name the validator accepts also works on disk (file names are
// capped at 255 bytes): for each length 240..249 a topic is created, produced to, closed
// cleanly (checkpoints written), reopened (data and checkpoints read back, no partition
// offline, nothing scanned), produced to again, and deleted (nothing left behind); a
// 250-character name is refused. And at the very edge (249 characters, partition 9999)
// every name storage derives, temporary and `.deleted` names included, fits in 255 bytes.

import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { DataDirLayout, deletedName, tempName } from '../../src/storage/names.js';
import { makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

const PARTITIONS = 11; // partition numbers of one and two digits

function open(warnings: string[]): Promise<LogManager> {
  return LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, warn: (m) => warnings.push(m) });
}

/** A valid topic name of exactly `length` characters, distinct per length. */
function nameOf(length: number): string {
  return `long${length}.`.padEnd(length, 'x');
}

function allNames(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => basename(p));
}

describe('topic names up to 249 characters', () => {
  it('create, produce, clean shutdown, restart and delete at every length 240..249', async () => {
    const warnings: string[] = [];
    const manager = await open(warnings);
    const lengths = Array.from({ length: 10 }, (_, i) => 240 + i);
    for (const length of lengths) {
      await manager.createTopic(nameOf(length), PARTITIONS);
      for (let partition = 0; partition < PARTITIONS; partition++) await manager.getPartition(nameOf(length), partition).append(makeBatch(partition));
    }
    await manager.runTask('recovery-checkpoint');
    for (const length of lengths) {
      for (let partition = 0; partition < PARTITIONS; partition++) expect(manager.getPartition(nameOf(length), partition).isOffline).toBe(false);
    }
    await manager.close();
    expect(warnings).toEqual([]);
    for (const name of allNames(data.dir)) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);

    const reopened = await open(warnings);
    expect(reopened.recoveryStats.segmentsScanned).toBe(0);
    expect(reopened.listTopics().map((t) => t.name)).toEqual(lengths.map(nameOf));
    for (const length of lengths) {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const log = reopened.getPartition(nameOf(length), partition);
        expect(log.logEndOffset).toBe(1);
        expect((await log.append(makeBatch(100 + partition))).baseOffset).toBe(1);
      }
    }
    for (const length of lengths) await reopened.deleteTopic(nameOf(length));
    await expect(reopened.createTopic(nameOf(250), 1)).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    await reopened.close();
    expect(warnings).toEqual([]);
    expect(readdirSync(data.dir).sort()).toEqual(['meta']);
    expect(readdirSync(`${data.dir}/meta/topics`)).toEqual([]);
    expect(readdirSync(`${data.dir}/meta/checkpoints`)).toEqual([]);
  });

  it('keeps every derived name within 255 bytes at 249 characters and partition 9999', () => {
    const layout = new DataDirLayout(data.dir);
    const topic = nameOf(249);
    const paths = [layout.partitionDir(topic, 9999), layout.topicMetaPath(topic), layout.checkpointPath(topic, 9999)];
    // Partition directories are never written atomically (no .tmp); metadata files are.
    const derived = [...paths, ...paths.slice(1).map(tempName), ...paths.map((p) => deletedName(p, 4_194_304, 1_000_000_000))];
    for (const path of derived) expect(Buffer.byteLength(basename(path)), path).toBeLessThanOrEqual(255);
    // Long names stay distinct per topic and partition.
    expect(layout.checkpointPath(topic, 1)).not.toBe(layout.checkpointPath(topic, 2));
    expect(layout.topicMetaPath(topic)).not.toBe(layout.topicMetaPath(nameOf(248) + 'y'));
  });
});
