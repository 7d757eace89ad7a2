// Storage throughput: `npx tsx bench/storage.ts [--mib N]`. Prints append MB/s with
// fsync never and with an fsync per append (policy always, one append in flight), the
// sequential read MB/s from the page cache, and random small reads by offset (ops/s).
// Appends are 1 MiB buffers of 64 batches x 16 records x 1 KiB values (each append is one
// validate pass with CRC-32C, one write, one index write). Targets on the 2-core dev box:
// append >= 1 GB/s (fsync never), sequential read >= 1 GB/s.

import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBatch, type RecordInput, validateBatches } from '../src/records/index.js';
import { LogManager } from '../src/storage/index.js';

const argMib = process.argv.indexOf('--mib');
const totalMib = argMib > 0 ? Number(process.argv[argMib + 1]) : 1024;

function appendBuffer(): Buffer {
  const value = Buffer.alloc(1024, 0x61);
  const now = Date.now();
  const batches: Buffer[] = [];
  for (let b = 0; b < 64; b++) {
    const records: RecordInput[] = [];
    for (let r = 0; r < 16; r++) records.push({ key: `k${b}-${r}`, value, timestamp: now + r });
    batches.push(encodeBatch(records));
  }
  return Buffer.concat(batches);
}

function mbps(bytes: number, ms: number): string {
  return ((bytes / 1e6) / (ms / 1000)).toFixed(0);
}

const dir = mkdtempSync(join(tmpdir(), 'spool-bench-storage-'));
try {
  const buffer = appendBuffer();
  const appends = Math.ceil((totalMib * 1024 * 1024) / buffer.length);

  // 0. Back-of-envelope baselines in this process, on this machine, right now: the two
  // costs an append cannot avoid (validation with CRC-32C, and the write to page cache).
  const baselineRounds = Math.min(appends, 256);
  let start = performance.now();
  for (let i = 0; i < baselineRounds; i++) validateBatches(buffer);
  let ms = performance.now() - start;
  console.log(`baseline: validateBatches (CRC-32C) alone: ${mbps(baselineRounds * buffer.length, ms)} MB/s`);
  const rawFd = openSync(join(dir, 'raw'), 'w');
  start = performance.now();
  for (let i = 0; i < baselineRounds; i++) writeSync(rawFd, buffer, 0, buffer.length, i * buffer.length);
  ms = performance.now() - start;
  closeSync(rawFd);
  rmSync(join(dir, 'raw'));
  console.log(`baseline: fs.writeSync of 1 MiB to a new file alone: ${mbps(baselineRounds * buffer.length, ms)} MB/s`);

  // 1. fsync never.
  let manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, backgroundTasks: false });
  await manager.createTopic('bench', 1, { segmentBytes: 256 * 1024 * 1024 });
  let log = manager.getPartition('bench', 0);
  start = performance.now();
  for (let i = 0; i < appends; i++) await log.append(buffer);
  ms = performance.now() - start;
  const appendedBytes = appends * buffer.length;
  console.log(`append, fsync never: ${appends} x ${(buffer.length / 1024).toFixed(0)} KiB in ${ms.toFixed(0)} ms = ${mbps(appendedBytes, ms)} MB/s (${log.segmentCount} segments)`);

  // 2. Sequential read from the page cache, 1 MiB per read.
  start = performance.now();
  let offset = 0;
  let readBytes = 0;
  while (offset < log.logEndOffset) {
    const { bytes } = log.read(offset, 1024 * 1024);
    readBytes += bytes.length;
    // Next offset: after the last batch in the result (its lastOffsetDelta is 15).
    let at = 0;
    let last = 0;
    while (at < bytes.length) {
      last = at;
      at += bytes.readInt32BE(at + 8) + 12;
    }
    offset = bytes.readInt32BE(last + 4) + bytes.readInt32BE(last + 23) + 1;
  }
  ms = performance.now() - start;
  console.log(`sequential read: ${(readBytes / 1024 / 1024).toFixed(0)} MiB in ${ms.toFixed(0)} ms = ${mbps(readBytes, ms)} MB/s`);

  // 3. Random reads of a small range (4 KiB max: one 16 KiB batch, since at least one batch is returned).
  const reads = 100_000;
  const end = log.logEndOffset;
  start = performance.now();
  for (let i = 0; i < reads; i++) log.read(Math.floor(Math.random() * end), 4096);
  ms = performance.now() - start;
  console.log(`random read by offset (one ~17 KiB batch): ${(reads / (ms / 1000)).toFixed(0)} ops/s (${((ms * 1000) / reads).toFixed(1)} us each)`);
  await manager.close();
  rmSync(dir, { recursive: true, force: true });

  // 4. fsync every append (policy always, awaited one at a time).
  manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'always' }, backgroundTasks: false });
  await manager.createTopic('bench', 1);
  log = manager.getPartition('bench', 0);
  const syncedAppends = Math.min(appends, 200);
  start = performance.now();
  for (let i = 0; i < syncedAppends; i++) await log.append(buffer);
  ms = performance.now() - start;
  console.log(
    `append, fsync always (1 MiB per append, one in flight): ${syncedAppends} appends in ${ms.toFixed(0)} ms = ${mbps(syncedAppends * buffer.length, ms)} MB/s, ${(ms / syncedAppends).toFixed(1)} ms per append`,
  );
  const small = encodeBatch([{ value: Buffer.alloc(1024) }]);
  start = performance.now();
  for (let i = 0; i < 200; i++) await log.append(small);
  ms = performance.now() - start;
  console.log(`append, fsync always (one 1 KiB record per append, one in flight): ${(200 / (ms / 1000)).toFixed(0)} appends/s`);
  start = performance.now();
  const concurrent: Array<Promise<unknown>> = [];
  for (let i = 0; i < 2000; i++) concurrent.push(log.append(encodeBatch([{ value: Buffer.alloc(1024) }])));
  await Promise.all(concurrent);
  ms = performance.now() - start;
  console.log(`append, fsync always (2000 x 1 KiB appends in one tick, group commit): ${(2000 / (ms / 1000)).toFixed(0)} appends/s`);
  await manager.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
