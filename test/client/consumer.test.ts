// Proves the consumer against a real broker process over TCP: a parked long-poll fetch
// wakes when a message is produced (and does not hold up produce/admin responses on the
// client's other connection), seeks by offset / earliest / latest / timestamp (without
// waiting for a fetch parked at the old position), reset on
// OFFSET_OUT_OF_RANGE per autoOffsetReset, records before the position in the first
// fetched batch are skipped, run() with eachMessage and eachBatch, the processed-offset
// hook, assignment changes, and backpressure (a slow reader keeps the buffer bounded).
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/index.js';
import type { ConsumedMessage } from '../../src/client/index.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { useBroker } from '../helpers/use-broker.js';

const { client } = useBroker(['--fsync', 'never']);

async function topicWith(partitions: number, values: string[][], timestamps?: number[]): Promise<string> {
  const topic = randomTopic();
  await client().admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  const producer = client().producer({ lingerMs: 0 });
  for (let partition = 0; partition < values.length; partition++) {
    // One send per value: each becomes its own batch, so seeks land inside multi-batch fetches.
    for (let index = 0; index < values[partition]!.length; index++) {
      await producer.send({ topic, messages: [{ value: values[partition]![index]!, partition, ...(timestamps ? { timestamp: timestamps[index]! } : {}) }] });
    }
  }
  await producer.close();
  return topic;
}

const values = (messages: ConsumedMessage[]): string[] => messages.map((message) => message.value!.toString());

describe('long poll', () => {
  it('a parked fetch wakes on produce, and produce/admin answers are not stuck behind it', async () => {
    const topic = await topicWith(1, [[]]);
    const consumer = client().consumer({ maxWaitMs: 10_000 });
    await consumer.assign([{ topic, partition: 0, offset: 'latest' }]);
    const received = take(consumer, 1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the fetch is parked on the broker now
    const started = Date.now();
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'wake up' }] });
    await client().admin().listTopics();
    expect(Date.now() - started).toBeLessThan(2000); // not the 10 s of the parked fetch
    expect(values(await received)).toEqual(['wake up']);
    expect(Date.now() - started).toBeLessThan(2000);
    await producer.close();
    await consumer.close();
  });
});

describe('seeking', () => {
  it('seeks to an offset inside a fetch and skips the records before it', async () => {
    const topic = await topicWith(1, [Array.from({ length: 20 }, (_, index) => `m${index}`)]);
    // Also with the records in one batch: the fetch starts at the batch holding offset 7.
    const producer = client().producer({ lingerMs: 50 });
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, index) => ({ value: `b${index}`, partition: 0 })) });
    await producer.close();
    const consumer = client().consumer();
    await consumer.assign([{ topic, partition: 0, offset: 7 }]);
    expect(values(await take(consumer, 3))).toEqual(['m7', 'm8', 'm9']);
    await consumer.seek({ topic, partition: 0, offset: 23 });
    const after = await take(consumer, 2);
    expect(values(after)).toEqual(['b3', 'b4']);
    expect(after.map((message) => message.offset)).toEqual([23, 24]);
    await consumer.seekToBeginning();
    expect(values(await take(consumer, 1))).toEqual(['m0']);
    expect(consumer.position({ topic, partition: 0 })).toBe(1);
    await consumer.close();
  });

  it('seeks to the end (only new messages) and to a timestamp', async () => {
    const base = 1_700_000_000_000;
    const timestamps = Array.from({ length: 10 }, (_, index) => base + index * 1000);
    const topic = await topicWith(1, [Array.from({ length: 10 }, (_, index) => `t${index}`)], timestamps);
    const consumer = client().consumer({ maxWaitMs: 200 });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    await consumer.seekToTimestamp({ topic, partition: 0, timestamp: base + 4500 });
    expect(values(await take(consumer, 2))).toEqual(['t5', 't6']);
    await consumer.seekToTimestamp({ topic, partition: 0, timestamp: base });
    expect(values(await take(consumer, 1))).toEqual(['t0']);
    await consumer.seekToEnd();
    expect(consumer.position({ topic, partition: 0 })).toBe(10);
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'new' }] });
    expect(values(await take(consumer, 1))).toEqual(['new']);
    await producer.close();
    await consumer.close();
  });

  it('a seek does not wait for a fetch parked with the old position', async () => {
    const topic = await topicWith(1, [['x0', 'x1']]);
    const consumer = client().consumer({ maxWaitMs: 10_000 });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    expect(values(await take(consumer, 2))).toEqual(['x0', 'x1']);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the next fetch is parked at offset 2 now
    const started = Date.now();
    await consumer.seek({ topic, partition: 0, offset: 0 });
    expect(values(await take(consumer, 1))).toEqual(['x0']);
    expect(Date.now() - started).toBeLessThan(3000); // not the 10 s of the parked fetch
    await consumer.close();
  });

  it('an offset past the end resets per autoOffsetReset', async () => {
    const topic = await topicWith(1, [['a', 'b', 'c']]);
    const earliest = client().consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 });
    await earliest.assign([{ topic, partition: 0, offset: 1000 }]);
    expect(values(await take(earliest, 3))).toEqual(['a', 'b', 'c']);
    await earliest.close();

    const latest = client().consumer({ autoOffsetReset: 'latest', maxWaitMs: 100 });
    await latest.assign([{ topic, partition: 0, offset: 1000 }]);
    await waitFor(() => latest.position({ topic, partition: 0 }) === 3);
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'd' }] });
    expect(values(await take(latest, 1))).toEqual(['d']);
    await producer.close();
    await latest.close();
  });

  it('assign without an offset uses autoOffsetReset (default latest)', async () => {
    const topic = await topicWith(1, [['old']]);
    const consumer = client().consumer({ maxWaitMs: 100 });
    await consumer.assign([{ topic, partition: 0 }]);
    expect(consumer.position({ topic, partition: 0 })).toBe(1);
    await consumer.close();
  });
});

