// Proves a failing or stuck run() handler no longer holds its partitions forever (issue 10),
// against a real broker process with in-process group members:
// - a throwing eachMessage is called again with the retry policy, and a retry that succeeds
//   lets the run go on (every message handled once past the failures);
// - restartOnFailure false: after the retries, run() rejects and the member has left the
//   group, so a second member gets every partition and reads every message (before, the
//   failed member kept heartbeating and kept its partitions);
// - restartOnFailure true: the member leaves and rejoins, and the failed message is
//   delivered again;
// - maxPollIntervalMs: a member whose handler hangs leaves the group, the other member gets
//   its partitions (including the message the hung handler held), and the hung member
//   rejoins once its handler returns.
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/client/index.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const { client } = useBroker(['--fsync', 'never']);
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.close()));
});

async function topicWith(partitions: number, perPartition: number): Promise<string> {
  const topic = randomTopic();
  await client().admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  const producer = client().producer({ lingerMs: 0 });
  for (let partition = 0; partition < partitions; partition++) {
    await producer.send({ topic, messages: Array.from({ length: perPartition }, (_, index) => ({ value: `p${partition}-${index}`, partition })) });
  }
  await producer.close();
  return topic;
}

function member(groupId: string, options: Record<string, unknown> = {}): Consumer {
  const consumer = client().consumer({ groupId, sessionTimeoutMs: 3000, maxWaitMs: 100, autoCommitIntervalMs: 200, ...options });
  consumers.push(consumer);
  return consumer;
}

const quickRetry = { retries: 2, initialRetryTimeMs: 20, maxRetryTimeMs: 50 };

describe('a throwing handler', () => {
  it('is retried with the retry policy; a retry that succeeds lets the run go on', async () => {
    const topic = await topicWith(1, 5);
    const consumer = client().consumer({ maxWaitMs: 100, retry: quickRetry });
    consumers.push(consumer);
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const handled: string[] = [];
    let failures = 0;
    const running = consumer.run({
      eachMessage: ({ message }) => {
        const value = message.value!.toString();
        if (value === 'p0-2' && failures < 2) {
          failures++;
          throw new Error('flaky');
        }
        handled.push(value);
      },
    });
    await waitFor(() => handled.length === 5);
    expect(handled).toEqual(['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4']);
    expect(failures).toBe(2);
    await consumer.close();
    await running;
  });

  it('restartOnFailure false: run() rejects after the retries and the member leaves, so another member gets every partition', async () => {
    const topic = await topicWith(2, 3);
    const groupId = `g-${topic}`;
    const failing = member(groupId, { retry: quickRetry, restartOnFailure: false });
    await failing.subscribe({ topics: [topic], fromBeginning: true });
    let calls = 0;
    const failed = failing.run({
      eachMessage: () => {
        calls++;
        throw new Error('poison');
      },
    });
    await expect(failed).rejects.toThrow('poison');
    expect(calls).toBe(3); // the first call and 2 retries
    const healthy = member(groupId);
    await healthy.subscribe({ topics: [topic], fromBeginning: true });
    const seen = new Set<string>();
    void healthy.run({ eachMessage: ({ message }) => void seen.add(message.value!.toString()) });
    await waitFor(() => seen.size === 6, 15_000);
    expect(healthy.assigned().length).toBe(2);
  });

  it('restartOnFailure true: the member leaves and rejoins, and the failed message is delivered again', async () => {
    const topic = await topicWith(1, 3);
    const groupId = `g-${topic}`;
    const restarting: Error[] = [];
    const consumer = member(groupId, {
      retry: { retries: 1, initialRetryTimeMs: 20, maxRetryTimeMs: 50 },
      restartOnFailure: (error: Error) => {
        restarting.push(error);
        return true;
      },
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const firstMemberId = consumer.groupMembership()!.memberId;
    const handled: string[] = [];
    let attempts = 0;
    void consumer.run({
      eachMessage: ({ message }) => {
        const value = message.value!.toString();
        if (value === 'p0-1' && attempts++ < 2) throw new Error('fails twice');
        handled.push(value);
      },
    });
    await waitFor(() => handled.length === 3, 15_000);
    expect(handled).toEqual(['p0-0', 'p0-1', 'p0-2']);
    expect(restarting.map((error) => error.message)).toEqual(['fails twice']);
    expect(consumer.groupMembership()!.memberId).not.toBe(firstMemberId);
  });
});

describe('maxPollIntervalMs', () => {
  it('a member whose handler hangs leaves the group; its partitions move; it rejoins when the handler returns', async () => {
    const topic = await topicWith(2, 2);
    const groupId = `g-${topic}`;
    let release = (): void => undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const stuck = member(groupId, { maxPollIntervalMs: 800 });
    await stuck.subscribe({ topics: [topic], fromBeginning: true });
    let stuckCalls = 0;
    void stuck.run({
      eachMessage: async () => {
        if (stuckCalls++ === 0) await hung;
      },
    });
    await waitFor(() => stuckCalls === 1);
    const stuckMemberId = stuck.groupMembership()!.memberId;
    const other = member(groupId);
    await other.subscribe({ topics: [topic], fromBeginning: true });
    const seen = new Set<string>();
    void other.run({ eachMessage: ({ message }) => void seen.add(message.value!.toString()) });
    // The hung member left: the other one reads both partitions from their starts.
    await waitFor(() => seen.size === 4, 15_000);
    expect(other.assigned().length).toBe(2);
    release();
    await waitFor(() => {
      const membership = stuck.groupMembership();
      return membership !== null && membership.memberEpoch > 0 && membership.memberId !== stuckMemberId;
    }, 10_000);
  });
});
