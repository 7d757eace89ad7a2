// The broker process of one scale point. Unlike harness/broker-process.ts (one broker per
// run, its data removed at stop), a scale point restarts the same data directory to time
// recovery: after a clean stop (SIGTERM) and after kill -9 (SIGKILL). Start-up time is from
// spawn() to the "spool listening on" line: process start, module load, recovery of every
// partition, the coordinator's replay of its internal topics, listening.
//
// The broker runs under `sh -c 'ulimit -n N; exec node ...'` when an open-file limit is
// asked for, so the limit is the broker's own (exec keeps the pid).

import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { SPOOL_MAIN } from '../broker-process.js';

const START_TIMEOUT_MS = 300_000;
// A clean stop fsyncs and checkpoints every partition: minutes with 10,000 on a busy disk.
const STOP_TIMEOUT_MS = 300_000;

export interface ScaleBrokerOptions {
  dataDir: string;
  /** `ulimit -n` for the broker (soft and hard); undefined keeps the inherited limit. */
  openFileLimit?: number;
  fsync?: string;
  /** More serve flags (e.g. ['--max-open-files', '64']). */
  extraArgs?: string[];
  /** Flags for node itself (e.g. ['--cpu-prof'] to profile the broker). */
  nodeArgs?: string[];
}

export interface ScaleBroker {
  pid: number;
  port: number;
  address: string;
  /** spawn() to the "spool listening on" line, ms. */
  startupMs: number;
  /** The last 8 KiB of its stderr (warnings, recovery reports). */
  stderr(): string;
  /** SIGTERM (clean) or SIGKILL; resolves when the process is gone. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** `work`, failed at once if the broker dies before stop() (instead of waiting on a dead socket). */
  alive<T>(work: Promise<T>): Promise<T>;
}

const running = new Set<ChildProcess>();
// A benchmark that dies must not leave brokers behind.
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function quote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

export async function startScaleBroker(options: ScaleBrokerOptions): Promise<ScaleBroker> {
  const nodeArgs = [...(options.nodeArgs ?? []), SPOOL_MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', options.dataDir, '--fsync', options.fsync ?? '1000', '--http', '127.0.0.1:0', ...(options.extraArgs ?? [])];
  const startedAt = performance.now();
  const child =
    options.openFileLimit === undefined
      ? spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('sh', ['-c', `ulimit -n ${options.openFileLimit} && exec ${[process.execPath, ...nodeArgs].map(quote).join(' ')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8192)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start in ${START_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), START_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^spool listening on [^\s]*:(\d+)/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
      if (stdout.length > 65536) stdout = stdout.slice(-4096);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`broker exited before listening (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`));
    });
  });
  const startupMs = performance.now() - startedAt;
  let stopping = false;
  const died = exited.then(() => {
    if (!stopping) throw new Error(`the broker died (${child.exitCode ?? child.signalCode}): ${stderr.trim().slice(-1000)}`);
  });
  died.catch(() => undefined); // observed only through alive()
  return {
    pid: child.pid!,
    port,
    address: `127.0.0.1:${port}`,
    startupMs: Math.round(startupMs),
    stderr: () => stderr,
    alive<T>(work: Promise<T>): Promise<T> {
      return Promise.race([work, died.then(() => work)]);
    },
    async stop(signal) {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
