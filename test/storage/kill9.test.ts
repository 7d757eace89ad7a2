// Proves that kill -9 loses nothing acknowledged: a child process appends in a loop and
// prints every acknowledged offset; the parent kills it with SIGKILL mid-stream, reopens
// the data directory, and checks that every acknowledged batch is present with the
// content its tag determines, that everything in the log is whole, consecutive and valid,
// and that appends continue at the log end offset. Run twice (fsync never, and always).

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/records/index.js';
import { LogManager } from '../../src/storage/index.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'append-child.ts');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

interface Ack {
  baseOffset: number;
  lastOffset: number;
  tag: number;
}

function runAndKill(fsync: string, minAcks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, data.dir, fsync], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const parts = line.split(' ');
        if (parts[0] === 'ack') acks.push({ baseOffset: Number(parts[1]), lastOffset: Number(parts[2]), tag: Number(parts[3]) });
      }
      if (!killed && acks.length >= minAcks) kill();
      // On a loaded machine, do not wait for minAcks forever: a few seconds of appends will do.
      if (acks.length > 0 && timer === undefined) timer = setTimeout(kill, 3000);
    });
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
    };
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
    });
  });
}

describe('kill -9 while appending', () => {
  for (const fsync of ['never', 'always']) {
    it(`keeps every acknowledged batch (fsync ${fsync})`, async () => {
      const acks = await runAndKill(fsync, fsync === 'never' ? 1500 : 200);
      expect(acks.length).toBeGreaterThan(0);
      const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
      try {
        const log = manager.getPartition('k', 0);
        const lastAcked = Math.max(...acks.map((a) => a.lastOffset));
        expect(log.logEndOffset).toBeGreaterThan(lastAcked);
        for (const ack of acks) {
          const [batch] = batchesOf(log.read(ack.baseOffset, 1).bytes);
          expect(batch!.baseOffset).toBe(ack.baseOffset);
          expect(batch!.lastOffset).toBe(ack.lastOffset);
          const expected = makeBatch(ack.tag, 1 + (ack.tag % 3), 50 + (ack.tag % 200));
          expect(batch!.bytes.subarray(12).equals(expected.subarray(12))).toBe(true);
        }
        // Everything present is whole and consecutive, acknowledged or not.
        let offset = 0;
        while (offset < log.logEndOffset) {
          const batches = batchesOf(log.read(offset, 256 * 1024).bytes);
          for (const batch of batches) {
            expect(batch.baseOffset).toBe(offset);
            decodeBatch(batch.bytes, 0);
            offset = batch.lastOffset + 1;
          }
        }
        const end = log.logEndOffset;
        expect(await log.append(makeBatch(1, 1))).toEqual({ baseOffset: end, lastOffset: end });
      } finally {
        await manager.close();
      }
    }, 120_000);
  }
});
