// Proves the SDK's behaviour at the edges, against real broker processes over TCP:
// 1 MiB and 10 MiB messages round-trip (topic max.message.bytes raised to fit); a
// broker restart between produce and consume loses nothing and the same client
// reconnects; an unreachable broker gives a clear retriable-kind error after the
// retries; close() leaves no sockets or timers (a child process using the SDK exits).
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { startBroker, randomTopic, tempDir } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { useBroker } from '../helpers/use-broker.js';

describe('large messages', () => {
  const { client } = useBroker(['--fsync', 'never']);

  for (const sizeBytes of [1024 * 1024, 10 * 1024 * 1024]) {
    it(`${sizeBytes / 1024 / 1024} MiB messages round-trip`, async () => {
      const topic = randomTopic();
      await client().admin().createTopics({ topics: [{ topic, numPartitions: 1, config: { 'max.message.bytes': sizeBytes + 64 * 1024 } }] });
      const values = [0x41, 0x42, 0x43].map((fill) => Buffer.alloc(sizeBytes, fill));
      const producer = client().producer({ lingerMs: 1 });
      const results = await producer.send({ topic, messages: values.map((value, index) => ({ key: `big-${index}`, value })) });
      expect(results.map((result) => result.offset)).toEqual([0, 1, 2]);
      await producer.close();
      const consumer = client().consumer({ maxBytesPerPartition: 1024 * 1024 });
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const consumed = await take(consumer, 3);
      consumed.forEach((message, index) => {
        expect(message.key!.toString()).toBe(`big-${index}`);
        expect(message.value!.length).toBe(sizeBytes);
        expect(message.value!.equals(values[index]!)).toBe(true);
      });
      await consumer.close();
    });
  }

  it('a batch larger than max.message.bytes is refused with MESSAGE_TOO_LARGE', async () => {
    const topic = randomTopic();
    await client().admin().createTopics({ topics: [{ topic, numPartitions: 1, config: { 'max.message.bytes': 10_000 } }] });
    const producer = client().producer({ lingerMs: 0 });
    await expect(producer.send({ topic, messages: [{ value: Buffer.alloc(20_000) }] })).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await producer.close();
  });
});

describe('broker restart', () => {
  it('nothing acknowledged is lost across a restart, and the same client reconnects', async () => {
    const dataDir = tempDir();
    let broker = await startBroker({ dataDir, args: ['--fsync', 'always'] });
    const port = broker.port;
    const client = new Client({ brokers: [broker.address], retry: { retries: 10, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 } });
    try {
      const topic = randomTopic();
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 3 }] });
      const producer = client.producer({ acks: 'all', lingerMs: 2 });
      const messages = Array.from({ length: 600 }, (_, index) => ({ key: `k${index % 17}`, value: `before-${index}` }));
      await producer.send({ topic, messages });

      await broker.stop();
      broker = await startBroker({ dataDir, port, args: ['--fsync', 'always'] });

      // The old socket is dead; the producer's retry reconnects to the restarted broker.
      await producer.send({ topic, messages: [{ key: 'k0', value: 'after' }] });
      await producer.close();

      const consumer = client.consumer({ maxWaitMs: 100 });
      await consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
      const consumed = await take(consumer, 601);
      const got = new Set(consumed.map((message) => message.value!.toString()));
      for (const message of messages) expect(got.has(message.value)).toBe(true);
      expect(got.has('after')).toBe(true);
      await consumer.close();
    } finally {
      await client.close();
      await broker.stop();
      broker.cleanup();
    }
  });

  it('a consumer keeps reading through a broker restart', async () => {
    const dataDir = tempDir();
    let broker = await startBroker({ dataDir, args: ['--fsync', 'always'] });
    const port = broker.port;
    const client = new Client({ brokers: [broker.address], retry: { retries: 10, initialRetryTimeMs: 100, maxRetryTimeMs: 500 } });
    try {
      const topic = randomTopic();
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const producer = client.producer({ lingerMs: 0 });
      await producer.send({ topic, messages: [{ value: 'one' }] });
      const consumer = client.consumer({ maxWaitMs: 200 });
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const iterator = consumer[Symbol.asyncIterator]();
      expect((await iterator.next()).value.value.toString()).toBe('one');
      await broker.stop();
      broker = await startBroker({ dataDir, port, args: ['--fsync', 'always'] });
      await producer.send({ topic, messages: [{ value: 'two' }] });
      const next = await iterator.next();
      expect(next.value.value.toString()).toBe('two');
      expect(next.value.offset).toBe(1);
      await producer.close();
      await consumer.close();
    } finally {
      await client.close();
      await broker.stop();
      broker.cleanup();
    }
  });
});

describe('unreachable broker and clean exit', () => {
  it('gives a clear BROKER_NOT_AVAILABLE error after the retries', async () => {
    // A port that was free a moment ago: nobody listens there.
    const port = await new Promise<number>((resolvePort) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address() as { port: number };
        server.close(() => resolvePort(address.port));
      });
    });
    const client = new Client({ brokers: [`127.0.0.1:${port}`], connectTimeoutMs: 1000, retry: { retries: 2, initialRetryTimeMs: 50, maxRetryTimeMs: 100 } });
    const started = Date.now();
    const producer = client.producer();
    const failure = await producer.send({ topic: 't', messages: [{ value: 'x' }] }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'SpoolError', code: 'BROKER_NOT_AVAILABLE' });
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(client.admin().listTopics()).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE' });
    await client.close();
  });

  it('a process that uses the SDK and closes it exits on its own', async () => {
    const broker = await startBroker({ args: ['--fsync', 'never'] });
    const dir = mkdtempSync(join(tmpdir(), 'spool-exit-'));
    const index = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/client/index.js');
    const script = join(dir, 'script.mjs');
    writeFileSync(
      script,
      `import { Client } from ${JSON.stringify(index)};
const client = new Client({ brokers: [${JSON.stringify(broker.address)}] });
await client.admin().createTopics({ topics: [{ topic: 'exit', numPartitions: 2 }] });
const producer = client.producer({ lingerMs: 1000 });
const sent = producer.send({ topic: 'exit', messages: [{ value: 'a' }, { key: 'k', value: 'b' }] });
const consumer = client.consumer({ maxWaitMs: 5000 });
await consumer.assign([{ topic: 'exit', partition: 0, offset: 'earliest' }, { topic: 'exit', partition: 1, offset: 'earliest' }]);
const iterator = consumer[Symbol.asyncIterator]();
await iterator.next();
await client.close(); // delivers the buffered send, ends the parked fetch, closes sockets
await sent;
console.log('closed');
`,
    );
    try {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolveExit) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        child.once('exit', (exitCode) => {
          clearTimeout(timer);
          resolveExit(exitCode);
        });
      });
      expect(output).toContain('closed');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await broker.stop();
      broker.cleanup();
    }
  });
});
