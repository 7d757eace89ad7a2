// Proves the retry-topic helper for consumer groups (src/client/retry-topics.ts) end to end
// against a real broker process: with delays [300, 300] ms, a message whose handler fails
// once is handled again from `<topic>.retry.1` no sooner than its delay, with attempt 1
// and its origin topic; one that always fails runs 3 times (attempts 0, 1, 2) and lands in
// `<group>.dlq` with its key, value, own headers and timestamp and the share DLQ's
// provenance headers (topic, partition, offset, delivery count 3, group, last error); the
// retry record carries attempt and not-before headers; a good message is handled once
// and nothing blocks behind the failing ones.

import { describe, expect, it } from 'vitest';
import { RetryHeaders, RetryTopics } from '../../src/client/index.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const shared = useBroker();

async function readTopic(topic: string, count: number) {
  const consumer = shared.client().consumer();
  await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const messages = [];
  for await (const message of consumer) {
    messages.push(message);
    if (messages.length === count) break;
  }
  await consumer.close();
  return messages;
}

describe('retry topics for consumer groups', () => {
  it('retries after each delay, then dead-letters with provenance', async () => {
    const client = shared.client();
    const topic = randomTopic('orders');
    const groupId = `billing-${topic}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer();
    await producer.send({
      topic,
      messages: [
        { key: 'k-poison', value: 'poison', headers: { trace: 'abc' }, timestamp: 1_700_000_000_000 },
        { key: 'k-flaky', value: 'flaky' },
        { key: 'k-ok', value: 'ok' },
      ],
    });
    await producer.close();

    const retries = new RetryTopics(client, { topic, groupId, delaysMs: [300, 300] });
    await retries.createTopics();
    expect(retries.topics()).toEqual([topic, `${topic}.retry.1`, `${topic}.retry.2`]);
    const consumer = client.consumer({ groupId });
    const runs: Array<{ value: string; attempt: number; originTopic: string; topic: string; atMs: number }> = [];
    const failedAtMs = new Map<string, number>();
    await consumer.subscribe({ topics: retries.topics(), fromBeginning: true });
    // run() resolves when the consumer closes.
    const running = consumer.run({
      eachMessage: retries.handler(consumer, async ({ message, attempt, originTopic, topic: from }) => {
        const value = message.value!.toString();
        runs.push({ value, attempt, originTopic, topic: from, atMs: Date.now() });
        if (value === 'poison' || (value === 'flaky' && attempt === 0)) {
          failedAtMs.set(`${value}:${attempt}`, Date.now());
          throw new Error(`cannot bill ${value}`);
        }
      }),
    });
    await waitFor(() => runs.filter((run) => run.value === 'poison').length === 3 && runs.some((run) => run.value === 'flaky' && run.attempt === 1), 15_000);
    const [dead] = await readTopic(`${groupId}.dlq`, 1);
    await consumer.close();
    await running;
    await retries.close();

    expect(runs.filter((run) => run.value === 'ok')).toHaveLength(1);
    const flaky = runs.find((run) => run.value === 'flaky' && run.attempt === 1)!;
    expect(flaky).toMatchObject({ originTopic: topic, topic: `${topic}.retry.1` });
    expect(flaky.atMs - failedAtMs.get('flaky:0')!).toBeGreaterThanOrEqual(290);
    expect(runs.filter((run) => run.value === 'poison').map((run) => run.attempt)).toEqual([0, 1, 2]);
    const poisonRetry2 = runs.find((run) => run.value === 'poison' && run.attempt === 2)!;
    expect(poisonRetry2.atMs - failedAtMs.get('poison:1')!).toBeGreaterThanOrEqual(290);

    expect(dead!.key?.toString()).toBe('k-poison');
    expect(dead!.value?.toString()).toBe('poison');
    expect(dead!.timestamp).toBe(1_700_000_000_000);
    const headers = Object.fromEntries(Object.entries(dead!.headers).map(([name, value]) => [name, value.toString()]));
    expect(headers).toEqual({
      trace: 'abc',
      [RetryHeaders.TOPIC]: topic,
      [RetryHeaders.PARTITION]: '0',
      [RetryHeaders.OFFSET]: '0',
      [RetryHeaders.DELIVERY_COUNT]: '3',
      [RetryHeaders.GROUP]: groupId,
      [RetryHeaders.ERROR]: 'cannot bill poison',
    });

    const [firstRetry] = await readTopic(`${topic}.retry.1`, 1);
    const retryHeaders = Object.fromEntries(Object.entries(firstRetry!.headers).map(([name, value]) => [name, value.toString()]));
    expect(retryHeaders).toMatchObject({ [RetryHeaders.ATTEMPT]: '1', [RetryHeaders.DELIVERY_COUNT]: '1', [RetryHeaders.TOPIC]: topic, [RetryHeaders.OFFSET]: '0' });
    expect(Number(retryHeaders[RetryHeaders.NOT_BEFORE])).toBeGreaterThan(failedAtMs.get('poison:0')! + 250);
  });

  it('uses the share DLQ header names', async () => {
    const { DlqHeaders } = await import('../../src/groups/share-dead-letter.js');
    for (const [name, value] of Object.entries(DlqHeaders)) expect(RetryHeaders[name as keyof typeof RetryHeaders]).toBe(value);
  });
});
