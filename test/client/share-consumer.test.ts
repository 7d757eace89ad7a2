// Proves share groups end to end over real TCP against a real broker process (the SDK's
// client.shareConsumer, the native ShareFetch/ShareAcknowledge APIs, the coordinator's
// share kind): 4 share consumers on a 1-partition topic all get work and every message is
// accepted exactly once, and four greedy consumers stay busy; records held by a consumer that stops acknowledging (dead) are
// redelivered to another after the lock timeout (broker started with a 1 s lock); a
// poison message ends in `<group>.dlq` after exactly the delivery limit (3) with the
// provenance headers; close() releases what a consumer held at once; and after a broker
// kill -9 and restart, accepted records stay accepted while the rest are delivered.

import { afterAll, describe, expect, it } from 'vitest';
import { Client, type ShareMessage } from '../../src/client/index.js';
import { startBroker, randomTopic, tempDir, waitFor, type BrokerProcess } from '../helpers/broker.js';

const brokers: BrokerProcess[] = [];
const clients: Client[] = [];

afterAll(async () => {
  for (const client of clients) await client.close({ timeoutMs: 500 });
  for (const broker of brokers) {
    await broker.kill();
    broker.cleanup();
  }
});

async function broker(dataDir?: string, args = ['--share-lock-duration-ms', '1000', '--share-delivery-limit', '3']): Promise<BrokerProcess> {
  const started = await startBroker({ args, ...(dataDir ? { dataDir } : {}) });
  brokers.push(started);
  return started;
}

function client(address: string): Client {
  const made = new Client({ brokers: [address] });
  clients.push(made);
  return made;
}

async function produce(client: Client, topic: string, count: number, value = (i: number): string => `m${i}`): Promise<void> {
  await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = client.producer();
  for (let start = 0; start < count; start += 50) {
    const messages = Array.from({ length: Math.min(50, count - start) }, (_, i) => ({ value: value(start + i) }));
    await producer.send({ topic, messages });
  }
  await producer.close();
}

/** Reads `count` messages of a topic from the beginning (no group). */
async function readAll(client: Client, topic: string, count: number) {
  const consumer = client.consumer();
  await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const messages = [];
  for await (const message of consumer) {
    messages.push(message);
    if (messages.length === count) break;
  }
  await consumer.close();
  return messages;
}

