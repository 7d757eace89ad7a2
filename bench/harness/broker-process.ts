// The broker a benchmark talks to. With no --broker given, a bench (bench/cli.ts) starts its own:
// `node dist/cli/main.js serve --host 127.0.0.1 --port 0 --data-dir <temp> --fsync <mode>`
// as a SEPARATE process (so the broker and the measuring client never share an event
// loop), reads the port from its one "spool listening on host:port" line, and on stop
// sends SIGTERM, waits for the exit and deletes the temp directory. With --broker (or
// SPOOL_BROKER) it uses that broker and starts nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { formatBroker, parseBroker } from '../../src/cli/args.js';

/** dist/cli/main.js of this repository (`npm run build` first). */
export const SPOOL_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const START_TIMEOUT_MS = 20_000;

export interface BenchBroker {
  /** "host:port" */
  address: string;
  /** True when this process started the broker (and will stop it). */
  own: boolean;
  /** What the result records say about durability, e.g. "--fsync 1000" or "external broker". */
  fsyncMode: string;
  /** The broker process, when own (for CPU accounting). */
  child?: ChildProcess;
  stop(): Promise<void>;
}

/** True when the user named a broker: a --broker flag, or a non-empty SPOOL_BROKER. */
export function brokerGiven(command: Command): boolean {
  let root: Command = command;
  while (root.parent) root = root.parent;
  const source = root.getOptionValueSource('broker');
  if (source !== undefined && source !== 'default') return true;
  return (process.env['SPOOL_BROKER'] ?? '').trim() !== '';
}

export async function benchBroker(command: Command, fsync: string): Promise<BenchBroker> {
  if (brokerGiven(command)) {
    const options = command.optsWithGlobals<{ broker?: string }>();
    const address = formatBroker(parseBroker(options.broker ?? process.env['SPOOL_BROKER'] ?? '127.0.0.1:9400'));
    return { address, own: false, fsyncMode: 'as configured on the external broker', stop: async () => undefined };
  }
  return startOwnBroker(fsync);
}

export async function startOwnBroker(fsync: string): Promise<BenchBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-bench-'));
  // SPOOL_BENCH_BROKER_NODE_ARGS: Node flags for the broker process only, e.g.
  // "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--max-semi-space-size=16" (NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env['SPOOL_BENCH_BROKER_NODE_ARGS'] ?? '').split(/\s+/).filter((word) => word !== '');
  const args = [...nodeArgs, SPOOL_MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--fsync', fsync, '--http', '127.0.0.1:0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep the tail only: a long run can log warnings for a long time.
    stderr = (stderr + chunk).slice(-4096);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const removeDir = (): void => rmSync(dataDir, { recursive: true, force: true });
  // If this process dies (Ctrl-C, an error), the broker and its data must not outlive it.
  const onExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    removeDir();
  };
  process.once('exit', onExit);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bench broker did not start in ${START_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), START_TIMEOUT_MS);
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        // Anchored: the admin HTTP port's line (`spool http listening on ...`) comes first.
        const match = /^spool listening on [^\s]*:(\d+)/m.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the bench broker exited before listening: ${stderr.trim()}`));
      });
    });
  } catch (error) {
    onExit();
    process.removeListener('exit', onExit);
    throw error;
  }
  return {
    address: `127.0.0.1:${port}`,
    own: true,
    fsyncMode: `--fsync ${fsync}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      removeDir();
      process.removeListener('exit', onExit);
    },
  };
}
