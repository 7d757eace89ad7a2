// Proves the README's work-queue example runs as written: its ```ts block (README.md "### A
// work queue, step by step") is taken as is, pointed at a test broker and run as its own
// process; it must print the three tickets (the flaky one on its 2nd delivery, after its
// 1 s release delay) and exit 0; then the ```sh block's commands (`spool dlq list`,
// `group describe`, `dlq purge`) run against the same broker and show the rejected ticket
// with its provenance and error.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPOOL_MAIN, startBroker, type BrokerProcess } from '../helpers/broker.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function section(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### A work queue, step by step\n');
  if (start < 0) throw new Error('README.md has no "### A work queue, step by step"');
  return readme.slice(start, readme.indexOf('\n### ', start + 10));
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    execFile(process.execPath, [file, ...args].filter((arg) => arg !== ''), { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolveRun({ stdout, stderr });
    });
  });
}

describe("README's work-queue example", () => {
  let broker: BrokerProcess;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    dir = mkdtempSync(join(tmpdir(), 'spool-readme-queue-'));
  });
  afterAll(async () => {
    await broker.stop();
    broker.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acks, releases with a delay, rejects to the DLQ; the DLQ commands show it', async () => {
    const text = section();
    const example = /```ts\n([\s\S]*?)```/.exec(text)![1]!;
    const script = join(dir, 'work-queue.mts');
    writeFileSync(script, example.replace("from 'spool'", `from '${join(ROOT, 'src/client/index.ts')}'`).replace("'127.0.0.1:9400'", `'${broker.address}'`));
    const started = Date.now();
    const { stdout } = await new Promise<{ stdout: string }>((resolveRun, reject) => {
      execFile(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, timeout: 30_000 }, (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolveRun({ stdout: out })));
    });
    expect(stdout.trim().split('\n').sort()).toEqual(['flaky oven: delivery 2', 'no such dish: first', 'soup: first']);
    expect(Date.now() - started).toBeGreaterThan(1_000);

    const commands = /```sh\n([\s\S]*?)```/
      .exec(text)![1]!
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter((line) => line.startsWith('npx spool '))
      .map((line) => line.slice('npx spool '.length).split(/\s+/));
    expect(commands.map((words) => words.slice(0, 2).join(' '))).toEqual(['dlq list', 'dlq replay', 'dlq purge', 'group describe']);
    const list = await run(SPOOL_MAIN, ['--broker', broker.address, ...commands[0]!]);
    expect(list.stdout).toContain('not on the menu');
    expect(list.stdout).toContain('no such dish');
    const describeGroup = await run(SPOOL_MAIN, ['--broker', broker.address, ...commands[3]!]);
    expect(describeGroup.stdout).toContain('cooks.dlq');
    await run(SPOOL_MAIN, ['--broker', broker.address, ...commands[2]!]);
  });
});