describe('run()', () => {
  it('eachMessage sees every message in order and run() resolves on close; processed offsets are reported', async () => {
    const topic = await topicWith(2, [['a0', 'a1', 'a2'], ['b0', 'b1']]);
    const consumer = client().consumer({ maxWaitMs: 100 });
    const processed = new Map<number, number>();
    consumer.onProcessed((_topic, partition, next) => processed.set(partition, next));
    await consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        seen.push(`${partition}:${message.value!.toString()}`);
        if (seen.length === 5) void consumer.close();
      },
    });
    expect(seen.filter((entry) => entry.startsWith('0:'))).toEqual(['0:a0', '0:a1', '0:a2']);
    expect(seen.filter((entry) => entry.startsWith('1:'))).toEqual(['1:b0', '1:b1']);
    expect(processed.get(0)).toBe(3);
    expect(processed.get(1)).toBe(2);
  });

  it('eachBatch gets whole batches; a throwing handler rejects run()', async () => {
    const topic = randomTopic();
    await client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client().producer({ lingerMs: 20 });
    await producer.send({ topic, messages: Array.from({ length: 50 }, (_, index) => ({ value: `v${index}` })) });
    await producer.close();
    // No retries, no restart: the first failure ends run() (handler-failure.test.ts covers retries).
    const consumer = client().consumer({ maxWaitMs: 100, retry: { retries: 0 }, restartOnFailure: false });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const sizes: number[] = [];
    const failure = consumer.run({
      eachBatch: async ({ batch }) => {
        sizes.push(batch.messages.length);
        expect(batch.firstOffset()).toBe(0);
        expect(batch.lastOffset()).toBe(49);
        throw new Error('handler failed');
      },
    });
    await expect(failure).rejects.toThrow('handler failed');
    expect(sizes).toEqual([50]);
    await consumer.close();
  });

  it('the next fetch is on the wire before eachBatch gets the previous answer (a tailing reader does not delay it)', async () => {
    const topic = randomTopic();
    await client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'first' }] });
    const shared = client();
    const send = shared.send.bind(shared);
    let fetches = 0;
    shared.send = (...args: Parameters<typeof send>) => {
      if (args[0] === ApiKey.Fetch) fetches++;
      return send(...args);
    };
    const consumer = client().consumer({ maxWaitMs: 5_000 });
    try {
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const fetchesAtDelivery: number[] = [];
      await consumer.run({
        eachBatch: ({ batch }) => {
          fetchesAtDelivery.push(fetches);
          if (batch.messages.some((message) => message.value?.toString() === 'first')) void producer.send({ topic, messages: [{ value: 'second' }] });
          else void consumer.close();
        },
      });
      // Each delivery came after the fetch that follows its answer had been sent.
      expect(fetchesAtDelivery).toEqual([2, 3]);
    } finally {
      shared.send = send;
      await consumer.close();
      await producer.close();
    }
  });
});

describe('assignment and backpressure', () => {
  it('add and remove partitions while reading', async () => {
    const topic = await topicWith(2, [['p0-a'], ['p1-a']]);
    const consumer = client().consumer({ maxWaitMs: 100 });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    expect(values(await take(consumer, 1))).toEqual(['p0-a']);
    await consumer.addAssignment([{ topic, partition: 1, offset: 'earliest' }]);
    expect(values(await take(consumer, 1))).toEqual(['p1-a']);
    consumer.removeAssignment([{ topic, partition: 0 }]);
    expect(consumer.assigned()).toEqual([{ topic, partition: 1 }]);
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'p0-b', partition: 0 }, { value: 'p1-b', partition: 1 }] });
    expect(values(await take(consumer, 1))).toEqual(['p1-b']);
    await producer.close();
    await consumer.close();
  });

  it('a slow reader keeps buffered bytes near maxBufferedBytes', async () => {
    const topic = randomTopic();
    await client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client().producer({ lingerMs: 5, batchBytes: 16 * 1024 });
    const value = Buffer.alloc(1000, 'x');
    await producer.send({ topic, messages: Array.from({ length: 2000 }, () => ({ value })) }); // ~2 MB
    await producer.close();
    const maxBufferedBytes = 64 * 1024;
    const consumer = client().consumer({ maxBufferedBytes, maxBytesPerPartition: 32 * 1024, maxWaitMs: 100 });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const first = await take(consumer, 1);
    expect(first).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a slow user: the fetcher must stop, not read all 2 MB
    const buffered = (consumer as unknown as { fetcher: { buffered: number } }).fetcher.buffered;
    expect(buffered).toBeLessThanOrEqual(maxBufferedBytes + 32 * 1024);
    const rest = await take(consumer, 1999);
    expect(rest[rest.length - 1]!.offset).toBe(1999);
    await consumer.close();
  });
});
