// Proves every benchmark command of bench/cli.ts (the end-to-end benchmarks, kept out of the
// shipped `spool` CLI) still runs (so none rots): each runs in a tiny mode through
// `node --import tsx bench/cli.ts` (the broker is the built dist/cli/main.js), with its own broker process (no --broker) and once against a
// broker started by the test (--broker), and prints JSON objects with the documented fields;
// `bench report` turns such lines and the peer results into markdown. No numbers are
// asserted: performance is measured by running the benches, never in tests.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { startBroker, type BrokerProcess } from '../helpers/broker.js';
import { expectOk, sh } from './run.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMMON_FIELDS = ['workload', 'messages', 'bytes', 'seconds', 'msgsPerSec', 'mbPerSec', 'commit', 'node', 'cpuModel', 'fsyncMode', 'messageBytes', 'acks', 'complete', 'loadAverage', 'command'];
/** `npx tsx bench/cli.ts` as the tests run it (tsx from node_modules, from the repository root). */
const BENCH = `cd '${ROOT}' && '${process.execPath}' --import tsx bench/cli.ts`;
const LATENCY_FIELDS = ['p50Ms', 'p99Ms', 'p999Ms', 'maxMs'];

function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function expectShape(record: Record<string, unknown>, workload: string, latency: boolean): void {
  expect(record['workload']).toBe(workload);
  for (const field of COMMON_FIELDS) expect(record, field).toHaveProperty(field);
  for (const field of LATENCY_FIELDS) {
    if (latency) expect(typeof record[field], field).toBe('number');
  }
  expect(record['complete']).toBe(true);
  expect(typeof record['msgsPerSec']).toBe('number');
}

