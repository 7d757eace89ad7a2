// Proves `spool serve --config` and SPOOL_* variables: with the same setting given as a
// default, in the file, in the environment and as a flag, `--print-config` shows the flag,
// then the variable, then the file, then the default; booleans read true/false from both;
// an unknown key in the file and a bad value (file or variable) are errors naming the key
// or variable (exit 1, one line); what --print-config prints is a file --config accepts
// and prints the same again. A broker started with a config file uses it (JSON logs).

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName } from '../../src/cli/serve-config.js';
import { SPOOL_MAIN, startBroker } from '../helpers/broker.js';

const dir = mkdtempSync(join(tmpdir(), 'spool-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `spool-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function serve(args: string[], env: Record<string, string> = {}): Promise<Run> {
  // Only our variables: a SPOOL_* in the test runner's environment must not leak in.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SPOOL_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [SPOOL_MAIN, 'serve', ...args], { env: { ...clean, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function printed(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const run = await serve([...args, '--print-config'], env);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('spool serve --config and SPOOL_*', () => {
  it('takes a flag over a variable over the file over the default', async () => {
    const file = configFile({ port: 9500, fsync: 'always', logLevel: 'warn' });
    expect((await printed([])).port).toBe(9400);
    expect(await printed(['--config', file])).toMatchObject({ port: 9500, fsync: 'always', logLevel: 'warn' });
    expect(await printed(['--config', file], { SPOOL_PORT: '9600', SPOOL_FSYNC: '250' })).toMatchObject({ port: 9600, fsync: '250', logLevel: 'warn' });
    expect(await printed(['--config', file, '--port', '9700'], { SPOOL_PORT: '9600' })).toMatchObject({ port: 9700, fsync: 'always' });
    expect(envName('queuedMaxRequestBytes')).toBe('SPOOL_QUEUED_MAX_REQUEST_BYTES');
    expect((await printed([], { SPOOL_QUEUED_MAX_REQUEST_BYTES: '1000', SPOOL_HTTP: 'off' })).queuedMaxRequestBytes).toBe(1000);
  });

  it('reads booleans from the file and the environment', async () => {
    expect((await printed([])).autoCreateTopics).toBe(false);
    expect((await printed(['--config', configFile({ autoCreateTopics: true })])).autoCreateTopics).toBe(true);
    expect((await printed(['--config', configFile({ autoCreateTopics: true })], { SPOOL_AUTO_CREATE_TOPICS: 'false' })).autoCreateTopics).toBe(false);
    expect((await printed([], { SPOOL_AUTO_CREATE_TOPICS: 'true' })).autoCreateTopics).toBe(true);
  });

  it('refuses an unknown key, naming it', async () => {
    const run = await serve(['--config', configFile({ port: 1, dataDri: './data' }), '--print-config']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^spool: config file .*: unknown key "dataDri" \(keys: dataDir, /);
  });

  it('checks values with the flag\'s own parser, naming where the value came from', async () => {
    const fromFile = await serve(['--config', configFile({ port: 70000 }), '--print-config']);
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toMatch(/^spool: config file .*: --port must be an integer in \[0, 65535\], got '70000'/);
    const fromEnv = await serve(['--print-config'], { SPOOL_LOG_FORMAT: 'xml' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toMatch(/^spool: environment variable SPOOL_LOG_FORMAT: /);
    const notJson = await serve(['--config', configFile('{"port": 1,'), '--print-config']);
    expect(notJson.stderr).toMatch(/^spool: config file .* is not valid JSON/);
    const wrongType = await serve(['--config', configFile({ port: [1] }), '--print-config']);
    expect(wrongType.stderr).toMatch(/port must be a string, a number or a boolean/);
  });

  it('prints a configuration that --config reads back to the same configuration', async () => {
    const first = await printed(['--fsync', 'never', '--file-mode', '0640', '--http', '127.0.0.1:0', '--max-open-files', '100']);
    expect(first).toMatchObject({ fsync: 'never', fileMode: '0640', http: '127.0.0.1:0', maxOpenFiles: 100 });
    expect(await printed(['--config', configFile(first)])).toEqual(first);
  });

  it('a broker started with --config uses it', async () => {
    const broker = await startBroker({ args: ['--config', configFile({ logFormat: 'json', fsync: 'never' })] });
    try {
      const lines = broker.stderr().split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    } finally {
      await broker.stop();
      broker.cleanup();
    }
  });
});
