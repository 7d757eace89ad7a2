// Shared pieces of the real-client tests: a broker with the Kafka listener on, running an
// external program (kcat, python3) with a timeout, and collecting its output.

import { spawn, type ChildProcess } from 'node:child_process';
import { useBroker, type SharedBroker } from '../helpers/use-broker.js';

/** One broker with `--kafka-listener 127.0.0.1:0` for the tests of a file (useBroker's hooks). */
export function useKafkaBroker(args: string[] = []): SharedBroker {
  return useBroker(['--kafka-listener', '127.0.0.1:0', ...args]);
}

export interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (stdin written and closed); kills it after timeoutMs. */
export function run(command: string, args: string[], options: { stdin?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs ?? 60_000} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // Safe: a program that exits without reading all of stdin fails on its own exit code.
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A long-running program whose output is collected until stop(). */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

export function start(command: string, args: string[], env?: NodeJS.ProcessEnv): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** kcat's -J output: one JSON object per line. */
export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers?: string[];
  key: string | null;
  payload: string | null;
}

export function parseKcatJson(stdout: string): KcatMessage[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as KcatMessage);
}
