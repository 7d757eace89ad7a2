// Proves the README's SDK example does what it says on SIGTERM: the example's ```ts block is
// taken from README.md ("## The SDK") as written, pointed at a test broker, and run as its
// own process; once it has consumed its message and a second member of its group is
// reading, the test sends SIGTERM. The example must exit by itself (code 0), and the second
// member must own every partition well before the 45 s session timeout (the group moved at
// once, because the example closed its client and left the group), without getting the
// example's message again (the close committed it).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PARTITIONS = 4;
/** Far below the 45 s session timeout, far above a leave and a reassignment on a loaded box. */
const MOVE_BOUND_MS = 15_000;

/** waitFor, with what was seen when it gave up. */
async function until(condition: () => boolean, timeoutMs: number, seen: () => string): Promise<void> {
  try {
    await waitFor(condition, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${seen()}`);
  }
}

/** The ```ts block of README.md's "## The SDK" section. */
function readmeSdkExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The SDK\n'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no ```ts block under "## The SDK"');
  return match[1]!;
}

describe("README's SDK example on SIGTERM", () => {
  let broker: BrokerProcess;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    dir = mkdtempSync(join(tmpdir(), 'spool-readme-sdk-'));
  });
  afterAll(async () => {
    await broker.stop();
    broker.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes the client, leaves the group at once and exits', async () => {
    const example = readmeSdkExample();
    expect(example).toContain("process.once(signal, () => void client.close())");
    const script = join(dir, 'example.mts');
    const clientModule = join(ROOT, 'src/client/index.ts');
    writeFileSync(script, example.replace("from 'spool'", `from '${clientModule}'`).replace("'127.0.0.1:9400'", `'${broker.address}'`));

    const client = new Client({ brokers: [broker.address] });
    const other = client.consumer({ groupId: 'kitchen', sessionTimeoutMs: 45_000 });
    const example$ = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await client.admin().createTopics({ topics: [{ topic: 'orders', numPartitions: PARTITIONS }] });
      let stdout = '';
      let stderr = '';
      example$.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      example$.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolveExit) => example$.once('exit', (code) => resolveExit(code)));
      await until(() => stdout.includes('soup'), 30_000, () => `the example printed no message; stderr: ${stderr}`);

      const owned = new Set<number>();
      const received: string[] = [];
      await other.subscribe({
        topics: ['orders'],
        fromBeginning: true,
        onAssigned: (partitions) => partitions.forEach(({ partition }) => owned.add(partition)),
        onRevoked: (partitions) => partitions.forEach(({ partition }) => owned.delete(partition)),
      });
      void other.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString()) });
      // Both members are in the group: the second has its share, the example keeps the rest.
      await until(() => owned.size > 0 && owned.size < PARTITIONS, 30_000, () => `the second member got ${owned.size} partitions`);

      const signalledMs = Date.now();
      example$.kill('SIGTERM');
      await until(() => owned.size === PARTITIONS, MOVE_BOUND_MS, () => `after SIGTERM the second member owns ${owned.size} of ${PARTITIONS} partitions`);
      const movedMs = Date.now() - signalledMs;
      expect(await exited, `the example's exit code; stderr: ${stderr}`).toBe(0);
      expect(movedMs).toBeLessThan(MOVE_BOUND_MS);
      expect(received).not.toContain('soup');
    } finally {
      if (example$.exitCode === null && example$.signalCode === null) example$.kill('SIGKILL');
      await client.close();
    }
  }, 90_000);
});
