// Proves the SDK stays within the broker's request limits (RequestLimits) with more
// partitions than one request may name: a producer sending to more than
// maxPartitionsPerProduce partitions at once splits its requests, and a consumer assigned
// more than maxPartitionsPerRequest partitions resolves their positions in several
// ListOffsets and fetches them in windows of maxPartitionsPerFetch, so a message on the
// last partition is read. One child broker with a topic of maxPartitionsPerRequest + 1
// partitions (killed at the end: a graceful stop would checkpoint every partition).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { RequestLimits } from '../../src/protocol/index.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';
import { take } from '../helpers/take.js';

const PARTITIONS = RequestLimits.maxPartitionsPerRequest + 1;

let broker: BrokerProcess;
let client: Client;

beforeAll(async () => {
  broker = await startBroker({ args: ['--fsync', 'never'] });
  client = new Client({ brokers: [broker.address] });
});

afterAll(async () => {
  await client?.close();
  await broker?.kill();
  broker?.cleanup();
});

it('produces to and consumes from more partitions than one request may name', async () => {
  expect(PARTITIONS).toBeGreaterThan(RequestLimits.maxPartitionsPerProduce);
  expect(PARTITIONS).toBeGreaterThan(RequestLimits.maxPartitionsPerFetch);
  const topic = randomTopic();
  await client.admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  const producer = client.producer({ lingerMs: 50 });
  const sends = Array.from({ length: PARTITIONS }, (_, partition) => producer.send({ topic, messages: [{ value: `p${partition}`, partition }] }));
  const results = await Promise.all(sends);
  expect(results.every((result) => result[0]!.offset === 0)).toBe(true);
  await producer.close();

  const consumer = client.consumer({ maxWaitMs: 100 });
  await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
  const messages = await take(consumer, PARTITIONS);
  expect(new Set(messages.map((message) => message.partition)).size).toBe(PARTITIONS);
  await consumer.close();
}, 60_000);
