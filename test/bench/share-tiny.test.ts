// Proves `bench/cli.ts share` still runs (so it never rots): with --messages 4000 it starts
// its own broker, fills a 1-partition topic, drains it with 4 share consumers (in the bench
// process, and with --processes each in its own) and prints one complete JSON result
// whose per-consumer split adds up to 100%, every consumer having taken part. No rate is asserted; performance is measured by running the bench.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/cli.ts share (tiny)', () => {
  it.each([[[]], [['--processes']]])('drains 4,000 messages with 4 share consumers and reports the split (%j)', async (extra: string[]) => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      const args = ['--import', 'tsx', 'bench/cli.ts', 'share', '--messages', '4000', '--consumers', '4', '--max-records', '100', '--fsync', 'never', '--json', ...extra];
      execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    const [result] = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { workload: string; complete: boolean; messages: number; msgsPerSec: number; splitPercent: number[]; error?: string });
    expect(result?.workload).toBe('share');
    expect(result!.complete, result!.error).toBe(true);
    expect(result!.messages).toBe(4_000);
    expect(result!.splitPercent).toHaveLength(4);
    expect(result!.splitPercent.reduce((sum, share) => sum + share, 0)).toBeCloseTo(100, 0);
    for (const share of result!.splitPercent) expect(share).toBeGreaterThan(0);
  });
});
