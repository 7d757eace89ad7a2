// Proves bench/kafka-listener.ts still runs (so it never rots): in --tiny mode (5,000
// messages) it starts its own broker with the Kafka listener, runs W1 and W3 through the
// native SDK (two producer shapes), through kafkajs on the Kafka listener, and as raw
// pre-encoded requests on each listener, and prints one complete JSON result per client
// and workload with the CPU fields. No rate or CPU
// number is asserted; performance is measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/kafka-listener.ts (tiny mode)', () => {
  it('runs W1 and W3 through the native SDK, kafkajs on the Kafka listener and raw requests on both', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/kafka-listener.ts', '--tiny'], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    const results = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { system: string; workload: string; complete: boolean; listener: string; brokerCpuNsPerMsg: unknown; error?: string });
    expect(results.map((r) => `${r.system} ${r.workload}`)).toEqual([
      'spool (native SDK) W1',
      'spool (native SDK) W3',
      'spool (native SDK, 1,000-msg requests) W1',
      'spool (native SDK, 1,000-msg requests) W3',
      'spool (kafkajs, Kafka listener) W1',
      'spool (kafkajs, Kafka listener) W3',
      'spool (raw requests, native listener) W1',
      'spool (raw requests, native listener) W3',
      'spool (raw requests, Kafka listener) W1',
      'spool (raw requests, Kafka listener) W3',
    ]);
    for (const result of results) {
      expect(result.complete, `${result.system} ${result.workload}: ${result.error ?? ''}`).toBe(true);
      expect(typeof result.brokerCpuNsPerMsg).toBe('number');
    }
    expect(results.filter((r) => r.listener === 'kafka')).toHaveLength(4);
  });
});
