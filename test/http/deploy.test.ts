// Proves the deploy/ files hold up where the tools exist: the example config file is one
// `spool serve --config` accepts; the systemd unit passes `systemd-analyze verify` (when
// systemd-analyze is installed); the Dockerfile builds and its container answers /readyz
// (only when a docker daemon answers: it pulls node:20-bookworm-slim). Skipped parts say so.

import { execFile, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPOOL_MAIN, waitFor } from '../helpers/broker.js';

const ROOT = resolve(import.meta.dirname, '../..');

function works(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    // Safe: the tool is missing or its daemon does not answer; the test that needs it is skipped.
    return false;
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('deploy/', () => {
  it('spool.json is a valid --config file', async () => {
    const result = await run(process.execPath, [SPOOL_MAIN, 'serve', '--config', 'deploy/spool.json', '--print-config'], 20_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ port: 9400, http: '127.0.0.1:9644', logFormat: 'json' });
  });

  it.skipIf(!works('systemd-analyze', ['--version']))('spool.service passes systemd-analyze verify', async () => {
    const result = await run('systemd-analyze', ['verify', 'deploy/spool.service'], 30_000);
    expect(result.stderr.trim()).toBe('');
    expect(result.code).toBe(0);
  });

  it.skipIf(!works('docker', ['info']))(
    'the Dockerfile builds and its container becomes ready',
    async () => {
      const tag = `spool-test:${process.pid}`;
      const build = await run('docker', ['build', '-f', 'deploy/Dockerfile', '-t', tag, '.'], 280_000);
      expect(build.code, build.stderr).toBe(0);
      const started = await run('docker', ['run', '-d', '-p', '127.0.0.1::9644', tag], 30_000);
      const id = started.stdout.trim();
      try {
        expect(started.code, started.stderr).toBe(0);
        const port = (await run('docker', ['port', id, '9644/tcp'], 10_000)).stdout.trim().split(':').pop();
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 60_000, 500);
      } finally {
        await run('docker', ['rm', '-f', id], 30_000);
        await run('docker', ['rmi', tag], 30_000);
      }
    },
    600_000,
  );
});
