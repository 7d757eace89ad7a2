// Proves bench/memory.ts still runs (so it never rots): it is run in --tiny mode (10 MiB
// through the flow phase, 5 MiB past a slow consumer, each against its own broker process
// from dist/) and must print its two result lines. No numbers are asserted; broker memory
// is measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/memory.ts (tiny mode)', () => {
  it('runs both phases and reports the broker RSS', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/memory.ts', '--tiny'], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    expect(output).toMatch(/^flow .* broker RSS max .* MiB/m);
    expect(output).toMatch(/^slow consumer .* broker RSS max .* MiB/m);
  }, 100_000);
});
