// Proves the SDK admin calls alterConfigs, createPartitions, deleteRecords and
// describeCluster against a real broker process (port 0, its own temp dir) over the native
// protocol: a config change is visible in describeTopics and survives a restart (the other
// configs unchanged); added partitions take messages; deleteRecords moves the log start
// offset (reads below it are OFFSET_OUT_OF_RANGE, a consumer from the beginning starts
// there, closed segments below it are deleted) and the new start survives a restart;
// per-item errors (UNKNOWN_TOPIC, INVALID_CONFIG, INVALID_PARTITIONS, OFFSET_OUT_OF_RANGE,
// INVALID_TOPIC for the internal topic) are SpoolErrors; describeCluster counts topics.

import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { waitFor, randomTopic, startBroker, tempDir, type BrokerProcess } from '../helpers/broker.js';

const dataDir = tempDir();
let broker: BrokerProcess;
let client: Client;

async function start(port?: number): Promise<void> {
  broker = await startBroker({ dataDir, args: ['--fsync', 'never'], ...(port !== undefined ? { port } : {}) });
  client = new Client({ brokers: [broker.address] });
}

async function restart(): Promise<void> {
  await client.close();
  await broker.stop();
  await start();
}

afterAll(async () => {
  await client?.close();
  await broker?.stop();
  broker?.cleanup();
});

describe('admin: alter, add partitions, delete records, describe cluster', () => {
  it('alterConfigs sets the named configs only and survives a restart', async () => {
    await start();
    const admin = client.admin();
    const topic = randomTopic('alter');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, config: { 'retention.ms': 60_000, 'segment.bytes': 1_048_576 } }] });
    await admin.alterConfigs({ topics: [{ topic, config: { 'retention.ms': 1000 }, configEntries: [{ name: 'max.message.bytes', value: '2048' }] }] });
    const check = async (): Promise<void> => {
      const [description] = await client.admin().describeTopics({ topics: [topic] });
      expect(Number(description!.config['retention.ms'])).toBe(1000);
      expect(Number(description!.config['max.message.bytes'])).toBe(2048);
      expect(Number(description!.config['segment.bytes'])).toBe(1_048_576);
    };
    await check();
    // The new max.message.bytes is in force at once.
    const producer = client.producer({ lingerMs: 0, retries: 0 });
    await expect(producer.send({ topic, messages: [{ value: Buffer.alloc(4096) }] })).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await producer.close();
    await restart();
    await check();
    await expect(client.admin().alterConfigs({ topics: [{ topic, config: { 'no.such.key': 1 } }] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(client.admin().alterConfigs({ topics: [{ topic: randomTopic('missing'), config: { 'retention.ms': 1 } }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await expect(client.admin().alterConfigs({ topics: [{ topic: '__consumer_offsets', config: { 'retention.ms': 1 } }] })).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
  });

  it('createPartitions grows a topic; the new partitions take messages; shrinking is INVALID_PARTITIONS', async () => {
    const admin = client.admin();
    const topic = randomTopic('grow');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const [description] = await admin.describeTopics({ topics: [topic] });
    expect(description!.partitions).toHaveLength(4);
    const producer = client.producer({ lingerMs: 0 });
    const [result] = await producer.send({ topic, messages: [{ value: 'x', partition: 3 }] });
    expect(result).toMatchObject({ partition: 3, offset: 0 });
    await producer.close();
    await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await expect(admin.createPartitions({ topicPartitions: [{ topic: randomTopic('missing'), count: 3 }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
  });

  it('deleteRecords moves the log start offset, deletes whole segments below it, and survives a restart', async () => {
    const admin = client.admin();
    const topic = randomTopic('trim');
    // Small segments so that deleting records removes whole segment files.
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, config: { 'segment.bytes': 1024 } }] });
    const producer = client.producer({ lingerMs: 0 });
    for (let index = 0; index < 100; index++) await producer.send({ topic, messages: [{ value: `value-${index}-${'x'.repeat(40)}`, partition: 0 }] });
    await producer.close();
    const [before] = await admin.describeTopics({ topics: [topic] });
    const segmentsBefore = before!.partitions[0]!.segments;
    expect(segmentsBefore).toBeGreaterThan(3);

    expect(await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 60 }, { partition: 1, offset: -1 }] })).toEqual([
      { partition: 0, lowWatermark: 60 },
      { partition: 1, lowWatermark: 0 },
    ]);
    const [after] = await admin.describeTopics({ topics: [topic] });
    expect(after!.partitions[0]!.logStartOffset).toBe(60);
    // A segment still being flushed after its roll goes once its flush is done (a loaded machine).
    await waitFor(async () => (await admin.describeTopics({ topics: [topic] }))[0]!.partitions[0]!.segments < segmentsBefore);
    // Never moves back.
    expect(await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 10 }] })).toEqual([{ partition: 0, lowWatermark: 60 }]);
    await expect(admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 101 }] })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });

    const readFromBeginning = async (): Promise<number[]> => {
      const consumer = client.consumer();
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const offsets: number[] = [];
      for await (const message of consumer) {
        offsets.push(message.offset);
        if (message.offset === 99) break;
      }
      await consumer.close();
      return offsets;
    };
    expect(await readFromBeginning()).toEqual(Array.from({ length: 40 }, (_, index) => 60 + index));
    await restart();
    expect(await client.admin().listOffsets({ topic, timestamp: 'earliest' })).toEqual([
      { partition: 0, offset: 60 },
      { partition: 1, offset: 0 },
    ]);
    expect(await readFromBeginning()).toEqual(Array.from({ length: 40 }, (_, index) => 60 + index));
  });

  it('describeCluster names the broker and counts topics and partitions', async () => {
    const admin = client.admin();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: broker.port }]);
    expect(cluster.controller).toBe(0);
    expect(cluster.brokerVersion).toMatch(/^\d+\.\d+\.\d+/);
    const topics = await Promise.all((await admin.listTopics()).map(async (name) => (await admin.describeTopics({ topics: [name] }))[0]!));
    expect(cluster.topics).toBe(topics.length);
    expect(cluster.partitions).toBe(topics.reduce((sum, topic) => sum + topic.partitions.length, 0));
  });
});
