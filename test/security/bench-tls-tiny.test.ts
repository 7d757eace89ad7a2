// Proves bench/sdk-e2e.ts --tls still runs (so the TLS bench path never rots): tiny mode
// (20,000 messages) against its own broker process with TLS on, printing its result lines
// marked TLS; and with --sasl scram-sha-256 --tls (broker with --sasl, a bootstrap super user,
// the client logging in) its produce phase completes, marked SCRAM-SHA-256+TLS. No numbers
// are asserted; performance is measured by running the bench itself.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function runBench(args: string[]): Promise<string> {
  return new Promise<string>((resolveOutput, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/sdk-e2e.ts', '--tiny', ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolveOutput(stdout);
    });
  });
}

describe('bench/sdk-e2e.ts --tls (tiny mode)', () => {
  it('runs produce and both replays over TLS', async () => {
    const output = await runBench(['--tls', '--acks', 'all']);
    expect(output).toMatch(/produce .* msg\/s.*\(acks=all, fsync never, TLS\)/);
    expect(output).toMatch(/replay \(for await\) .* msg\/s.*TLS\)/);
    expect(output).toMatch(/replay \(eachBatch\) .* msg\/s.*TLS\)/);
  });

  it('produces with --sasl scram-sha-256 over TLS', async () => {
    const output = await runBench(['--sasl', 'scram-sha-256', '--tls', '--acks', 'all', '--phases', 'produce']);
    expect(output).toMatch(/produce .* msg\/s.*\(acks=all, fsync never, SCRAM-SHA-256\+TLS\)/);
  });
});
