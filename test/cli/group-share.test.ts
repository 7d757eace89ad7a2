// Proves share-group administration end to end against a real broker process: after a
// share consumer (SDK) drained a topic and closed, `spool group list` shows the group with
// kind share, state empty and 0 members (and stable with 1 member while one runs);
// `spool group reset G --topic T --to 5` moves the share group's start offset back (the
// previous column shows the old start) so a new share consumer gets offsets 5.. again; the
// SDK's admin.resetOffsets does the same for a share group, and both are refused with
// NON_EMPTY_GROUP while a share consumer is active.

import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { isSpoolError, Errors } from '../../src/util/errors.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { spool } from './run.js';

const shared = useBroker();

/** Runs a share consumer until `count` messages were handled, then closes it; answers their offsets. */
async function drain(client: Client, groupId: string, topic: string, count: number): Promise<number[]> {
  const consumer = client.shareConsumer({ groupId, maxWaitMs: 100 });
  const offsets: number[] = [];
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachMessage: async ({ message }) => void offsets.push(message.offset) });
  await waitFor(() => offsets.length >= count, 10_000);
  await consumer.close();
  return offsets.sort((a, b) => a - b);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('share group list and reset', () => {
  it('lists the share group, resets its start offset by CLI and SDK, refuses while a member is active', async () => {
    const client = shared.client();
    const topic = randomTopic('share-reset');
    const group = `g-${topic}`;
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer();
    await producer.send({ topic, messages: range(0, 20).map((i) => ({ value: `m${i}` })) });
    expect(await drain(client, group, topic, 20)).toEqual(range(0, 20));

    const listed = await spool(shared.address(), 'group list');
    expect(listed.stdout).toMatch(new RegExp(`^${group}\\s+empty\\s+0\\s+share$`, 'm'));

    const reset = await spool(shared.address(), `group reset ${group} --topic ${topic} --to 5`);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(new RegExp(`${topic}\\s+0\\s+20\\s+5\\n`));
    expect(await drain(client, group, topic, 15)).toEqual(range(5, 20));

    // An active member: both the SDK and the CLI are refused.
    const active = client.shareConsumer({ groupId: group, maxWaitMs: 100 });
    await active.subscribe({ topics: [topic] });
    await active.run({ eachMessage: async () => {} });
    await waitFor(async () => (await client.admin().listGroups()).some((g) => g.groupId === group && g.members === 1), 5_000);
    expect((await spool(shared.address(), 'group list')).stdout).toMatch(new RegExp(`^${group}\\s+stable\\s+1\\s+share$`, 'm'));
    const refused = await client.admin().resetOffsets({ groupId: group, topic, to: 'earliest' }).catch((error: unknown) => error);
    expect(isSpoolError(refused, Errors.NON_EMPTY_GROUP)).toBe(true);
    const cliRefused = await spool(shared.address(), `group reset ${group} --topic ${topic} --to earliest`);
    expect(cliRefused.code).not.toBe(0);
    expect(cliRefused.stderr).toContain('active members');
    await active.close();

    await producer.send({ topic, messages: range(20, 25).map((i) => ({ value: `m${i}` })) });
    await producer.close();
    expect(await client.admin().resetOffsets({ groupId: group, topic, to: 22 })).toEqual([{ topic, partition: 0, offset: 22 }]);
    expect(await drain(client, group, topic, 3)).toEqual([22, 23, 24]);
  });
});
