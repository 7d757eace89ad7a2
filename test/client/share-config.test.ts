// Proves the SDK share consumer's group config end to end against a real broker whose
// broker-wide lock duration is the default 30 s: a share consumer created with
// `lockDurationMs: 1000` sets the group's lock on its first fetch, so a record it holds
// without acknowledging (handler stuck) goes to another member of the group within a few
// seconds (with the broker's 30 s it would not), and DescribeShareGroups / `spool group
// describe` show the group's lock and limit; a bad value is refused by the broker;
// admin.alterShareGroupConfig (AlterConfigs `groups`) sets one field keeping the other,
// and a later member's first-join config does not override it.

import { afterAll, describe, expect, it } from 'vitest';
import type { ShareConsumer } from '../../src/client/index.js';
import { Errors, isSpoolError } from '../../src/util/errors.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { spool } from '../cli/run.js';

const shared = useBroker();
const consumers: ShareConsumer[] = [];
let unstick: () => void = () => {};
afterAll(async () => {
  unstick();
  for (const consumer of consumers) await consumer.close();
});

describe('share consumer group config', () => {
  it("a group's own 1 s lock hands a stuck member's record to another member", async () => {
    const client = shared.client();
    const topic = randomTopic('share-lock');
    const groupId = `g-${topic}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await client.producer().send({ topic, messages: [{ value: 'only' }] });

    const stuck = new Promise<void>((resolve) => (unstick = resolve));
    const seenBy: string[] = [];
    const first = client.shareConsumer({ groupId, maxWaitMs: 100, lockDurationMs: 1_000, deliveryLimit: 4 });
    consumers.push(first);
    await first.subscribe({ topics: [topic] });
    await first.run({
      eachMessage: async () => {
        seenBy.push('first');
        await stuck;
      },
    });
    await waitFor(() => seenBy.length === 1, 5_000);

    const second = client.shareConsumer({ groupId, maxWaitMs: 100 });
    consumers.push(second);
    await second.subscribe({ topics: [topic] });
    const started = Date.now();
    await second.run({ eachMessage: async ({ message }) => void seenBy.push(`second:${message.deliveryCount}`) });
    await waitFor(() => seenBy.length === 2, 8_000);
    expect(seenBy).toEqual(['first', 'second:2']);
    expect(Date.now() - started).toBeLessThan(8_000);
    const [description] = await client.admin().describeShareGroups({ groupIds: [groupId] });
    expect(description?.partitions[0]?.startOffset).toBe(1);
    expect(description).toMatchObject({ lockDurationMs: 1_000, deliveryLimit: 4 });
    const described = await spool(shared.address(), `group describe ${groupId}`);
    expect(described.stdout).toContain('lock: 1000 ms  delivery limit: 4');
    unstick();
  });

  it('admin.alterShareGroupConfig sets a field, keeps the other, and wins over a later first join', async () => {
    const client = shared.client();
    const topic = randomTopic('share-admin');
    const groupId = `g-${topic}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await client.admin().alterShareGroupConfig({ groupId, deliveryLimit: 3 });
    await client.admin().alterShareGroupConfig({ groupId, lockDurationMs: 2_000 });
    const consumer = client.shareConsumer({ groupId, maxWaitMs: 100, lockDurationMs: 9_000 });
    consumers.push(consumer);
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(async () => ((await client.admin().describeShareGroups({ groupIds: [groupId] }))[0]?.members.length ?? 0) === 1, 5_000);
    const [description] = await client.admin().describeShareGroups({ groupIds: [groupId] });
    expect(description).toMatchObject({ lockDurationMs: 2_000, deliveryLimit: 3 });
    const refused = await client.admin().alterShareGroupConfig({ groupId, deliveryLimit: 1 }).catch((error: unknown) => error);
    expect(isSpoolError(refused, Errors.INVALID_REQUEST)).toBe(true);
  });

  it('refuses a lock duration outside 1 s..1 h', async () => {
    const client = shared.client();
    const topic = randomTopic('share-bad');
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const consumer = client.shareConsumer({ groupId: `g-${topic}`, maxWaitMs: 100, lockDurationMs: 10 });
    consumers.push(consumer);
    await consumer.subscribe({ topics: [topic] });
    const iterator = consumer[Symbol.asyncIterator]();
    const failure = await iterator.next().catch((error: unknown) => error);
    expect(isSpoolError(failure, Errors.INVALID_REQUEST)).toBe(true);
  });
});
