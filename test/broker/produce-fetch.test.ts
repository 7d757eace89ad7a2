// Proves the broker's data path over real TCP against a real `spool serve` process:
// produce/fetch round trips (bytes served exactly as stored, offsets assigned), fetch
// limits, long-poll wake-up on produce and timeout, many pipelined requests answered in
// order on one connection, concurrent producers on one partition (offsets unique and
// consecutive), acks 0/1/all, ListOffsets, and the admin APIs. Uses the raw test client
// built on the protocol codec.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { startBroker, randomTopic, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf, recordsOf } from './records.js';

let broker: BrokerProcess;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({ args: ['--fsync', 'never'] });
  client = await RawClient.connect(broker.port);
});

afterAll(async () => {
  await client?.close();
  expect(await broker.stop()).toBe(0);
  broker.cleanup();
});

async function newTopic(partitions = 1): Promise<string> {
  const topic = randomTopic();
  const created = await client.createTopic(topic, partitions);
  expect(created.topics[0]!.errorCode).toBe(0);
  return topic;
}

describe('produce and fetch', () => {
  it('round-trips batches byte for byte with assigned offsets', async () => {
    const topic = await newTopic();
    const first = batchOf(['a', 'b', 'c']);
    const second = batchOf(['d']);
    expect((await client.produce(topic, 0, first)).baseOffset).toBe(0);
    expect((await client.produce(topic, 0, second)).baseOffset).toBe(3);
    const { header, parts } = await client.fetch([{ topic, partition: 0, offset: 0 }]);
    expect(header.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 4, logStartOffset: 0 });
    expect(recordsOf(parts[0]!)).toEqual([
      { offset: 0, value: 'a' },
      { offset: 1, value: 'b' },
      { offset: 2, value: 'c' },
      { offset: 3, value: 'd' },
    ]);
    // Stored bytes are the produced bytes except the baseOffset field.
    expect(parts[0]!.subarray(8, first.length)).toEqual(first.subarray(8));
    // Fetching from the middle returns the batch holding the offset.
    const middle = await client.fetch([{ topic, partition: 0, offset: 3 }]);
    expect(recordsOf(middle.parts[0]!)).toEqual([{ offset: 3, value: 'd' }]);
  });

  it('produces several partitions in one request', async () => {
    const topic = await newTopic(3);
    const batches = [batchOf(['p0']), batchOf(['p1a', 'p1b']), batchOf(['p2'])];
    const response = await client.request<M.ProduceResponse>(
      ApiKey.Produce,
      { acks: 1, timeoutMs: 1000, partitions: batches.map((b, partition) => ({ topic, partition, size: b.length })) },
      batches,
    );
    expect(response.header.partitions.map((p) => [p.partition, p.errorCode, p.baseOffset])).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [2, 0, 0],
    ]);
    const fetched = await client.fetch([0, 1, 2].map((partition) => ({ topic, partition, offset: 0 })));
    expect(fetched.parts.map((p) => recordsOf(p).map((r) => r.value))).toEqual([['p0'], ['p1a', 'p1b'], ['p2']]);
  });

  it('respects maxBytes but always returns one whole batch', async () => {
    const topic = await newTopic(2);
    for (let i = 0; i < 5; i++) await client.produce(topic, 0, batchOf([`v${i}`.repeat(50)]));
    await client.produce(topic, 1, batchOf(['other']));
    const batchBytes = batchOf(['v0'.repeat(50)]).length;
    // Partition maxBytes smaller than a batch: still one batch.
    const one = await client.fetch([{ topic, partition: 0, offset: 0, maxBytes: 10 }]);
    expect(recordsOf(one.parts[0]!).length).toBe(1);
    // Two and a half batches: two whole batches.
    const two = await client.fetch([{ topic, partition: 0, offset: 0, maxBytes: Math.floor(batchBytes * 2.5) }]);
    expect(recordsOf(two.parts[0]!).length).toBe(2);
    // Request maxBytes used up by the first partition: the second gets nothing.
    const limited = await client.fetch(
      [
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: 0 },
      ],
      { maxBytes: batchBytes * 5 },
    );
    expect(limited.header.partitions.map((p) => p.size)).toEqual([batchBytes * 5, 0]);
    expect(limited.header.partitions[1]!.highWatermark).toBe(1);
  });

  it('answers OFFSET_OUT_OF_RANGE with the log bounds', async () => {
    const topic = await newTopic();
    await client.produce(topic, 0, batchOf(['x', 'y']));
    const { header } = await client.fetch([{ topic, partition: 0, offset: 10 }]);
    expect(header.partitions[0]).toMatchObject({ errorCode: 2, logStartOffset: 0, highWatermark: 2, size: 0 });
  });

  it('answers unknown topics and partitions per partition', async () => {
    const topic = await newTopic();
    const missing = randomTopic('missing');
    const batch = batchOf(['x']);
    const response = await client.request<M.ProduceResponse>(
      ApiKey.Produce,
      {
        acks: -1,
        timeoutMs: 1000,
        partitions: [
          { topic: missing, partition: 0, size: batch.length },
          { topic, partition: 5, size: batch.length },
          { topic, partition: 0, size: batch.length },
        ],
      },
      [batch, batch, batch],
    );
    expect(response.header.partitions.map((p) => p.errorCode)).toEqual([4, 5, 0]);
    const fetched = await client.fetch([{ topic: missing, partition: 0, offset: 0 }]);
    expect(fetched.header.partitions[0]!.errorCode).toBe(4);
  });

  it('acks 0 sends no response; later requests still answer in order', async () => {
    const topic = await newTopic();
    const batch = batchOf(['fire', 'forget']);
    client.send(ApiKey.Produce, { acks: 0, timeoutMs: 0, partitions: [{ topic, partition: 0, size: batch.length }] }, batch);
    const before = client.received.length;
    const listed = await client.request<M.ListOffsetsResponse>(ApiKey.ListOffsets, { partitions: [{ topic, partition: 0, timestamp: -1 }] });
    expect(listed.header.partitions[0]!.offset).toBe(2);
    expect(client.received.length).toBe(before + 1);
  });
});