describe('bench/cli.ts (tiny mode, own broker process)', () => {
  const outputs: string[] = [];

  it('produce: N producer processes, JSON with latency percentiles', async () => {
    const result = expectOk(await sh(`${BENCH} produce --messages 2000 --size 50 --producers 2 --partitions 2 --acks 1 --json`, { timeoutMs: 60_000 }));
    const [record] = records(result.stdout);
    expectShape(record!, 'produce', true);
    expect(record).toMatchObject({ messages: 2000, bytes: 100_000, messageBytes: 50, producers: 2, partitions: 2, acks: '1', broker: 'own', fsyncMode: '--fsync 1000' });
    outputs.push(result.stdout);
  });

  it('produce: the human table by default, nothing on stderr when it is not a terminal', async () => {
    const result = expectOk(await sh(`${BENCH} produce --messages 2000 --fsync never`, { timeoutMs: 60_000 }));
    expect(result.stdout).toMatch(/^workload\s+what\s+messages/m);
    expect(result.stdout).toMatch(/^produce\s+1 producer, 1 partition, acks all\s+2,000/m);
    expect(result.stdout).toContain('--fsync never');
    expect(result.stderr).toBe('');
  });

  it('consume: one consumer, and a group of 2 member processes', async () => {
    const alone = expectOk(await sh(`${BENCH} consume --messages 2000 --json`, { timeoutMs: 60_000 }));
    expectShape(records(alone.stdout)[0]!, 'consume', false);
    const group = expectOk(await sh(`${BENCH} consume --messages 2000 --partitions 2 --consumers 2 --json`, { timeoutMs: 90_000 }));
    const [record] = records(group.stdout);
    expectShape(record!, 'consume', false);
    expect(record).toMatchObject({ messages: 2000, consumers: 2, partitions: 2 });
    outputs.push(alone.stdout, group.stdout);
  }, 120_000);

  it('e2e: a fixed rate for a duration, send-to-receive percentiles', async () => {
    const result = expectOk(await sh(`${BENCH} e2e --rate 500 --duration 1s --json`, { timeoutMs: 60_000 }));
    const [record] = records(result.stdout);
    expectShape(record!, 'e2e', true);
    expect(record).toMatchObject({ messages: 500, ratePerSec: 500, lingerMs: 0 });
    outputs.push(result.stdout);
  });

  it('e2e --rates: one record per rate (the latency-vs-load curve), with CPU per message', async () => {
    const result = expectOk(await sh(`${BENCH} e2e --rates 300,600 --duration 500ms --json`, { timeoutMs: 60_000 }));
    const lines = records(result.stdout);
    expect(lines.map((line) => line['ratePerSec'])).toEqual([300, 600]);
    for (const line of lines) {
      expectShape(line, 'e2e', true);
      expect(typeof line['clientCpuUsPerMsg']).toBe('number');
      expect(typeof line['brokerCpuUsPerMsg']).toBe('number');
    }
    expect(lines.map((line) => line['messages'])).toEqual([150, 300]);
  });

  it('e2e with SPOOL_STAGE_TRACE: the per-stage breakdown of both processes on stderr; --pacer timer runs the old loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-stage-trace-'));
    try {
      const result = expectOk(await sh(`${BENCH} e2e --rate 500 --duration 500ms --pacer timer`, { env: { SPOOL_STAGE_TRACE: dir }, timeoutMs: 60_000 }));
      expect(result.stdout).toMatch(/^e2e\s+500 msg\/s/m);
      expect(result.stdout).toMatch(/^cpu per message at 500 msg\/s: client [\d.,]+ µs, broker [\d.,]+ µs$/m);
      // Every message carries every stamp: the broker's (its file, written at exit) and the bench's.
      expect(result.stderr).toMatch(/stage breakdown \(µs; 250 of 250 messages with every stamp/);
      for (const step of ['pacer', 'client send path', 'append', 'fetch wake', 'TOTAL']) expect(result.stderr).toContain(step);
      expect(result.stderr.match(/event-loop delay p50/g)).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('group: throughput of each group size and the failover time', async () => {
    const result = expectOk(await sh(`${BENCH} group --messages 2000 --members 1,2 --session-timeout-ms 1000 --json`, { timeoutMs: 110_000 }));
    const lines = records(result.stdout);
    expect(lines.map((line) => [line['workload'], line['consumers']])).toEqual([
      ['group-throughput', 1],
      ['group-throughput', 2],
      ['group-failover', 3],
    ]);
    for (const line of lines) expectShape(line, String(line['workload']), false);
    expect(typeof lines[2]!['failoverMs']).toBe('number');
    outputs.push(result.stdout);
  }, 120_000);

  it('report: markdown from spool bench and peer JSON lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-bench-report-'));
    try {
      const file = join(dir, 'bench.jsonl');
      writeFileSync(file, outputs.join(''));
      const peers = join(ROOT, 'bench/peers/results-2026-11-25.jsonl');
      const result = expectOk(await sh(`${BENCH} report ${peers} ${file}`));
      expect(result.stdout).toContain('#### spool vs peers');
      expect(result.stdout).toMatch(/^\| W1 1M x 100 B, acked \| NATS JetStream \| [\d,]+ \|/m);
      expect(result.stdout).toContain('#### spool bench');
      expect(result.stdout).toMatch(/^\| produce \| 2 producers, 2 partitions, acks 1 \|/m);
      expect(result.stdout).toContain('npx tsx bench/cli.ts produce --messages 2000 --size 50 --producers 2 --partitions 2 --acks 1 --json');
      // --readme replaces only the text between the markers.
      const readme = join(dir, 'README.md');
      writeFileSync(readme, '# top\n<!-- spool bench report: start -->\nold\n<!-- spool bench report: end -->\ntail\n');
      expectOk(await sh(`${BENCH} report --readme ${readme} ${file}`));
      const updated = readFileSync(readme, 'utf8');
      expect(updated).toMatch(/^# top\n<!-- spool bench report: start -->\n\n#### spool bench\n/);
      expect(updated).not.toContain('old');
      expect(updated).toMatch(/<!-- spool bench report: end -->\ntail\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench/cli.ts --broker (a running broker)', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.stop();
    broker.cleanup();
  });

  it('targets the given broker and deletes its bench topic afterwards', async () => {
    const result = expectOk(await sh(`${BENCH} --broker ${broker.address} produce --messages 2000 --json`, { timeoutMs: 60_000 }));
    const [record] = records(result.stdout);
    expectShape(record!, 'produce', true);
    expect(record).toMatchObject({ broker: broker.address, fsyncMode: 'as configured on the external broker' });
    const client = new Client({ brokers: [broker.address] });
    try {
      expect((await client.admin().listTopics()).filter((topic) => String(topic).startsWith('bench-'))).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('SPOOL_BROKER counts as given', async () => {
    const result = expectOk(await sh(`${BENCH} e2e --rate 200 --duration 500ms --json`, { env: { SPOOL_BROKER: broker.address }, timeoutMs: 60_000 }));
    expect(records(result.stdout)[0]).toMatchObject({ workload: 'e2e', broker: broker.address });
  });
});
