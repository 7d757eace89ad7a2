// Proves that a ShareFetch carries acknowledgements (the share consumer's one round trip per
// acquisition): against a real broker process, the acknowledgements in a ShareFetch are
// applied before it acquires (the accepted records move the start offset, so the same
// request acquires past them) and are answered per partition in its response, a refused one
// with INVALID_RECORD_STATE; that an SDK consumer acknowledging through its fetches
// still accepts every record exactly once; that a ShareFetch parked on a partition is woken
// when a delayed release comes due; and that `--share-max-in-flight-records` bounds
// what one share-partition hands out.

import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type { ShareFetchResponse } from '../../src/protocol/messages.js';
import { Errors } from '../../src/util/errors.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const shared = useBroker();

async function produce(topic: string, count: number): Promise<void> {
  await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = shared.client().producer();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `m${i}` })) });
  await producer.close();
}

async function shareFetch(topic: string, request: Record<string, unknown>): Promise<ShareFetchResponse> {
  const response = await shared.client().request(ApiKey.ShareFetch, {
    groupId: `g-${topic}`,
    memberId: 'a',
    maxWaitMs: 0,
    maxRecords: 10,
    maxBytes: 1 << 20,
    partitions: [{ topic, partition: 0 }],
    ...request,
  });
  return response.header as unknown as ShareFetchResponse;
}

describe('ShareFetch with acknowledgements', () => {
  it('applies them before acquiring and answers them per partition', async () => {
    const topic = randomTopic();
    await produce(topic, 30);
    const first = await shareFetch(topic, {});
    expect(first.acknowledgements).toBeUndefined();
    expect(first.partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 9, deliveryCount: 1 }]);
    const second = await shareFetch(topic, {
      acknowledgements: [{ topic, partition: 0, ranges: [{ firstOffset: 0, lastOffset: 9, type: 1 }] }],
    });
    expect(second.acknowledgements).toEqual([{ topic, partition: 0, errorCode: 0 }]);
    expect(second.partitions[0]!.acquired).toEqual([{ firstOffset: 10, lastOffset: 19, deliveryCount: 1 }]);
    const refused = await shareFetch(topic, {
      memberId: 'b',
      acknowledgements: [{ topic, partition: 0, ranges: [{ firstOffset: 10, lastOffset: 10, type: 1 }] }],
    });
    expect(refused.acknowledgements?.[0]).toMatchObject({ errorCode: Errors.INVALID_RECORD_STATE.code });
    expect(refused.partitions[0]!.acquired).toEqual([{ firstOffset: 20, lastOffset: 29, deliveryCount: 1 }]);
    const described = await shared.client().admin().describeShareGroups({ groupIds: [`g-${topic}`] });
    expect(described[0]!.partitions[0]).toMatchObject({ startOffset: 10, acquired: 20 });
  });

  it('wakes a parked ShareFetch when a delayed release comes due (not only at its maxWait)', async () => {
    const topic = randomTopic();
    await produce(topic, 1);
    expect((await shareFetch(topic, {})).partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 1 }]);
    // Released with a 300 ms delay; the next fetch parks (nothing available) for up to 10 s.
    const started = performance.now();
    const parked = await shareFetch(topic, {
      maxWaitMs: 10_000,
      acknowledgements: [{ topic, partition: 0, ranges: [{ firstOffset: 0, lastOffset: 0, type: 2, delayMs: 300 }] }],
    });
    const waitedMs = performance.now() - started;
    expect(parked.partitions[0]!.acquired).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
    expect(waitedMs).toBeGreaterThanOrEqual(250);
    expect(waitedMs).toBeLessThan(5_000);
  });

  it('refuses the share-state APIs between brokers on a single node (a client cannot write share state)', async () => {
    const answer = await shared
      .client()
      .request(ApiKey.WriteShareGroupState, { groupId: 'g', partitions: [{ topic: 't', partition: 0, leaderEpoch: -1, stateEpoch: 0, startOffset: 0, runs: [[2147483647, 0, 0]] }] })
      .then((response) => response.header as { errorCode: number; errorMessage?: string }, (error: { code?: string; message: string }) => ({ errorCode: -1, errorMessage: error.message }));
    expect(answer.errorMessage).toMatch(/between the brokers of a cluster/);
  });

  it('lets a run() consumer accept every record exactly once through its fetches', async () => {
    const topic = randomTopic();
    await produce(topic, 1_200);
    const consumer = shared.client().shareConsumer({ groupId: `g-${topic}`, maxRecords: 100 });
    await consumer.subscribe({ topics: [topic] });
    const seen = new Map<number, number>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.set(message.offset, (seen.get(message.offset) ?? 0) + 1);
      },
    });
    await waitFor(() => seen.size === 1_200);
    await waitFor(async () => {
      const [group] = await shared.client().admin().describeShareGroups({ groupIds: [`g-${topic}`] });
      return group!.partitions[0]!.startOffset === 1_200;
    });
    await consumer.close();
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  });
});

describe('--share-max-in-flight-records', () => {
  const small = useBroker(['--share-max-in-flight-records', '100']);

  it('bounds the records in flight per share-partition', async () => {
    const client = small.client();
    const topic = randomTopic();
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer();
    await producer.send({ topic, messages: Array.from({ length: 300 }, (_, i) => ({ value: `m${i}` })) });
    await producer.close();
    const fetch = async (memberId: string) =>
      ((await client.request(ApiKey.ShareFetch, { groupId: `g-${topic}`, memberId, maxWaitMs: 0, maxRecords: 500, maxBytes: 1 << 20, partitions: [{ topic, partition: 0 }] })).header as unknown as ShareFetchResponse)
        .partitions[0]!.acquired;
    expect(await fetch('a')).toEqual([{ firstOffset: 0, lastOffset: 99, deliveryCount: 1 }]);
    expect(await fetch('b')).toEqual([]);
  });
});