describe('share consumers', () => {
  it('split one partition four ways; every message accepted exactly once', async () => {
    const b = await broker();
    const c = client(b.address);
    const topic = randomTopic();
    const total = 400;
    await produce(c, topic, total);
    const accepted: number[] = [];
    const perConsumer = [0, 0, 0, 0];
    const consumers = perConsumer.map(() => c.shareConsumer({ groupId: `g-${topic}`, maxRecords: 10, maxWaitMs: 100 }));
    await Promise.all(
      consumers.map(async (consumer, index) => {
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({
          eachMessage: async ({ message }) => {
            // A little work per message, so every consumer gets a share.
            await new Promise((resolve) => setTimeout(resolve, 1));
            accepted.push(message.offset);
            perConsumer[index]!++;
          },
        });
      }),
    );
    await waitFor(() => accepted.length >= total, 20_000);
    await Promise.all(consumers.map((consumer) => consumer.close()));
    expect(accepted.length).toBe(total);
    expect(new Set(accepted).size).toBe(total);
    for (const count of perConsumer) expect(count).toBeGreaterThan(0);
    // Nothing left: a new consumer finds no work.
    const late = c.shareConsumer({ groupId: `g-${topic}`, maxWaitMs: 200 });
    await late.subscribe({ topics: [topic] });
    let got = 0;
    await late.run({ eachMessage: async () => void got++ });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await late.close();
    expect(got).toBe(0);
  });

  it('keeps four greedy consumers (maxRecords = a quarter of the in-flight window) all busy', async () => {
    const b = await broker(undefined, []);
    const c = client(b.address);
    const topic = randomTopic();
    const total = 100_000;
    await c.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    // One send per message with linger: large batches, as a busy producer makes them.
    const producer = c.producer({ lingerMs: 5 });
    const value = Buffer.alloc(100, 97);
    await Promise.all(Array.from({ length: total }, () => producer.send({ topic, messages: [{ value }] })));
    await producer.close();
    const perConsumer = [0, 0, 0, 0];
    let done = 0;
    const clientsOf = perConsumer.map(() => client(b.address));
    const consumers = clientsOf.map((own) => own.shareConsumer({ groupId: `g-${topic}`, maxRecords: 500 }));
    await Promise.all(
      consumers.map(async (consumer, index) => {
        await consumer.subscribe({ topics: [topic] });
        await consumer.run({ eachMessage: async () => void (perConsumer[index]!++, done++) });
      }),
    );
    await waitFor(() => done >= total, 20_000);
    await Promise.all(consumers.map((consumer) => consumer.close()));
    // A bench run once gave one member ~96% (parked members were not woken when an accept
    // moved the start offset, and members re-acquired before their acks landed); this
    // guards the property, it did not fail reliably before those fixes.
    for (const count of perConsumer) expect(count).toBeGreaterThan(total * 0.1);
  });

  it('redelivers what a dead consumer held after the lock timeout, and what a closed one held at once', async () => {
    const b = await broker();
    const c = client(b.address);
    const topic = randomTopic();
    await produce(c, topic, 10);
    const group = `g-${topic}`;
    // The "dead" consumer acquires 5 records and never acknowledges them.
    const dead = client(b.address).shareConsumer({ groupId: group, maxRecords: 5 });
    await dead.subscribe({ topics: [topic] });
    const iterator = dead[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as ShareMessage;
    expect(first.offset).toBe(0);
    const startedMs = Date.now();
    const other = c.shareConsumer({ groupId: group, maxRecords: 100, maxWaitMs: 200 });
    await other.subscribe({ topics: [topic] });
    const seen = new Map<number, number>();
    for await (const message of other) {
      seen.set(message.offset, message.deliveryCount);
      await message.ack();
      if (seen.size === 10) break;
    }
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(900);
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.get(0)).toBe(2);
    expect(seen.get(9)).toBe(1);
    await expect(first.ack()).rejects.toMatchObject({ code: 'INVALID_RECORD_STATE' });
    await other.close();

    // close() gives back at once what it held.
    const topic2 = randomTopic();
    await produce(c, topic2, 4);
    const closing = c.shareConsumer({ groupId: group, maxRecords: 4 });
    await closing.subscribe({ topics: [topic2] });
    for await (const message of closing) {
      expect(message.offset).toBe(0);
      break;
    }
    await closing.close();
    const after = c.shareConsumer({ groupId: group, maxRecords: 4 });
    await after.subscribe({ topics: [topic2] });
    const closedAtMs = Date.now();
    const again: ShareMessage[] = [];
    for await (const message of after) {
      again.push(message);
      if (again.length === 4) break;
    }
    expect(Date.now() - closedAtMs).toBeLessThan(900);
    expect(again.map((message) => message.deliveryCount)).toEqual([2, 2, 2, 2]);
    await after.close();
  });

  it('a parked ShareFetch wakes on a produce and on a release, long before its maxWaitMs', async () => {
    // A 10 s lock: with the file's 1 s lock, a loaded machine let the held record's lock
    // expire before the release (the release then failed and the waiter got it by expiry).
    const b = await broker(undefined, ['--share-lock-duration-ms', '10000', '--share-delivery-limit', '3']);
    const c = client(b.address);
    const topic = randomTopic();
    await c.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const group = `g-${topic}`;
    const holder = c.shareConsumer({ groupId: group, maxWaitMs: 10_000 });
    await holder.subscribe({ topics: [topic] });
    const firstMessage = holder[Symbol.asyncIterator]().next();
    const startedMs = Date.now();
    const producer = c.producer();
    await producer.send({ topic, messages: [{ value: 'hot' }] });
    const held = (await firstMessage).value as ShareMessage;
    expect(held.value?.toString()).toBe('hot');
    expect(Date.now() - startedMs).toBeLessThan(5_000);

    const waiter = c.shareConsumer({ groupId: group, maxWaitMs: 10_000 });
    await waiter.subscribe({ topics: [topic] });
    const next = waiter[Symbol.asyncIterator]().next();
    // Wait until the waiter's ShareFetch is parked (nothing is available), per the broker's gauge.
    await waitFor(async () => /^spool_fetches_parked 1$/m.test(await (await fetch(`http://${b.httpAddress!}/metrics`)).text()));
    const releasedMs = Date.now();
    await held.release({ error: 'not now' });
    const again = (await next).value as ShareMessage;
    expect(again.offset).toBe(held.offset);
    expect(again.deliveryCount).toBe(2);
    expect(Date.now() - releasedMs).toBeLessThan(5_000);
    await again.ack();
    await producer.close();
    await holder.close();
    await waiter.close();
  });

  it('puts a poison message in the DLQ after exactly the delivery limit, with provenance', async () => {
    const b = await broker();
    const c = client(b.address);
    const topic = randomTopic();
    await produce(c, topic, 5, (i) => (i === 2 ? 'poison' : `ok${i}`));
    const group = `g-${topic}`;
    const attempts: number[] = [];
    const okays = new Set<string>();
    const consumer = c.shareConsumer({ groupId: group, maxRecords: 5, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString() === 'poison') {
          attempts.push(message.deliveryCount);
          throw new Error(`cannot cook attempt ${message.deliveryCount}`);
        }
        okays.add(message.value!.toString());
      },
    });
    await waitFor(async () => (await c.admin().listTopics()).includes(`${group}.dlq`));
    const [letter] = await readAll(c, `${group}.dlq`, 1);
    await consumer.close();
    expect(attempts).toEqual([1, 2, 3]);
    expect(okays.size).toBe(4);
    expect(letter!.value?.toString()).toBe('poison');
    const headers = Object.fromEntries(Object.entries(letter!.headers).map(([name, value]) => [name, value.toString()]));
    expect(headers).toEqual({
      'spool.dlq.topic': topic,
      'spool.dlq.partition': '0',
      'spool.dlq.offset': '2',
      'spool.dlq.delivery-count': '3',
      'spool.dlq.group': group,
      'spool.dlq.error': 'cannot cook attempt 3',
    });
  });

  it('keeps accepted records accepted across a broker kill -9', async () => {
    const dataDir = tempDir();
    const first = await broker(dataDir);
    const c1 = client(first.address);
    const topic = randomTopic();
    await produce(c1, topic, 20);
    const group = `g-${topic}`;
    const consumer = c1.shareConsumer({ groupId: group, maxRecords: 20 });
    await consumer.subscribe({ topics: [topic] });
    const accepted: number[] = [];
    for await (const message of consumer) {
      if (message.offset % 2 === 0) {
        await message.ack();
        accepted.push(message.offset);
      }
      if (message.offset === 19) break;
    }
    expect(accepted).toHaveLength(10);
    await first.kill();
    await c1.close({ timeoutMs: 200 });
    brokers.splice(brokers.indexOf(first), 1);

    const second = await broker(dataDir);
    const c2 = client(second.address);
    const again = c2.shareConsumer({ groupId: group, maxRecords: 100, maxWaitMs: 100 });
    await again.subscribe({ topics: [topic] });
    const redelivered: ShareMessage[] = [];
    for await (const message of again) {
      redelivered.push(message);
      await message.ack();
      if (redelivered.length === 10) break;
    }
    expect(redelivered.map((message) => message.offset)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(redelivered.every((message) => message.deliveryCount === 2)).toBe(true);
    await again.close();
  });
});
