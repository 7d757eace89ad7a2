// Runs the built `spool` binary the way a user does: through a shell, with pipes.

import { exec } from 'node:child_process';
import { createServer } from 'node:net';
import { SPOOL_MAIN } from '../helpers/broker.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** `node dist/cli/main.js`, quoted for a shell command line. */
export const SPOOL = `'${process.execPath}' '${SPOOL_MAIN}'`;

/** Runs a bash command line (pipefail on); never rejects, reports the exit code. */
export function sh(commandLine: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    exec(
      `set -o pipefail; ${commandLine}`,
      {
        shell: '/bin/bash',
        env: { ...process.env, SPOOL_BROKER: '', ...options.env },
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 256 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        // Say so when the command was killed (timeout), so a failing assertion shows why.
        const note = error !== null && error.killed ? `[run.ts: killed by ${error.signal ?? 'signal'} after ${Date.now() - started} ms]\n` : '';
        resolve({ code, stdout, stderr: stderr + note, elapsedMs: Date.now() - started });
      },
    );
  });
}

/** `spool --broker <address> <args>` (args are a shell fragment). */
export function spool(address: string, args: string, options: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const input = options.stdin !== undefined ? `printf '%s' ${shellQuote(options.stdin)} | ` : '';
  return sh(`${input}${SPOOL} --broker ${address} ${args}`, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A 127.0.0.1 port nothing listens on: bind port 0, note the port, close. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Exit code 0, or fail showing the command's stderr. */
export function expectOk(result: RunResult): RunResult {
  if (result.code !== 0) throw new Error(`exit code ${result.code}; stderr: ${result.stderr}`);
  return result;
}
