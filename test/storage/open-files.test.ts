// Proves that storage keeps a bounded number of segment files open (file-pool.ts), not one
// per segment for the broker's lifetime.
// In process: with maxOpenFiles 16, 40 partitions of several segments each are appended
// to (fsync always too, so fdatasyncs run pinned while other files are evicted) and read
// back whole; the pool never holds more than 16 files and this process's descriptor count
// (/proc/self/fd) stays within 16 + a little of where it started.
// A real broker: a data directory with many partitions (a template partition copied, so
// it is quick) is served by `spool serve` started under `ulimit -n 1024`; it must start,
// take produces to and fetches from hundreds of partitions over 100 new connections, and
// keep its descriptors (/proc/<pid>/fd) under the limit. SPOOL_TEST_WIDE_PARTITIONS sets
// the partition count: default 3000 (3x the limit; ~13 s at load 10 on 2 cores); 10000 is
// the case (passes, ~75 s at load 10: copying the template dominates).

import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { sharedFilePool } from '../../src/storage/file-pool.js';
import { SPOOL_MAIN } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

const openFds = (pid: number | 'self'): number => readdirSync(`/proc/${pid}/fd`).length;

describe('bounded open segment files', () => {
  for (const fsync of ['never', 'always'] as const) {
    it(`keeps at most maxOpenFiles segment files open (fsync ${fsync})`, async () => {
      const before = openFds('self');
      const manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: fsync }, backgroundTasks: false, maxOpenFiles: 16 });
      await manager.createTopic('p', 40, { segmentBytes: 2048, indexIntervalBytes: 512 });
      let maxPool = 0;
      let maxFds = 0;
      for (let round = 0; round < 6; round++) {
        // All partitions at once: with fsync always, 40 fdatasyncs are in flight (pinned).
        await Promise.all(Array.from({ length: 40 }, (_, partition) => manager.getPartition('p', partition).append(makeBatch(round * 100 + partition, 2, 300))));
        maxPool = Math.max(maxPool, sharedFilePool.openCount);
        maxFds = Math.max(maxFds, openFds('self') - before);
      }
      for (let partition = 0; partition < 40; partition++) {
        const log = manager.getPartition('p', partition);
        expect(log.segmentCount).toBeGreaterThan(2);
        for (let round = 0; round < 6; round++) {
          const [batch] = batchesOf(log.read(round * 2, 1).bytes);
          expect(batch!.baseOffset).toBe(round * 2);
          expect(batch!.bytes.subarray(12).equals(makeBatch(round * 100 + partition, 2, 300).subarray(12))).toBe(true);
          maxPool = Math.max(maxPool, sharedFilePool.openCount);
        }
      }
      maxFds = Math.max(maxFds, openFds('self') - before);
      expect(maxPool).toBeLessThanOrEqual(16);
      // 16 pooled files, plus transient ones (an index or checkpoint write) and the lock.
      expect(maxFds).toBeLessThanOrEqual(16 + 4);
      await manager.close();
      const reopened = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, maxOpenFiles: 16 });
      expect(reopened.getPartition('p', 39).logEndOffset).toBe(12);
      expect(openFds('self') - before).toBeLessThanOrEqual(16 + 2);
      await reopened.close();
    });
  }

  it('serves a data directory of more partitions than the fd limit under ulimit -n 1024', async () => {
    const partitions = Number(process.env['SPOOL_TEST_WIDE_PARTITIONS'] ?? 3000);
    // A template partition written by storage itself, then copied: quick and real.
    const template = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    await template.createTopic('wide', 1);
    await template.close();
    for (let partition = 1; partition < partitions; partition++) {
      cpSync(join(data.dir, 'wide-0'), join(data.dir, `wide-${partition}`), { recursive: true });
      cpSync(join(data.dir, 'meta', 'checkpoints', 'wide-0.json'), join(data.dir, 'meta', 'checkpoints', `wide-${partition}.json`));
    }
    const metaPath = join(data.dir, 'meta', 'topics', 'wide.json');
    writeFileSync(metaPath, JSON.stringify({ ...JSON.parse(readFileSync(metaPath, 'utf8')), partitions }));

    const child = spawn('bash', ['-c', `ulimit -n 1024; exec "${process.execPath}" "${SPOOL_MAIN}" serve --port 0 --http off --data-dir "${data.dir}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const clients: RawClient[] = [];
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`broker exited ${code} before listening: ${stderr}`)));
      });
      expect(readFileSync(`/proc/${child.pid}/limits`, 'utf8')).toMatch(/Max open files\s+1024\s/);
      for (let i = 0; i < 100; i++) clients.push(await RawClient.connect(port));
      // Produce to and fetch from 600 partitions spread over the whole topic.
      const targets = Array.from({ length: 600 }, (_, i) => Math.floor((i * partitions) / 600));
      await Promise.all(
        targets.map(async (partition, i) => {
          const result = await clients[i % clients.length]!.produce('wide', partition, makeBatch(partition));
          expect(result).toMatchObject({ errorCode: 0, baseOffset: 0 });
        }),
      );
      await Promise.all(
        targets.map(async (partition, i) => {
          const { header, parts } = await clients[(i + 7) % clients.length]!.fetch([{ topic: 'wide', partition, offset: 0 }]);
          expect(header.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1 });
          expect(parts[0]!.subarray(12).equals(makeBatch(partition).subarray(12))).toBe(true);
        }),
      );
      const fds = openFds(child.pid!);
      expect(fds).toBeLessThan(1024);
      // And still room for new connections.
      for (let i = 0; i < 50; i++) clients.push(await RawClient.connect(port));
      const { header } = await clients[clients.length - 1]!.fetch([{ topic: 'wide', partition: partitions - 1, offset: 0 }]);
      expect(header.partitions[0]).toMatchObject({ errorCode: 0 });
      expect(stderr).not.toMatch(/EMFILE|offline/);
    } finally {
      for (const client of clients) client.destroy();
      // SIGKILL: a clean stop fsyncs and checkpoints every partition, which is not what
      // this test is about (and takes long on a real disk).
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  }, Number(process.env['SPOOL_TEST_WIDE_PARTITIONS'] ?? 0) > 5000 ? 300_000 : 60_000);
});
