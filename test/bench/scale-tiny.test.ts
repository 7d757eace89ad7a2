// Proves bench/scale.ts still runs end to end (so it never rots): `--tiny --json` runs every
// section at toy sizes (1 and 10 partitions under ulimit -n 1024, 2 producer connections,
// 10 idle connections, 2 groups, 20 heartbeating members, a 2 MiB log with a 1 MiB tail),
// each against a fresh broker process (dist/: `npm run build` first), and must print one
// complete JSON record per point with the fields the README tables read; then `report
// --svg` must turn those lines into the tables and a chart. No numbers are asserted.
// ~13 broker starts and ~8 forked workers: ~20 s on a quiet 2-vCPU box, ~65 s at load 20.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'spool-scale-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runScale(args: string[]): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/scale.ts', ...args], { cwd: ROOT, timeout: 170_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolveOutput(stdout);
    });
  });
}

describe('bench/scale.ts (tiny mode)', () => {
  it('measures every section on fresh brokers and reports tables and a chart', async () => {
    const output = await runScale(['--tiny', '--json']);
    const records = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => `${String(record['section'])} ${String(record['size'])}`)).toEqual([
      'partitions 1',
      'partitions 10',
      'connections 2',
      'idle 10',
      'groups 2',
      'heartbeats 20',
      'recovery 2',
    ]);
    for (const record of records) expect(record, JSON.stringify(record)).toMatchObject({ complete: true, tool: 'spool bench scale' });
    const partitions = records[1]!;
    for (const field of ['msgsPerSec', 'rssAfterRunMiB', 'fdsAfterRun', 'crashStartupMs', 'cleanStartupMs']) expect(partitions[field]).toBeTypeOf('number');
    expect(partitions['openFileLimit']).toBe(1024);
    expect(records[5]!['answersPerSec']).toBeTypeOf('number');
    expect(records[6]!['segmentsScanned']).toBeGreaterThan(0);

    const file = join(dir, 'scale.jsonl');
    writeFileSync(file, output);
    const svg = join(dir, 'scale.svg');
    const report = await runScale(['report', file, '--svg', svg]);
    expect(report).toContain('| partitions | msg/s |');
    expect(report).toContain('npx tsx bench/scale.ts --tiny --json');
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg [\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  }, 180_000);
});
