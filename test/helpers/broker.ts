// Starts a real broker process (the built `spool serve`, dist/cli/main.js) on 127.0.0.1
// with port 0 and its own temp data directory, and stops it. Run `npx tsc` first (npm test does).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SPOOL_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

export interface BrokerProcess {
  host: string;
  port: number;
  /** "127.0.0.1:<port>" */
  address: string;
  /** "127.0.0.1:<port>" of the admin HTTP port (/metrics, /healthz, /readyz); undefined with --http off. */
  httpAddress: string | undefined;
  /** "127.0.0.1:<port>" of the Kafka listener, when started with --kafka-listener. */
  kafkaAddress: string | undefined;
  dataDir: string;
  child: ChildProcess;
  /** What the broker printed on stdout until it listened. */
  startupStdout: string;
  /** Everything the broker wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit (graceful). Returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Removes the data directory (after stop/kill). */
  cleanup(): void;
}

export function tempDir(prefix = 'spool-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startBroker(options: { dataDir?: string; args?: string[]; port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDir();
  // The admin HTTP port on a free port unless the test picks one: parallel brokers must not all want 9644.
  const http = options.args?.includes('--http') ? [] : ['--http', '127.0.0.1:0'];
  const args = [SPOOL_MAIN, 'serve', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--data-dir', dataDir, ...http, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start in 20 s; stderr: ${stderr}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // The admin HTTP port's line (`spool http listening on ...`) and the Kafka listener's line
      // (`spool kafka listening on ...`) come first when they are on.
      const match = /^spool listening on 127\.0\.0\.1:(\d+)/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
  const kafka = /^spool kafka listening on 127\.0\.0\.1:(\d+)/m.exec(stdout);
  const httpLine = /^spool http listening on 127\.0\.0\.1:(\d+)/m.exec(stdout);
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    kafkaAddress: kafka ? `127.0.0.1:${kafka[1]}` : undefined,
    httpAddress: httpLine ? `127.0.0.1:${httpLine[1]}` : undefined,
    dataDir,
    child,
    startupStdout: stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `condition` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(condition: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function randomTopic(prefix = 't'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