describe('long-poll fetch', () => {
  it('wakes up when a produce arrives', async () => {
    const topic = await newTopic();
    const consumer = await RawClient.connect(broker.port);
    const started = Date.now();
    const parked = consumer.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 10_000, minBytes: 1 });
    await new Promise((r) => setTimeout(r, 100));
    await client.produce(topic, 0, batchOf(['wake']));
    const { parts } = await parked;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(recordsOf(parts[0]!)).toEqual([{ offset: 0, value: 'wake' }]);
    await consumer.close();
  });

  it('waits for minBytes across several appends', async () => {
    const topic = await newTopic();
    const consumer = await RawClient.connect(broker.port);
    const batchBytes = batchOf(['m0']).length;
    const parked = consumer.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 10_000, minBytes: batchBytes * 3 });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 30));
      await client.produce(topic, 0, batchOf([`m${i}`]));
    }
    const { parts } = await parked;
    expect(recordsOf(parts[0]!).map((r) => r.value)).toEqual(['m0', 'm1', 'm2']);
    await consumer.close();
  });

  it('answers empty after maxWaitMs', async () => {
    const topic = await newTopic();
    const started = Date.now();
    const { header } = await client.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 300, minBytes: 1 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3_000);
    expect(header.partitions[0]).toMatchObject({ errorCode: 0, size: 0, highWatermark: 0 });
  });
});

describe('pipelining and concurrency', () => {
  it('answers many pipelined requests on one connection in order', async () => {
    const topic = await newTopic();
    const promises: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) promises.push(client.produce(topic, 0, batchOf([`n${i}`]), i % 2 === 0 ? 1 : -1));
      else if (i % 3 === 1) promises.push(client.request(ApiKey.ListOffsets, { partitions: [{ topic, partition: 0, timestamp: -1 }] }));
      else promises.push(client.request(ApiKey.ApiVersions, {}));
    }
    const start = client.received.length;
    await Promise.all(promises);
    const ids = client.received.slice(start).map((r) => r.correlationId);
    expect(ids.length).toBe(300);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const produced = (await Promise.all(promises.filter((_, i) => i % 3 === 0))) as M.ProducePartitionResult[];
    expect(produced.map((p) => p.baseOffset)).toEqual(produced.map((_, i) => i));
  });

  it('keeps order past the in-flight limit while the client does not read (backpressure)', async () => {
    const topic = await newTopic();
    await client.produce(topic, 0, batchOf(['x'.repeat(1000)]));
    const reader = await RawClient.connect(broker.port);
    reader.socket.pause();
    const promises: Array<Promise<unknown>> = [];
    // 3000 requests (> 1000 in flight), a third of them fetches that make the responses large.
    for (let i = 0; i < 3000; i++) {
      promises.push(i % 3 === 0 ? reader.fetch([{ topic, partition: 0, offset: 0 }]) : reader.request(ApiKey.ApiVersions, {}));
    }
    await new Promise((r) => setTimeout(r, 300));
    reader.socket.resume();
    await Promise.all(promises);
    const ids = reader.received.map((r) => r.correlationId);
    expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    await reader.close();
  });

  it('answers the requests of a client that half-closes after sending them', async () => {
    const topic = await newTopic();
    const halfClosed = await RawClient.connect(broker.port);
    const produced = halfClosed.produce(topic, 0, batchOf(['last words']));
    halfClosed.socket.end();
    expect((await produced).baseOffset).toBe(0);
    await halfClosed.closed;
  });

  it('gives concurrent producers on one partition unique, consecutive offsets', async () => {
    const topic = await newTopic();
    const producers = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(broker.port)));
    const results = await Promise.all(
      producers.flatMap((producer, p) =>
        Array.from({ length: 25 }, (_, i) => producer.produce(topic, 0, batchOf([`p${p}-${i}-a`, `p${p}-${i}-b`]))),
      ),
    );
    const bases = results.map((r) => r.baseOffset).sort((a, b) => a - b);
    expect(bases).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    const fetched = await client.fetch([{ topic, partition: 0, offset: 0, maxBytes: 10 * 1024 * 1024 }]);
    const records = recordsOf(fetched.parts[0]!);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(new Set(records.map((r) => r.value)).size).toBe(200);
    await Promise.all(producers.map((p) => p.close()));
  });
});

