// Proves `spool dlq list|replay|purge` against a real broker (delivery limit 2): a poison
// record rejected by a share consumer lands in `<group>.dlq`; list shows its origin,
// deliveries and error; replay republishes it to its origin topic (without the spool.dlq.*
// headers) where a consumer reads it again, and a second replay finds nothing (the first
// marked it replayed); purge marks a new dead letter handled without republishing it;
// `spool group describe` shows the share group (start offset, in flight, DLQ depth).

import { describe, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { spool } from './run.js';

const shared = useBroker(['--share-delivery-limit', '2']);

describe('spool dlq', () => {
  it('lists, replays once, and purges dead letters', async () => {
    const client = shared.client();
    const topic = randomTopic();
    const group = `g-${topic}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer();
    await producer.send({ topic, messages: [{ value: 'poison', headers: { trace: 't1' } }] });
    const consumer = client.shareConsumer({ groupId: group, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic] });
    for await (const message of consumer) {
      await message.reject('bad order');
      break;
    }
    await consumer.close();
    await waitFor(async () => (await client.admin().listTopics()).includes(`${group}.dlq`));

    const list = await spool(shared.address(), `dlq list ${group}`);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`0 +${topic}/0@0 +1 +bad order +poison`));

    const replay = await spool(shared.address(), `dlq replay ${group}`);
    expect(replay.stdout.trim(), replay.stderr).toBe(`replayed 1 dead letter(s) of ${group}`);
    const again = await spool(shared.address(), `dlq replay ${group}`);
    expect(again.stdout.trim()).toBe(`replayed 0 dead letter(s) of ${group}`);
    const reader = client.consumer();
    await reader.assign([{ topic, partition: 0, offset: 1 }]);
    for await (const message of reader) {
      expect(message.value?.toString()).toBe('poison');
      expect(Object.keys(message.headers)).toEqual(['trace']);
      break;
    }
    await reader.close();

    await producer.send({ topic, messages: [{ value: 'poison 2' }] });
    const second = client.shareConsumer({ groupId: group, maxWaitMs: 100 });
    await second.subscribe({ topics: [topic] });
    for await (const message of second) {
      if (message.value?.toString() === 'poison 2') {
        await message.reject('still bad');
        break;
      }
      await message.ack();
    }
    await second.close();
    await producer.close();
    await waitFor(async () => (await client.admin().listOffsets({ topic: `${group}.dlq` }))[0]?.offset === 2);
    const purge = await spool(shared.address(), `dlq purge ${group}`);
    expect(purge.stdout.trim()).toBe(`purged 1 dead letter(s) of ${group}`);
    expect((await spool(shared.address(), `dlq replay ${group}`)).stdout.trim()).toBe(`replayed 0 dead letter(s) of ${group}`);

    const describe = await spool(shared.address(), `group describe ${group}`);
    expect(describe.code, describe.stderr).toBe(0);
    expect(describe.stdout).toContain(`group: ${group}  kind: share`);
    expect(describe.stdout).toContain(`dead letters: 2 (${group}.dlq)`);
    expect(describe.stdout).toMatch(new RegExp(`${topic} +0 +3 +0 +0 +-`));
  });
});
