// Proves bench/sdk-e2e.ts and bench/linger.ts still run (so they never rot): each is run in
// --tiny mode (a few thousand messages or 0.3 s per pattern against its own broker process)
// and must print its result lines. No numbers are asserted; performance is measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/sdk-e2e.ts (tiny mode)', () => {
  it('runs and reports produce and replay rates', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/sdk-e2e.ts', '--tiny'], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    expect(output).toMatch(/produce .* msg\/s/);
    expect(output).toMatch(/replay \(for await\) .* msg\/s/);
    expect(output).toMatch(/replay \(eachBatch\) .* msg\/s/);
  });
});

describe('bench/linger.ts (tiny mode)', () => {
  it('runs and reports both send patterns with adaptive linger on and off', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/linger.ts', '--tiny'], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    expect(output).toMatch(/lone awaited send, adaptiveLinger true: .* sends\/s/);
    expect(output).toMatch(/64 sends outstanding, adaptiveLinger false: .* sends\/s/);
  });
});
