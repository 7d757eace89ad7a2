// Proves bench/group.ts still runs (so it never rots): --tiny mode (20 000 messages, a
// group of 1, 2 and 4 member processes, one failover with a 1 s session) against its own
// broker process; it must print the throughput rows and a failover time. No numbers are
// asserted; performance is measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/group.ts (tiny mode)', () => {
  it('runs and reports group throughput and failover time', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/group.ts', '--tiny'], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    for (const members of [1, 2, 4]) expect(output).toMatch(new RegExp(`^\\| ${members} \\| [\\d,]+ \\|`, 'm'));
    expect(output).toMatch(/failover \(session 1000 ms.*median \d+ ms/);
    const lines = output.split('\n').filter((line) => line.startsWith('{'));
    expect(lines.map((line) => (JSON.parse(line) as { bench: string }).bench)).toEqual(['group-throughput', 'group-throughput', 'group-throughput', 'group-failover']);
  }, 120_000);
});
