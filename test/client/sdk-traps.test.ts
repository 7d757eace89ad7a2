// Proves the SDK's former silent misreads and traps (issue 10) against a real broker
// process: kafkajs-shaped array headers are written one header per element and read back
// in order in headerList (repeats kept), and a header value of any other type is a
// TypeError naming the header before anything is sent; offsets given as numeric strings or
// bigints (kafkajs habit) are taken by assign, seek, commit and resetOffsets, and anything
// else says "offset must be an integer" (it used to say INVALID_TIMESTAMP timestamp undefined);
// kafkajs option names with spool's meaning are taken (configEntries gives the topic its
// retention) and unknown options are refused, naming them and what to use instead.
import { describe, expect, it } from 'vitest';
import { Client, type ConsumedMessage } from '../../src/client/index.js';
import { randomTopic } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { useBroker } from '../helpers/use-broker.js';

const { client, address } = useBroker(['--fsync', 'never']);

async function createTopic(partitions = 1): Promise<string> {
  const topic = randomTopic();
  await client().admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  return topic;
}

async function readFromStart(topic: string, count: number): Promise<ConsumedMessage[]> {
  const consumer = client().consumer({ maxWaitMs: 100 });
  try {
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    return await take(consumer, count);
  } finally {
    await consumer.close();
  }
}

describe('headers', () => {
  it('array values become one header per element, and headerList keeps every header in order', async () => {
    const topic = await createTopic();
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({
      topic,
      messages: [
        { value: 'a', headers: { tag: ['x', Buffer.from('y')], single: 's' } },
        { value: 'b', headers: [['k', 'one'], ['k', 'two']] },
        { value: 'c' },
      ],
    });
    const [first, second, third] = await readFromStart(topic, 3);
    expect(first!.headerList.map(([name, value]) => [name, value.toString()])).toEqual([
      ['tag', 'x'],
      ['tag', 'y'],
      ['single', 's'],
    ]);
    expect(first!.headers['tag']!.toString()).toBe('y');
    expect(first!.headers['single']!.toString()).toBe('s');
    expect(second!.headerList.map(([name, value]) => [name, value.toString()])).toEqual([
      ['k', 'one'],
      ['k', 'two'],
    ]);
    expect(third!.headerList).toEqual([]);
    expect(third!.headers).toEqual({});
    await producer.close();
  });

  it('a header value that is not a string, Buffer or array of them is a TypeError naming the header', async () => {
    const topic = await createTopic();
    const producer = client().producer({ lingerMs: 0 });
    const bad = (headers: unknown) => producer.send({ topic, messages: [{ value: 'v', headers: headers as Record<string, string> }] });
    await expect(bad({ count: 5 })).rejects.toThrow(TypeError);
    await expect(bad({ count: 5 })).rejects.toThrow(/header "count" must be a string, a Buffer or an array of them, got a number/);
    await expect(bad({ tags: ['a', 7] })).rejects.toThrow(/header "tags"\[1\] must be a string or a Buffer/);
    await expect(bad({ gone: undefined })).rejects.toThrow(/header "gone"/);
    await expect(bad({ nested: { a: 'b' } })).rejects.toThrow(/header "nested".*got an object/);
    await expect(bad('text')).rejects.toThrow(/headers must be an object/);
    await producer.send({ topic, messages: [{ value: 'ok', headers: { fine: 'yes' } }] });
    const [only] = await readFromStart(topic, 1);
    expect(only!.value!.toString()).toBe('ok');
    await producer.close();
  });
});

describe('offsets as strings and bigints', () => {
  it('assign, seek, commit and resetOffsets take numeric strings and bigints', async () => {
    const topic = await createTopic();
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: Array.from({ length: 6 }, (_, index) => ({ value: `m${index}` })) });
    await producer.close();
    const groupId = `g-${topic}`;
    const consumer = client().consumer({ maxWaitMs: 100, groupId, autoCommit: false });
    try {
      await consumer.assign([{ topic, partition: 0, offset: '3' }]);
      expect((await take(consumer, 1))[0]!.offset).toBe(3);
      await consumer.seek({ topic, partition: 0, offset: 1n });
      expect((await take(consumer, 1))[0]!.offset).toBe(1);
      await consumer.seekToTimestamp({ topic, partition: 0, timestamp: '0' });
      expect((await take(consumer, 1))[0]!.offset).toBe(0);
      await consumer.commit([{ topic, partition: 0, offset: '5' }]);
    } finally {
      await consumer.close();
    }
    const admin = client().admin();
    expect((await admin.fetchOffsets({ groupId })).map((entry) => entry.offset)).toEqual([5]);
    await admin.resetOffsets({ groupId, topic, to: '2' });
    expect((await admin.fetchOffsets({ groupId })).map((entry) => entry.offset)).toEqual([2]);
    await admin.resetOffsets({ groupId, topic, to: { offset: 4n } });
    expect((await admin.fetchOffsets({ groupId })).map((entry) => entry.offset)).toEqual([4]);
  });

  it('a message timestamp may be a numeric string (kafkajs passes strings) or a bigint', async () => {
    const topic = await createTopic();
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'a', timestamp: '1700000000123' }, { value: 'b', timestamp: 1700000000456n, headers: { h: 'v' } }] });
    await expect(producer.send({ topic, messages: [{ value: 'c', timestamp: 'yesterday' }] })).rejects.toThrow(/message 0: timestamp must be an integer/);
    await producer.close();
    const [first, second] = await readFromStart(topic, 2);
    expect(first!.timestamp).toBe(1700000000123);
    expect(second!.timestamp).toBe(1700000000456);
  });

  it('an offset that is not an integer says "offset must be an integer"', async () => {
    const topic = await createTopic();
    const consumer = client().consumer({ maxWaitMs: 100, groupId: `g-${topic}` });
    try {
      expect(() => consumer.assign([{ topic, partition: 0, offset: 'soon' }])).toThrow(/assign .*\/0: offset must be an integer/);
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      await expect(consumer.seek({ topic, partition: 0, offset: 'abc' })).rejects.toThrow(/offset must be an integer.*got "abc"/);
      await expect(consumer.seek({ topic, partition: 0, offset: -1 })).rejects.toThrow(/offset must be an integer/);
      await expect(consumer.seek({ topic, partition: 0, offset: 1.5 })).rejects.toThrow(/offset must be an integer/);
      await expect(consumer.commit([{ topic, partition: 0, offset: '1e3' }])).rejects.toThrow(/offset must be an integer/);
      await expect(client().admin().resetOffsets({ groupId: 'none', topic, to: 'x' })).rejects.toThrow(/offset must be an integer/);
    } finally {
      await consumer.close();
    }
  });
});