describe('admin APIs', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const topic = randomTopic();
    const created = await client.createTopic(topic, 2, { 'retention.ms': 60000 });
    expect(created.topics[0]!.errorCode).toBe(0);
    const again = await client.createTopic(topic, 2);
    expect(again.topics[0]!.errorCode).toBe(7);
    await client.produce(topic, 1, batchOf(['d']));

    const metadata = await client.request<M.MetadataResponse>(ApiKey.Metadata, { topics: null });
    expect(metadata.header.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: broker.port }]);
    expect(metadata.header.topics.find((t) => t.name === topic)).toMatchObject({ partitions: 2, internal: false });

    const described = await client.request<M.DescribeTopicsResponse>(ApiKey.DescribeTopics, { names: [topic] });
    const description = described.header.topics[0]!;
    expect(description.errorCode).toBe(0);
    expect(Number(description.config['retention.ms'])).toBe(60000);
    expect(description.partitions.map((p) => p.logEndOffset)).toEqual([0, 1]);
    expect(description.partitions[1]!.sizeBytes).toBeGreaterThan(0);

    const deleted = await client.request<M.DeleteTopicsResponse>(ApiKey.DeleteTopics, { names: [topic] });
    expect(deleted.header.topics[0]!.errorCode).toBe(0);
    const gone = await client.request<M.MetadataResponse>(ApiKey.Metadata, { topics: [topic] });
    expect(gone.header.topics[0]!.errorCode).toBe(4);
  });

  it('refuses reserved names, bad partition counts and bad configs per topic', async () => {
    const response = await client.request<M.CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        { name: '__mine', partitions: 1 },
        { name: randomTopic(), partitions: 0 },
        { name: randomTopic(), partitions: 1, config: { 'no.such.config': 1 } },
      ],
    });
    expect(response.header.topics.map((t) => t.errorCode)).toEqual([6, 8, 9]);
  });

  it('lists offsets: earliest, latest, by timestamp', async () => {
    const topic = await newTopic();
    await client.produce(topic, 0, batchOf(['a', 'b']));
    const response = await client.request<M.ListOffsetsResponse>(ApiKey.ListOffsets, {
      partitions: [
        { topic, partition: 0, timestamp: -2 },
        { topic, partition: 0, timestamp: -1 },
        { topic, partition: 0, timestamp: 0 },
        { topic, partition: 0, timestamp: Date.now() + 3_600_000 },
      ],
    });
    expect(response.header.partitions.map((p) => p.offset)).toEqual([0, 2, 0, 2]);
  });

  it('reports every API in ApiVersions', async () => {
    const response = await client.request<M.ApiVersionsResponse>(ApiKey.ApiVersions, { clientSoftwareName: 'test' });
    expect(response.header.apis.map((a) => a.apiKey).sort((a, b) => a - b)).toEqual(Object.values(ApiKey).sort((a, b) => a - b));
    expect(typeof response.header.brokerVersion).toBe('string');
  });

  it('routes the group APIs to the coordinator, its errors becoming error responses', async () => {
    const topic = await newTopic(2);
    const groupId = randomTopic('g');
    const joined = await client.request<M.ConsumerGroupHeartbeatResponse>(ApiKey.ConsumerGroupHeartbeat, {
      groupId,
      memberId: '',
      memberEpoch: 0,
      topics: [topic],
      sessionTimeoutMs: 45_000,
    });
    expect(joined.header.errorCode).toBe(0);
    expect(joined.header.memberId).not.toBe('');
    const listed = await client.request<M.ListGroupsResponse>(ApiKey.ListGroups, {});
    expect(listed.header.groups.map((g) => g.groupId)).toContain(groupId);
    // A SpoolError from the coordinator (unknown member) comes back as a code, not a hang.
    const fenced = await client.request<M.ConsumerGroupHeartbeatResponse>(ApiKey.ConsumerGroupHeartbeat, {
      groupId,
      memberId: 'nobody',
      memberEpoch: 5,
    });
    expect(fenced.header.errorCode).not.toBe(0);
    expect(typeof fenced.header.errorMessage).toBe('string');
  });
});
