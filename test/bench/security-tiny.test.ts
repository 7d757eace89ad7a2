// Proves bench/security.ts still runs (so the cost-of-security benchmark never rots): in
// --tiny mode (5,000 messages, 2 connects) it starts one broker per mode (plaintext, TLS,
// SCRAM-SHA-512 alone, SCRAM-SHA-512 over TLS, each a separate process with its own
// certificates and bootstrap super user), runs W1 and W3 through the SDK in each mode and
// prints one complete JSON result per mode and workload with the CPU and connection-setup
// fields, then the markdown table. No rate or CPU number is asserted; performance is
// measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('bench/security.ts (tiny mode)', () => {
  it('runs W1 and W3 in plaintext, over TLS, with SCRAM and with SCRAM over TLS', async () => {
    const output = await new Promise<string>((resolveOutput, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/security.ts', '--tiny', '--modes', 'plaintext,tls,scram,scram-tls'], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolveOutput(stdout);
      });
    });
    const results = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { system: string; workload: string; mode: string; complete: boolean; error?: string; brokerCpuNsPerMsg: unknown; clientCpuNsPerMsg: unknown; connectMs: number });
    expect(results.map((r) => `${r.system} ${r.workload}`)).toEqual([
      'spool (plaintext) W1',
      'spool (plaintext) W3',
      'spool (TLS) W1',
      'spool (TLS) W3',
      'spool (SCRAM-SHA-512) W1',
      'spool (SCRAM-SHA-512) W3',
      'spool (SCRAM-SHA-512+TLS) W1',
      'spool (SCRAM-SHA-512+TLS) W3',
    ]);
    for (const result of results) {
      expect(result.complete, `${result.system} ${result.workload}: ${result.error ?? ''}`).toBe(true);
      expect(typeof result.brokerCpuNsPerMsg).toBe('number');
      expect(typeof result.clientCpuNsPerMsg).toBe('number');
      expect(result.connectMs).toBeGreaterThan(0);
    }
    expect(output).toContain('| workload | mode | msgs/s | MB/s | % of plaintext | client CPU ns/msg | broker CPU ns/msg | connection setup ms |');
    expect(output).toMatch(/\| W3 \| SCRAM-SHA-512\+TLS \| [\d,]+ \|/);
  }, 90_000);
});