describe('options', () => {
  it('createTopics takes kafkajs configEntries (the topic used to get the 7-day default)', async () => {
    const topic = randomTopic();
    const admin = client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    const [description] = await admin.describeTopics({ topics: [topic] });
    expect(Number(description!.config['retention.ms'])).toBe(1000);
    expect(description!.partitions).toHaveLength(2);
    await expect(admin.createTopics({ topics: [{ topic: randomTopic(), replicationFactor: 3 }] })).rejects.toThrow(/replication factor 3: this broker is not in a cluster/);
    await expect(admin.createTopics({ topics: [{ topic: randomTopic(), replicaAssignment: [] } as never] })).rejects.toThrow(/unknown option: replicaAssignment/);
    await expect(admin.createTopics({ topics: [], validateOnly: true } as never)).rejects.toThrow(/createTopics\(\): unknown option: validateOnly/);
  });

  it('kafkajs names with the same meaning are taken under their spool names', async () => {
    const kafkajsStyle = new Client({ brokers: [address()], requestTimeout: 1234, connectionTimeout: 567, retry: { initialRetryTime: 10, maxRetryTime: 20, retries: 2 } } as never);
    try {
      expect(kafkajsStyle.requestTimeoutMs).toBe(1234);
      expect(kafkajsStyle.connectTimeoutMs).toBe(567);
      expect(kafkajsStyle.retryPolicy.options).toMatchObject({ initialRetryTimeMs: 10, maxRetryTimeMs: 20, retries: 2 });
      const producer = kafkajsStyle.producer({ maxInFlightRequests: 2 } as never);
      expect(producer.maxInFlight).toBe(2);
      const topic = await createTopic();
      const groupId = `g-${topic}`;
      const consumer = kafkajsStyle.consumer({ groupId, sessionTimeout: 6000, maxWaitTimeInMs: 50 } as never);
      await consumer.subscribe({ topic, fromBeginning: true } as never);
      await producer.send({ topic, messages: [{ value: 'hello' }] });
      expect((await take(consumer, 1))[0]!.value!.toString()).toBe('hello');
      await consumer.close();
    } finally {
      await kafkajsStyle.close();
    }
  });

  it('unknown options are refused, naming each and what to use instead', () => {
    const brokers = [address()];
    expect(() => new Client({ brokers, socketFactory: () => null, logLevel: 1 } as never)).toThrow(/new Client\(\): unknown options: socketFactory: not supported.*; logLevel: pass a logger/);
    expect(() => new Client({ brokers, retry: { initialRetryTime: 1, backoff: 2 } } as never)).toThrow(/retry: unknown option: backoff is not an option \(options: retries, initialRetryTimeMs/);
    expect(() => new Client({ brokers, requestTimeout: 5, requestTimeoutMs: 6 } as never)).toThrow(/requestTimeout and requestTimeoutMs are the same option/);
    const spare = new Client({ brokers });
    expect(() => spare.producer({ transactionalId: 'tx' } as never)).toThrow(/client.producer\(\): unknown option: transactionalId: transactions are not supported/);
    expect(() => spare.producer({ lingerms: 5 } as never)).toThrow(/lingerms is not an option \(options: lingerMs,/);
    expect(() => spare.consumer({ groupId: 'g', heartbeatInterval: 100 } as never)).toThrow(/client.consumer\(\): unknown option: heartbeatInterval: the group coordinator sets/);
    expect(() => spare.consumer({ fromBeginning: true } as never)).toThrow(/autoOffsetReset: 'earliest'/);
    void spare.close();
  });

  it('send(), subscribe() and run() refuse options spool would ignore', async () => {
    const topic = await createTopic();
    const producer = client().producer({ lingerMs: 0 });
    await expect(producer.send({ topic, messages: [{ value: 'x' }], compression: 1 } as never)).rejects.toThrow(/send\(\): unknown option: compression: set compression on client.producer/);
    await producer.close();
    const consumer = client().consumer({ groupId: `g-${topic}` });
    await expect(consumer.subscribe({ topics: [topic], fromBeginnig: true } as never)).rejects.toThrow(/subscribe\(\): unknown option: fromBeginnig/);
    await expect(consumer.run({ eachMessage: () => undefined, partitionsConsumedConcurrently: 3 } as never)).rejects.toThrow(/run\(\): unknown option: partitionsConsumedConcurrently/);
    await consumer.close();
  });
});
