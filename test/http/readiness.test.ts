// Proves /readyz tells an opening broker from a ready one and /healthz answers all along:
// serveWithHttp (what `spool serve` runs) starts the admin port before the broker opens,
// so with the open held back (standing in for a long recovery) /readyz answers 503
// "opening" while /healthz answers 200; once the open finishes /readyz answers 200
// naming the listener, and "stopping" from close() on. Against a `spool serve` child:
// the http line comes before the listening line, `--http off` prints none, and unknown
// paths and methods get 404 and 405. And for real: a broker killed with -9 after ~40 MB
// on 8 partitions restarts; /readyz, polled from its http line on, answers 503 "opening"
// during the recovery scan (storage's open yields between partitions) and 200 after.

import { afterEach, describe, expect, it } from 'vitest';
import { BrokerMetrics, silentLogger, startBroker } from '../../src/broker/index.js';
import { serveWithHttp, type ServedBroker } from '../../src/http/index.js';
import { startBroker as startChild, tempDir, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Client } from '../../src/client/index.js';
import { SPOOL_MAIN } from '../helpers/broker.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('/readyz and /healthz', () => {
  it('says opening until the broker has opened, then ready, then stopping', async () => {
    const dataDir = tempDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let httpAddress = '';
    const serving = serveWithHttp({
      http: { host: '127.0.0.1', port: 0 },
      metrics: new BrokerMetrics(),
      logger: silentLogger,
      onHttpListening: (http) => (httpAddress = `${http.host}:${http.port}`),
      open: async (metrics) => {
        await gate;
        return startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, metrics });
      },
    });
    let served: ServedBroker | undefined;
    cleanups.push(async () => {
      release();
      await (served ?? (await serving)).close();
    });
    await waitFor(() => httpAddress !== '');
    const opening = await getJson(`http://${httpAddress}/readyz`);
    expect(opening.status).toBe(503);
    expect(opening.body).toMatchObject({ ready: false, status: 'opening' });
    const health = await getJson(`http://${httpAddress}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', pid: process.pid });
    // /metrics answers while opening too (the scrape-time gauges are empty until then).
    expect((await fetch(`http://${httpAddress}/metrics`)).status).toBe(200);

    release();
    served = await serving;
    const ready = await getJson(`http://${httpAddress}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, status: 'ready', listeners: [`native 127.0.0.1:${served.broker.port}`] });

    served.readiness.markStopping();
    const stopping = await getJson(`http://${httpAddress}/readyz`);
    expect(stopping.status).toBe(503);
    expect(stopping.body).toMatchObject({ ready: false, status: 'stopping' });
  });
});

describe('spool serve --http', () => {
  const brokers: BrokerProcess[] = [];
  afterEach(async () => {
    for (const broker of brokers.splice(0)) {
      await broker.stop();
      broker.cleanup();
    }
  });

  it('prints the http line before the listening line and serves the three paths', async () => {
    const broker = await startChild();
    brokers.push(broker);
    expect(broker.httpAddress).toBeDefined();
    expect(broker.startupStdout.split('\n').filter(Boolean)).toEqual([`spool http listening on ${broker.httpAddress}`, `spool listening on ${broker.address}`]);
    const ready = await getJson(`http://${broker.httpAddress}/readyz`);
    expect(ready).toMatchObject({ status: 200, body: { ready: true, listeners: [`native ${broker.address}`] } });
    expect((await fetch(`http://${broker.httpAddress}/nothing`)).status).toBe(404);
    expect((await fetch(`http://${broker.httpAddress}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await fetch(`http://${broker.httpAddress}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('--http off serves no admin port', async () => {
    const broker = await startChild({ args: ['--http', 'off'] });
    brokers.push(broker);
    expect(broker.httpAddress).toBeUndefined();
  });
});

describe('/readyz during a real recovery', () => {
  it('answers 503 "opening" while a big log recovers after kill -9, then 200', async () => {
    const first = await startChild({ args: ['--fsync', 'never', '--http', 'off'] });
    const dataDir = first.dataDir;
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const client = new Client({ brokers: [first.address] });
    try {
      await client.admin().createTopics({ topics: [{ topic: 'big', numPartitions: 8 }] });
      const producer = client.producer({ lingerMs: 1, batchBytes: 4096, acks: 1 });
      const value = Buffer.alloc(200, 1);
      // Small batches: recovery's cost is per batch, so the scan takes a few hundred ms.
      for (let round = 0; round < 20; round++) {
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => producer.send({ topic: 'big', messages: [{ value, partition: i % 8 }] })));
      }
      await producer.close();
    } finally {
      await client.close();
    }
    await first.kill();

    const child = spawn(process.execPath, [SPOOL_MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--http', '127.0.0.1:0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const httpPort = await waitFor(() => /^spool http listening on 127\.0\.0\.1:(\d+)/m.exec(stdout)?.[1], 20_000, 1);
    const answers: string[] = [];
    for (;;) {
      const { status, body } = await getJson(`http://127.0.0.1:${httpPort}/readyz`);
      answers.push(`${status} ${String(body['status'])}`);
      if (status === 200) break;
    }
    expect(answers.at(-1)).toBe('200 ready');
    expect(answers.slice(0, -1).every((answer) => answer === '503 opening')).toBe(true);
    // The recovery itself was answered: not only the wait for the listeners after it.
    expect(answers.length, `answers: ${answers.join(', ')}; stderr: ${stderr}`).toBeGreaterThan(1);
    expect(stderr).toMatch(/recovery: scanned \d+ segment\(s\) after an unclean shutdown/);
  }, 60_000);
});
