// Proves bench/storage.ts still runs (so it never rots): it is run with --mib 4 (a few
// appends and reads in a temp dir) and must print its append and read lines. No numbers
// are asserted; performance is measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/storage.ts (tiny mode)', () => {
  it('runs and reports append and read rates', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/storage.ts', '--mib', '4'], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    expect(output).toMatch(/append, fsync never: .* MB\/s/);
    expect(output).toMatch(/sequential read: .* MB\/s/);
    expect(output).toMatch(/append, fsync always .* appends\/s/);
  }, 100_000);
});
