// Proves the console's JSON API (/api/ on the admin port of a real `spool serve` child)
// answers with the broker core's validation and error names, as the CLI and SDK get them
// (and changes what the SDK then sees: topics, partitions, configs):
// a duplicate topic is TOPIC_ALREADY_EXISTS (409), an unknown config INVALID_CONFIG, a
// reserved name INVALID_TOPIC, an unknown topic UNKNOWN_TOPIC (404), a reset of a group
// with an active member NON_EMPTY_GROUP (409); a reset with dryRun answers the new offsets
// and writes nothing (the SDK's fetchOffsets is unchanged); browsing is bounded (limit
// 1..500); changes without a JSON content type or from another origin are refused (403);
// share groups list and describe with the numbers admin.describeShareGroups gives (an
// unknown one is GROUP_ID_NOT_FOUND, 404); the console page itself is served. Plain fetch from the test, no browser.

import { describe, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const shared = useBroker();
const url = (path: string): string => `http://${shared.broker().httpAddress!}${path}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; body: any }> {
  const response = await fetch(url(path), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: await response.json() };
}

describe('console API', () => {
  it('creates and deletes topics through the core, with its error names', async () => {
    const topic = randomTopic();
    expect(await call('POST', '/api/topics', { name: topic, partitions: 2, config: { 'retention.ms': 1000 } })).toEqual({ status: 201, body: { created: topic } });
    const [description] = await shared.client().admin().describeTopics({ topics: [topic] });
    expect(description!.partitions).toHaveLength(2);
    expect(description!.config['retention.ms']).toBe(1000);
    const again = await call('POST', '/api/topics', { name: topic, partitions: 2 });
    expect([again.status, again.body.error.name]).toEqual([409, 'TOPIC_ALREADY_EXISTS']);
    expect((await call('POST', '/api/topics', { name: randomTopic(), partitions: 1, config: { 'no.such': 1 } })).body.error.name).toBe('INVALID_CONFIG');
    expect((await call('POST', '/api/topics', { name: '__mine', partitions: 1 })).body.error.name).toBe('INVALID_TOPIC');
    expect((await call('POST', '/api/topics', { name: randomTopic(), partitions: 0 })).body.error.name).toBe('INVALID_PARTITIONS');
    expect((await call('POST', '/api/topics', { name: topic })).status).toBe(400);
    expect((await call('POST', `/api/topics/${topic}/partitions`, { count: 2 })).body.error.name).toBe('INVALID_PARTITIONS');
    expect(await call('POST', `/api/topics/${topic}/partitions`, { count: 3 })).toEqual({ status: 200, body: { partitions: 3 } });
    const altered = await call('POST', `/api/topics/${topic}/config`, { config: { 'retention.ms': 5000, 'cleanup.policy': 'compact' } });
    expect(altered.body.config).toMatchObject({ 'retention.ms': 5000, 'cleanup.policy': 'compact' });
    expect((await shared.client().admin().describeTopics({ topics: [topic] }))[0]!.config).toMatchObject({ 'retention.ms': 5000, 'cleanup.policy': 'compact' });
    expect((await call('POST', `/api/topics/${topic}/config`, { config: { 'cleanup.policy': 'sometimes' } })).body.error.name).toBe('INVALID_CONFIG');
    expect(await call('DELETE', `/api/topics/${topic}`)).toEqual({ status: 200, body: { deleted: topic } });
    await waitFor(async () => !(await shared.client().admin().listTopics()).includes(topic));
    const gone = await call('GET', `/api/topics/${topic}`);
    expect([gone.status, gone.body.error.name]).toEqual([404, 'UNKNOWN_TOPIC']);
  });

  it('browses newest first within its limits', async () => {
    const topic = randomTopic();
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: `m${i}` })) });
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: `n${i}` })) });
    await producer.close();
    const page = await call('GET', `/api/topics/${topic}/messages?partition=0&before=45&limit=10`);
    expect(page.body.records.map((record: { offset: number }) => record.offset)).toEqual([44, 43, 42, 41, 40, 39, 38, 37, 36, 35]);
    expect(page.body.records[0].value).toEqual({ text: 'n14', bytes: 3, truncated: false });
    expect(page.body.olderBeforeOffset).toBe(35);
    const first = await call('GET', `/api/topics/${topic}/messages?partition=0&before=3&limit=10`);
    expect([first.body.records.length, first.body.olderBeforeOffset]).toEqual([3, null]);
    expect((await call('GET', `/api/topics/${topic}/messages?limit=501`)).body.error.name).toBe('INVALID_REQUEST');
    expect((await call('GET', `/api/topics/${topic}/messages?partition=7`)).body.error.name).toBe('UNKNOWN_PARTITION');
  });

  it('previews a reset without writing, applies it, and refuses a group with members', async () => {
    const topic = randomTopic();
    const groupId = randomTopic('g');
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [0, 0, 0, 1].map((partition) => ({ partition, value: 'x' })) });
    await producer.close();
    await admin.resetOffsets({ groupId, topic, to: { offset: 1 } });
    const preview = await call('POST', `/api/groups/${groupId}/reset`, { topic, to: { kind: 'latest' }, dryRun: true });
    expect(preview.body).toEqual({ groupId, topic, dryRun: true, partitions: [{ partition: 0, offset: 3 }, { partition: 1, offset: 1 }] });
    expect((await admin.fetchOffsets({ groupId })).map((entry) => entry.offset)).toEqual([1, 1]);
    const applied = await call('POST', `/api/groups/${groupId}/reset`, { topic, to: { kind: 'offset', offset: 2 } });
    expect(applied.body.partitions).toEqual([{ partition: 0, offset: 2 }, { partition: 1, offset: 1 }]);
    expect((await admin.fetchOffsets({ groupId })).map((entry) => entry.offset)).toEqual([2, 1]);
    const described = await call('GET', `/api/groups/${groupId}`);
    expect(described.body.offsets.map((entry: { lag: number }) => entry.lag)).toEqual([1, 0]);
    expect((await call('POST', `/api/groups/${groupId}/reset`, { topic, to: { kind: 'sideways' } })).status).toBe(400);

    const consumer = shared.client().consumer({ groupId });
    await consumer.subscribe({ topics: [topic] });
    const running = consumer.run({ eachMessage: async () => {} });
    try {
      await waitFor(async () => (await call('GET', `/api/groups/${groupId}`)).body.members.length === 1);
      const refused = await call('POST', `/api/groups/${groupId}/reset`, { topic, to: { kind: 'earliest' }, dryRun: true });
      expect([refused.status, refused.body.error.name]).toEqual([409, 'NON_EMPTY_GROUP']);
    } finally {
      await consumer.close();
      await running;
    }
  });

  it('lists and describes share groups with the numbers admin.describeShareGroups gives (same core path), 404 for an unknown one', async () => {
    const topic = randomTopic();
    const groupId = randomTopic('share');
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `v${i}` })) });
    await producer.close();
    const consumer = shared.client().shareConsumer({ groupId, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic] });
    let seen = 0;
    for await (const message of consumer) {
      seen++;
      // The first record seen is rejected (-> the DLQ), the next two accepted, the rest held.
      if (seen === 1) await message.reject('no');
      else if (seen <= 3) await message.ack();
      if (seen === 4) break;
    }
    try {
      const [described] = await admin.describeShareGroups({ groupIds: [groupId] });
      const listed = await call('GET', '/api/share-groups');
      const inFlight = described!.partitions.reduce((sum, p) => sum + p.inFlight, 0);
      expect(listed.body.groups.find((group: { groupId: string }) => group.groupId === groupId)).toEqual({
        groupId,
        members: 1,
        partitions: described!.partitions.length,
        inFlight,
        deadLetterTopic: `${groupId}.dlq`,
        deadLetters: 1,
      });
      const detail = await call('GET', `/api/share-groups/${groupId}`);
      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({ groupId, members: described!.members, deadLetterTopic: described!.deadLetterTopic, deadLetters: described!.deadLetters, deadLetterTopicExists: true });
      const byPartition = (a: { partition: number }, b: { partition: number }): number => a.partition - b.partition;
      expect(detail.body.partitions.map(({ logEndOffset: _end, ...rest }: { logEndOffset: number }) => rest)).toEqual([...described!.partitions].sort(byPartition));
      expect(detail.body.partitions.map((p: { logEndOffset: number }) => p.logEndOffset)).toEqual([3, 2]);
    } finally {
      await consumer.close();
    }
    const unknown = await call('GET', `/api/share-groups/${randomTopic('nobody')}`);
    expect([unknown.status, unknown.body.error.name]).toEqual([404, 'GROUP_ID_NOT_FOUND']);
  });

  it('refuses changes without a JSON content type or from another origin, and serves the page', async () => {
    const topic = randomTopic();
    const plain = await call('POST', '/api/topics', { name: topic, partitions: 1 }, { 'content-type': 'text/plain' });
    expect([plain.status, plain.body.error.name]).toEqual([403, 'FORBIDDEN']);
    const foreign = await call('POST', '/api/topics', { name: topic, partitions: 1 }, { 'content-type': 'application/json', origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await shared.client().admin().listTopics()).not.toContain(topic);
    expect((await call('PUT', '/api/topics', {})).status).toBe(405);
    const index = await fetch(url('/'));
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('/app.js');
    expect((await fetch(url('/app.js'))).status).toBe(200);
  });
});
