// Proves the SDK's former silent misreads and traps (issue 10) against a real broker
// process: kafkajs-shaped array headers are written one header per element and read back
// in order in headerList (repeats kept), and a header value of any other type is a
// TypeError naming the header before anything is sent.
import { describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../../src/client/index.js';
import { randomTopic } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { useBroker } from '../helpers/use-broker.js';

const { client } = useBroker(['--fsync', 'never']);

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
