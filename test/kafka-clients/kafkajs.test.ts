// kafkajs 2.2.4, a client nobody here wrote, against spool's Kafka listener: a producer
// sends gzip batches, a consumer group of three members (run eachMessage) shares a
// 6-partition topic while one member is stopped half-way, and every message is processed;
// the offsets the group committed are what `spool group describe` shows (lag 0).
// What must survive: every acknowledged message is processed by some member.

import { CompressionTypes, Kafka, logLevel, type Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { spool } from '../cli/run.js';
import { useKafkaBroker } from './helpers.js';

describe('kafkajs against the Kafka listener', () => {
  const shared = useKafkaBroker();
  const kafka = (): Kafka => new Kafka({ clientId: 'spool-test', brokers: [shared.kafka()], logLevel: logLevel.NOTHING, retry: { retries: 10 } });

  it('produces gzip batches and a group of three shares the work, one member leaving mid-way', async () => {
    const topic = randomTopic('kjs');
    const groupId = randomTopic('kjs-group');
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    expect(await admin.listTopics()).toContain(topic);
    await admin.disconnect();

    const producer = kafka().producer();
    await producer.connect();
    const total = 3000;
    const send = async (from: number, to: number): Promise<void> => {
      const messages = [];
      for (let i = from; i < to; i++) messages.push({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } });
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages });
    };

    const seen = new Map<string, number>();
    const perMember = [0, 0, 0];
    const consumers: Consumer[] = [];
    for (let member = 0; member < 3; member++) {
      const consumer = kafka().consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const value = message.value!.toString();
          expect(message.headers?.['n']?.toString()).toBe(value.slice(1));
          seen.set(value, (seen.get(value) ?? 0) + 1);
          perMember[member]!++;
        },
      });
      consumers.push(consumer);
    }
    await send(0, total / 2);
    await waitFor(() => perMember[1]! > 0 && seen.size >= total / 4, 30_000, 50);
    await consumers[1]!.disconnect();
    await send(total / 2, total);
    await waitFor(() => seen.size === total, 40_000, 50);
    for (let i = 0; i < total; i++) expect(seen.has(`v${i}`)).toBe(true);
    await consumers[0]!.disconnect();
    await consumers[2]!.disconnect();
    await producer.disconnect();

    // Offsets committed through the Kafka wire are the native group's offsets.
    const described = await spool(shared.broker().address, `group describe ${groupId}`);
    expect(described.code, described.stderr).toBe(0);
    const offsets = await shared.client().admin().fetchOffsets({ groupId });
    expect(offsets.filter((o) => o.topic === topic).reduce((sum, o) => sum + o.offset, 0)).toBe(total);
    expect(described.stdout).toContain(topic);
  });
});
