// Proves the admin wrappers against a real broker process over TCP: topic create (with
// config) / list / describe / delete, listOffsets by earliest, latest and timestamp,
// per-item errors as SpoolErrors (TOPIC_ALREADY_EXISTS, INVALID_CONFIG, UNKNOWN_TOPIC),
// and the group calls (resetOffsets, fetchOffsets, listGroups, describeGroups,
// deleteGroups) on a group without members.
import { describe, expect, it } from 'vitest';
import { randomTopic } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const { client } = useBroker(['--fsync', 'never']);

describe('topic admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const admin = client().admin();
    const topic = randomTopic();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, config: { 'retention.ms': 60_000 } }] });
    expect(await admin.listTopics()).toContain(topic);
    const [description] = await admin.describeTopics({ topics: [topic] });
    expect(description!.name).toBe(topic);
    expect(description!.partitions.map((partition) => partition.partition)).toEqual([0, 1, 2]);
    expect(Number(description!.config['retention.ms'])).toBe(60_000);
    await expect(admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
    await expect(admin.createTopics({ topics: [{ topic: randomTopic(), config: { 'no.such.key': 1 } }] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
    await expect(admin.describeTopics({ topics: [topic] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await expect(admin.deleteTopics({ topics: [topic] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
  });

  it('lists offsets: earliest, latest and by timestamp', async () => {
    const admin = client().admin();
    const topic = randomTopic();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = client().producer({ lingerMs: 0 });
    const base = 1_700_000_000_000;
    await producer.send({ topic, messages: [0, 1, 2].map((index) => ({ value: `v${index}`, partition: 0, timestamp: base + index * 10 })) });
    await producer.close();
    expect(await admin.listOffsets({ topic, timestamp: 'earliest' })).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
    ]);
    expect(await admin.listOffsets({ topic })).toEqual([
      { partition: 0, offset: 3 },
      { partition: 1, offset: 0 },
    ]);
    const [byTime] = await admin.listOffsets({ topic, timestamp: base + 15 });
    expect(byTime).toEqual({ partition: 0, offset: 2 });
  });
});

describe('group admin', () => {
  it('resets, fetches, lists, describes and deletes a group without members', async () => {
    const admin = client().admin();
    const topic = randomTopic();
    const groupId = randomTopic('group');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'a', partition: 1 }, { value: 'b', partition: 1 }] });
    await producer.close();

    expect(await admin.resetOffsets({ groupId, topic, to: 'latest' })).toEqual([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 2 },
    ]);
    await admin.resetOffsets({ groupId, topic, partitions: [1], to: 1 });
    const committed = await admin.fetchOffsets({ groupId });
    expect(committed.map(({ partition, offset }) => [partition, offset])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect((await admin.listGroups()).map((group) => group.groupId)).toContain(groupId);
    const [described] = await admin.describeGroups({ groupIds: [groupId] });
    expect(described!.state).toBe('empty');
    expect(described!.offsets.find((entry) => entry.partition === 1)).toMatchObject({ committed: 1, logEndOffset: 2, lag: 1 });
    await admin.deleteGroups({ groupIds: [groupId] });
    await expect(admin.describeGroups({ groupIds: [groupId] })).rejects.toMatchObject({ code: 'GROUP_ID_NOT_FOUND' });
  });
});
