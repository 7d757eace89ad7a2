// Proves the data-directory lock (src/storage/lock.ts) with real `spool serve` processes
// (dist/cli/main.js): a second broker on a directory in use exits 1 with one line naming
// the first one's pid; a directory whose broker was killed with SIGKILL starts again (the
// stale lock is taken over); several brokers started at once on one directory, fresh or
// with a stale lock, end with exactly one listening. In-process: a second LogManager on an
// open directory is refused, and a lock whose pid was reused (other start time) is stale.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { processStartTime } from '../../src/storage/lock.js';
import { SPOOL_MAIN, startBroker, type BrokerProcess } from '../helpers/broker.js';
import { tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
const brokers: BrokerProcess[] = [];
beforeEach(() => {
  data = tempDataDir();
});
afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.kill();
  data.cleanup();
});

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
  kill: () => void;
}

/** Starts `spool serve` and resolves when it listens (code null) or exits. */
function serve(dataDir: string): Promise<Outcome> {
  const child = spawn(process.execPath, [SPOOL_MAIN, 'serve', '--port', '0', '--http', 'off', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return new Promise((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('listening on')) resolve({ code: null, stdout, stderr, pid: child.pid!, kill });
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr, pid: child.pid!, kill }));
  });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('data directory lock', () => {
  it('refuses a second broker on the same directory, naming the first one\'s pid', async () => {
    const first = await startBroker({ dataDir: data.dir });
    brokers.push(first);
    const lock = JSON.parse(readFileSync(join(data.dir, '.lock'), 'utf8'));
    expect(lock.pid).toBe(first.child.pid);
    const second = await serve(data.dir);
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^spool: data directory .* is in use by pid ${first.child.pid} .*DATA_DIR_LOCKED`));
    expect(await first.stop()).toBe(0);
    expect(existsSync(join(data.dir, '.lock'))).toBe(false);
  });

  it('starts again after the broker was killed with SIGKILL (stale lock)', async () => {
    const first = await startBroker({ dataDir: data.dir });
    await first.kill();
    expect(existsSync(join(data.dir, '.lock'))).toBe(true);
    const second = await startBroker({ dataDir: data.dir });
    brokers.push(second);
    expect(JSON.parse(readFileSync(join(data.dir, '.lock'), 'utf8')).pid).toBe(second.child.pid);
  });

  for (const stale of [false, true]) {
    it(`lets exactly one of four brokers started at once win (${stale ? 'stale lock' : 'fresh directory'})`, async () => {
      if (stale) {
        const pid = await deadPid();
        writeFileSync(join(data.dir, '.lock'), JSON.stringify({ format: 1, pid, startTime: '1', bootId: '', hostname: (await import('node:os')).hostname() }) + '\n');
      }
      const outcomes = await Promise.all([1, 2, 3, 4].map(() => serve(data.dir)));
      for (const outcome of outcomes) if (outcome.code === null) brokers.push({ kill: async () => outcome.kill() } as BrokerProcess);
      const winners = outcomes.filter((o) => o.code === null);
      expect(winners).toHaveLength(1);
      for (const loser of outcomes.filter((o) => o.code !== null)) {
        expect(loser.code).toBe(1);
        expect(loser.stderr).toContain(`in use by pid ${winners[0]!.pid}`);
      }
      expect(JSON.parse(readFileSync(join(data.dir, '.lock'), 'utf8')).pid).toBe(winners[0]!.pid);
    });
  }

  it('refuses a second LogManager in one process and takes over a lock whose pid was reused', async () => {
    const first = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    await expect(LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false })).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    await first.close();
    // Our own pid, but another start time: the process that wrote it is gone.
    const lockPath = join(data.dir, '.lock');
    const record = { format: 1, pid: process.pid, startTime: String(Number(processStartTime(process.pid)) - 1), bootId: '', hostname: (await import('node:os')).hostname() };
    writeFileSync(lockPath, JSON.stringify(record) + '\n');
    const second = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
    expect(JSON.parse(readFileSync(lockPath, 'utf8')).startTime).toBe(processStartTime(process.pid));
    await second.close();
  });
});
