// Proves client quotas slow a producer to its byte rate and leave others alone: two native
// producers send 3 MiB each at the same time, one with a client id limited to 1 MiB/s, the
// other unlimited; the limited one's measured rate is within a loose band around its quota
// (the first second is a burst, so ~1.5 MiB/s over 3 MiB), the other is much faster. A
// kafkajs producer under the same quota (client id from the Kafka request header) is slowed
// the same way; on a raw Kafka wire the answers carry throttleTimeMs and the next request
// waits out the mute; a native consumer under a 1 MiB/s fetch quota reads at about that. Broker in this process, no
// authentication: quotas by client id. Loose bands: the machine is shared.

import { Kafka, logLevel } from 'kafkajs';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, silentLogger, type Broker } from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { ApiKeys, decodeResponse } from '../../src/kafka/index.js';
import { batchOf } from '../broker/records.js';
import { randomTopic, tempDir } from '../helpers/broker.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';

const MiB = 1024 * 1024;
const VALUE = Buffer.alloc(100 * 1024, 7);
const MESSAGES = 30; // 3,072,000 bytes of values

let broker: Broker;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, kafkaListener: { host: '127.0.0.1', port: 0 } });
  broker.context.security.alterQuota({ user: null, clientId: 'slow' }, { producer_byte_rate: MiB });
  broker.context.security.alterQuota({ user: null, clientId: 'slow-kafka' }, { producer_byte_rate: MiB });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Sends MESSAGES values one request each (acks 1), one after another or all at once; returns bytes per second. */
async function nativeRate(clientId: string, topic: string, pipelined = false): Promise<number> {
  const client = new Client({ brokers: [`127.0.0.1:${broker.port}`], clientId });
  const producer = client.producer({ lingerMs: 0, acks: 1, idempotent: false });
  const started = performance.now();
  const send = () => producer.send({ topic, messages: [{ value: VALUE }] });
  if (pipelined) await Promise.all(Array.from({ length: MESSAGES }, send));
  else for (let i = 0; i < MESSAGES; i++) await send();
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return (MESSAGES * VALUE.length) / seconds;
}

describe('produce quotas', () => {
  it('throttles the client over its quota to about its rate, not the other one', async () => {
    const topic = randomTopic('quota');
    await broker.context.logs.createTopic(topic, 1);
    // The unthrottled one pipelines its requests, so it is not bound by round trips on a busy machine.
    const [slow, fast] = await Promise.all([nativeRate('slow', topic), nativeRate('fast', topic, true)]);
    console.log(`native: slow ${(slow / MiB).toFixed(2)} MiB/s (quota 1), fast ${(fast / MiB).toFixed(2)} MiB/s`);
    expect(slow).toBeGreaterThan(0.6 * MiB);
    expect(slow).toBeLessThan(2 * MiB);
    // Loose: the machine is shared (3-10x when quiet).
    expect(fast).toBeGreaterThan(2 * slow);
    expect(broker.context.logs.getPartition(topic, 0).logEndOffset).toBe(2 * MESSAGES);
  });

  it('throttles a kafkajs producer by the client id of its requests', async () => {
    const topic = randomTopic('quota-kafka');
    await broker.context.logs.createTopic(topic, 1);
    const kafka = new Kafka({ clientId: 'slow-kafka', brokers: [`127.0.0.1:${broker.kafka!.port}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const started = performance.now();
    for (let i = 0; i < MESSAGES; i++) await producer.send({ topic, acks: 1, messages: [{ value: VALUE }] });
    const rate = (MESSAGES * VALUE.length) / ((performance.now() - started) / 1000);
    await producer.disconnect();
    console.log(`kafkajs: ${(rate / MiB).toFixed(2)} MiB/s (quota 1)`);
    expect(rate).toBeGreaterThan(0.6 * MiB);
    expect(rate).toBeLessThan(2 * MiB);
  });

  it('throttles a native consumer over its fetch quota', async () => {
    const topic = randomTopic('quota-fetch');
    await broker.context.logs.createTopic(topic, 1);
    await nativeRate('fast', topic);
    broker.context.security.alterQuota({ user: null, clientId: 'slow-fetch' }, { consumer_byte_rate: MiB });
    const client = new Client({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'slow-fetch' });
    // 256 KiB fetches: the throttle follows each answer (Kafka's way), so a rate shows over many.
    const consumer = client.consumer({ autoOffsetReset: 'earliest', maxBytes: 256 * 1024, maxBytesPerPartition: 256 * 1024 });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const started = performance.now();
    let count = 0;
    for await (const message of consumer) {
      expect(message.value!.length).toBe(VALUE.length);
      if (++count === MESSAGES) break;
    }
    const rate = (MESSAGES * VALUE.length) / ((performance.now() - started) / 1000);
    await client.close();
    console.log(`native consumer: ${(rate / MiB).toFixed(2)} MiB/s (fetch quota 1)`);
    expect(rate).toBeGreaterThan(0.6 * MiB);
    expect(rate).toBeLessThan(2.2 * MiB);
  });

  it('answers throttleTimeMs once the burst is spent, and mutes the connection that long', async () => {
    const topic = randomTopic('quota-wire');
    await broker.context.logs.createTopic(topic, 1);
    broker.context.security.alterQuota({ user: null, clientId: 'wire' }, { producer_byte_rate: 100 * 1024 });
    const wire = await KafkaWire.connect(`127.0.0.1:${broker.kafka!.port}`);
    const records = batchOf(['x'.repeat(200 * 1024)]);
    const produce = async (): Promise<{ throttleTimeMs: number }> => {
      const { bytes, correlationId } = wire.frame(ApiKeys.Produce, 7, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] }, 'wire');
      wire.write(bytes);
      const answer = decodeResponse(ApiKeys.Produce, 7, (await wire.next())!);
      expect(answer.correlationId).toBe(correlationId);
      return { throttleTimeMs: answer.body.throttleTimeMs ?? 0 };
    };
    // 200 KiB at 100 KiB/s: one second ahead of the burst.
    const startedMs = performance.now();
    const first = await produce();
    expect(first.throttleTimeMs).toBeGreaterThan(500);
    expect(first.throttleTimeMs).toBeLessThanOrEqual(1100);
    // The next request is read only once the mute is over.
    const second = await produce();
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(first.throttleTimeMs);
    expect(second.throttleTimeMs).toBeGreaterThan(first.throttleTimeMs);
    await wire.close();
  });
});
