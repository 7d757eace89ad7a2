// Proves produce/consume round trips through the SDK against a real broker process over
// TCP: keyed messages land on their murmur2 partitions and come back in per-partition
// order with keys, values, headers and timestamps intact; send() offsets match what the
// consumer reads; acks 0, 1 and 'all', gzip, snappy and lz4, many producers at once, and UNKNOWN_TOPIC.
import { describe, expect, it } from 'vitest';
import { Client, type ConsumedMessage } from '../../src/client/index.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { useBroker } from '../helpers/use-broker.js';

const { address, client } = useBroker(['--fsync', 'never']);

async function createTopic(partitions: number, config?: Record<string, string | number>): Promise<string> {
  const topic = randomTopic();
  await client().admin().createTopics({ topics: [{ topic, numPartitions: partitions, ...(config ? { config } : {}) }] });
  return topic;
}

/** Reads `count` messages from every partition of `topic` from the start. */
async function readAll(topic: string, partitions: number, count: number): Promise<ConsumedMessage[]> {
  const consumer = client().consumer({ maxWaitMs: 100 });
  try {
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    return await take(consumer, count);
  } finally {
    await consumer.close();
  }
}

describe('round trips', () => {
  it('keys go to their murmur2 partitions and each partition keeps its order', async () => {
    const partitions = 4;
    const topic = await createTopic(partitions);
    const producer = client().producer({ acks: 1, lingerMs: 2 });
    const messages = Array.from({ length: 500 }, (_, index) => ({
      key: `user-${index % 23}`,
      value: `event-${index}`,
      headers: { seq: String(index), source: Buffer.from([1, 2, 3]) },
      timestamp: 1_700_000_000_000 + index,
    }));
    // Several sends in flight at once, as a busy application would do.
    const results = (await Promise.all([0, 1, 2, 3, 4].map((chunk) => producer.send({ topic, messages: messages.slice(chunk * 100, chunk * 100 + 100) })))).flat();
    expect(results).toHaveLength(500);
    results.forEach((result, index) => expect(result.partition).toBe(partitionForKey(messages[index]!.key, partitions)));

    const consumed = await readAll(topic, partitions, 500);
    for (let partition = 0; partition < partitions; partition++) {
      const expected = messages.filter((message) => partitionForKey(message.key, partitions) === partition).map((message) => message.value);
      const got = consumed.filter((message) => message.partition === partition);
      expect(got.map((message) => message.value!.toString())).toEqual(expected);
      expect(got.map((message) => message.offset)).toEqual(got.map((_, index) => index));
    }
    const byValue = new Map(consumed.map((message) => [message.value!.toString(), message]));
    messages.forEach((message, index) => {
      const got = byValue.get(message.value)!;
      expect(got.key!.toString()).toBe(message.key);
      expect(got.timestamp).toBe(message.timestamp);
      expect(got.headers['seq']!.toString()).toBe(String(index));
      expect([...got.headers['source']!]).toEqual([1, 2, 3]);
      expect(got.offset).toBe(results[index]!.offset);
      expect(got.partition).toBe(results[index]!.partition);
    });
    await producer.close();
  });

  it('null keys and values, Buffers and strings, explicit partitions', async () => {
    const topic = await createTopic(3);
    const producer = client().producer({ lingerMs: 0 });
    const results = await producer.send({
      topic,
      messages: [
        { value: null, partition: 2 },
        { key: Buffer.from([0, 255]), value: Buffer.from('bytes'), partition: 2 },
        { key: null, value: 'ünïcödé ☺', partition: 2 },
      ],
    });
    expect(results.map((result) => [result.partition, result.offset])).toEqual([
      [2, 0],
      [2, 1],
      [2, 2],
    ]);
    const consumer = client().consumer();
    await consumer.assign([{ topic, partition: 2, offset: 0 }]);
    const [a, b, c] = await take(consumer, 3);
    expect(a!.value).toBeNull();
    expect(a!.key).toBeNull();
    expect(a!.headers).toEqual({});
    expect([...b!.key!]).toEqual([0, 255]);
    expect(b!.value!.toString()).toBe('bytes');
    expect(c!.value!.toString()).toBe('ünïcödé ☺');
    await consumer.close();
    await producer.close();
  });

  it('acks 0, 1 and all all deliver; acks 0 reports offset -1', async () => {
    const topic = await createTopic(1);
    const producer = client().producer({ lingerMs: 1 });
    const zero = await producer.send({ topic, acks: 0, messages: [{ value: 'zero' }] });
    expect(zero[0]!.offset).toBe(-1);
    // acks 0 has no answer; wait until it is in the log before the ordered ones.
    await waitFor(async () => (await client().admin().listOffsets({ topic }))[0]!.offset === 1);
    const one = await producer.send({ topic, acks: 1, messages: [{ value: 'one' }] });
    const all = await producer.send({ topic, acks: 'all', messages: [{ value: 'all' }] });
    expect([one[0]!.offset, all[0]!.offset]).toEqual([1, 2]);
    const consumed = await readAll(topic, 1, 3);
    expect(consumed.map((message) => message.value!.toString())).toEqual(['zero', 'one', 'all']);
    await producer.close();
  });

  it.each(['gzip', 'snappy', 'lz4'] as const)('%s batches round-trip', async (compression) => {
    const topic = await createTopic(2);
    const producer = client().producer({ compression, lingerMs: 5 });
    const messages = Array.from({ length: 300 }, (_, index) => ({ key: `k${index}`, value: `compressible ${'abc'.repeat(50)} ${index}` }));
    await producer.send({ topic, messages });
    const consumed = await readAll(topic, 2, 300);
    expect(new Set(consumed.map((message) => message.value!.toString()))).toEqual(new Set(messages.map((message) => message.value)));
    await producer.close();
  });

  it('many producers at once: every message arrives exactly once, per-producer order per partition', async () => {
    const topic = await createTopic(3);
    const producers = Array.from({ length: 8 }, () => client().producer({ lingerMs: 2, acks: 1 }));
    const perProducer = 400;
    await Promise.all(
      producers.map(async (producer, producerIndex) => {
        for (let round = 0; round < 4; round++) {
          const messages = Array.from({ length: perProducer / 4 }, (_, index) => ({ key: `p${producerIndex}`, value: `${producerIndex}:${round * 100 + index}` }));
          await producer.send({ topic, messages });
        }
      }),
    );
    const consumed = await readAll(topic, 3, producers.length * perProducer);
    for (let producerIndex = 0; producerIndex < producers.length; producerIndex++) {
      const sequence = consumed.filter((message) => message.value!.toString().startsWith(`${producerIndex}:`)).map((message) => Number(message.value!.toString().split(':')[1]));
      expect(sequence).toEqual(Array.from({ length: perProducer }, (_, index) => index));
    }
    await Promise.all(producers.map((producer) => producer.close()));
  });

  it('independent clients produce concurrently to one partition without loss', async () => {
    const topic = await createTopic(1);
    const clients = Array.from({ length: 4 }, () => new Client({ brokers: [address()] }));
    await Promise.all(
      clients.map(async (other, index) => {
        const producer = other.producer({ lingerMs: 1 });
        await Promise.all(Array.from({ length: 10 }, (_, round) => producer.send({ topic, messages: Array.from({ length: 50 }, (_, at) => ({ value: `${index}-${round}-${at}` })) })));
      }),
    );
    await Promise.all(clients.map((other) => other.close()));
    const consumed = await readAll(topic, 1, 2000);
    expect(new Set(consumed.map((message) => message.value!.toString())).size).toBe(2000);
    expect(consumed.map((message) => message.offset)).toEqual(Array.from({ length: 2000 }, (_, index) => index));
  });

  it('an unknown topic is a SpoolError UNKNOWN_TOPIC', async () => {
    const producer = client().producer();
    await expect(producer.send({ topic: randomTopic('missing'), messages: [{ value: 'x' }] })).rejects.toMatchObject({ name: 'SpoolError', code: 'UNKNOWN_TOPIC' });
    await expect(client().admin().listOffsets({ topic: randomTopic('missing') })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await producer.close();
  });
});
