// Proves share groups work over a cluster of real `spool serve --cluster` processes (etcd,
// three brokers, lease TTL 2 s, `--offsets-topic-partitions 4`), KIP-932's way: a topic
// of 3 partitions, replication factor 3, leaders spread over the brokers; two SDK share
// consumers, bootstrapped to one broker, fetch each partition from its leader (the
// share-partition leader), whose acknowledgements are stored at the group's share
// coordinator (the leader of its __share_group_state partition, another broker for some
// partitions). Rejected records land in the cluster's `<group>.dlq` (one partition, led
// by whichever broker). Then the leader of a data partition that is neither the share
// coordinator nor the bootstrap broker is kill -9'd mid-stream: the partition's new leader
// reads the share-partition's stored state. Then (the killed broker back) the broker of the
// group's share coordinator is kill -9'd: the state partition's new leader loads the stored
// state and the partition leaders go on with it.
//
// What must survive: every record is processed in the end (at-least-once), none whose
// acceptance was answered is handed out again by a live broker (a copy the killed broker
// handed out before its kill may still reach a handler: at-least-once) (the stored state is the acknowledged one,
// even across the failover), and every rejected record is in the DLQ; the admin's describe
// (every broker asked, answers merged) shows each partition's leader's live state. Run
// `npm run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import type { ShareMessage } from '../../src/client/share-consumer.js';
import { coordinatorPartitionOf } from '../../src/groups/coordinator-placement.js';
import { SHARE_STATE_TOPIC } from '../../src/groups/share-state-store.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, readValues, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const TTL_MS = 2_000;
const INTERNAL_PARTITIONS = 4;
const TOPIC = 'jobs';
const GROUP = 'cooks';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000, args: ['--offsets-topic-partitions', String(INTERNAL_PARTITIONS)] });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

const port = (id: number): number => cluster.brokers.get(id)!.port;

/** Creates __share_group_state in the cluster (the first share FindCoordinator does) and answers its partitions' leaders once placed. */
async function shareStateLeaders(): Promise<number[]> {
  const raw = await RawClient.connect(port(1));
  try {
    await raw.request<M.FindCoordinatorResponse>(ApiKey.FindCoordinator, { groupId: GROUP, share: true });
  } finally {
    raw.socket.destroy();
  }
  return (await waitFor(async () => {
    const states = await Promise.all(Array.from({ length: INTERNAL_PARTITIONS }, (_, partition) => cluster.state(SHARE_STATE_TOPIC, partition)));
    return states.every((state) => state !== null && state.leader >= 0 && state.isr.length === 3) ? states.map((state) => state!.leader) : null;
  }, 15_000))!;
}

describe('share groups over a cluster of spool serve processes', () => {
  it('serves each partition from its leader, stores state at the share coordinator, and survives kill -9 of a data leader, then of the coordinator', async () => {
    expect((await createReplicatedTopic(port(1), TOPIC, 3, 3)).topics[0]!.errorCode).toBe(0);
    const leaders = (await waitFor(async () => {
      const states = await Promise.all([0, 1, 2].map((partition) => cluster.state(TOPIC, partition)));
      return states.every((state) => state !== null && state.isr.length === 3) ? states.map((state) => state!.leader) : null;
    }, 15_000))!;
    expect(new Set(leaders).size).toBeGreaterThan(1);
    const coordinatorId = (await shareStateLeaders())[coordinatorPartitionOf(GROUP, INTERNAL_PARTITIONS)]!;

    const client = new Client({ brokers: [`127.0.0.1:${port(1)}`], retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
    const producer = client.producer({ lingerMs: 1 });
    const produce = async (from: number, count: number): Promise<void> => {
      await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: count }, (_, index) => ({ value: `job-${from + index}`, partition: (from + index) % 3 })) });
    };
    await produce(0, 300);

    const rejects = (value: string): boolean => Number(value.slice(4)) % 50 === 7;
    // accepted: the acknowledgement was answered; processed: acknowledged, whatever the answer
    // (an acknowledgement that failed, e.g. while the coordinator moves, may still have been
    // applied: the record is then not handed out again, as a produce that timed out may be stored).
    const accepted = new Set<string>();
    const processed = new Set<string>();
    const acceptedThenDelivered: string[] = [];
    const deliveredFrom = new Map<number, number>();
    // Small acquisitions and a long lock: each handler acks one record at a time (a round trip
    // each), so on a loaded machine 500 records would outlive their lock and be handed out
    // again, up to the delivery limit. The first member's lock also sets the group's config.
    const consumers = [
      client.shareConsumer({ groupId: GROUP, maxWaitMs: 200, maxRecords: 50, lockDurationMs: 60_000 }),
      client.shareConsumer({ groupId: GROUP, maxWaitMs: 200, maxRecords: 50 }),
    ];
    const missing = (values: readonly string[]): string => {
      const left = values.filter((value) => !processed.has(value));
      return `${left.length} not processed (${left.slice(0, 10).join(', ')}); delivered per partition ${JSON.stringify([...deliveredFrom])}`;
    };
    let killedNode = -1;
    const handle = async ({ partition, message }: { partition: number; message: ShareMessage }): Promise<void> => {
      const value = message.value!.toString();
      deliveredFrom.set(partition, (deliveredFrom.get(partition) ?? 0) + 1);
      // A copy acquired from the killed broker before its kill may still be in a consumer's
      // hands when another member accepts the record's new copy (at-least-once): only a copy
      // from a live broker after an acceptance would be the broker handing it out again.
      if (accepted.has(value) && (message as unknown as { nodeId: number }).nodeId !== killedNode) acceptedThenDelivered.push(value);
      if (rejects(value)) {
        await message.reject('poison');
        return;
      }
      processed.add(value);
      await message.ack();
      accepted.add(value);
    };
    try {
      for (const consumer of consumers) {
        await consumer.subscribe({ topics: [TOPIC] });
        await consumer.run({ eachMessage: handle });
      }
      // Every partition is served (each by its own leader).
      await waitFor(() => processed.size >= 100 && deliveredFrom.size === 3, 20_000).catch((error: unknown) => {
        // eslint-disable-next-line no-console
        console.log('DEBUG', accepted.size, [...deliveredFrom], [1, 2, 3].map((id) => cluster.brokers.get(id)!.stderr().slice(-2000)).join('\n-----\n'));
        throw error;
      });
      expect([...deliveredFrom.keys()].sort()).toEqual([0, 1, 2]);

      // Kill the leader of a data partition that neither coordinates the group nor is the bootstrap broker.
      const victimPartition = leaders.findIndex((leader) => leader !== coordinatorId && leader !== 1);
      expect(victimPartition).toBeGreaterThanOrEqual(0);
      const victim = leaders[victimPartition]!;
      killedNode = victim;
      await cluster.brokers.get(victim)!.kill();
      const moved = (await waitFor(async () => {
        const state = await cluster.state(TOPIC, victimPartition);
        return state !== null && state.leader !== victim && state.leader >= 0 ? state : null;
      }, TTL_MS + 8_000))!;
      await produce(300, 150);

      const expected = Array.from({ length: 450 }, (_, index) => `job-${index}`).filter((value) => !rejects(value));
      await waitFor(() => expected.every((value) => processed.has(value)), 40_000).catch((error: unknown) => {
        throw new Error(`${missing(expected)}: ${String(error)}`);
      });
      expect(acceptedThenDelivered).toEqual([]);
      // The admin merges every broker's view: each partition's leader's live state, the coordinator's config.
      // (Polled: a record processed but whose acknowledgement failed is handed out once more first.)
      const view = (described: { partitions: Array<{ partition: number; startOffset: number; inFlight: number; live?: boolean }> }) =>
        described.partitions.map(({ partition, startOffset, inFlight, live }) => ({ partition, startOffset, inFlight, live }));
      const expectedView = [0, 1, 2].map((partition) => ({ partition, startOffset: 150, inFlight: 0, live: true }));
      const described = await waitFor(async () => {
        const [group] = await client.admin().describeShareGroups({ groupIds: [GROUP] });
        return JSON.stringify(view(group!)) === JSON.stringify(expectedView) ? group : null;
      }, 20_000).catch(async (error: unknown) => {
        const [group] = await client.admin().describeShareGroups({ groupIds: [GROUP] });
        throw new Error(`described ${JSON.stringify(view(group!))}: ${String(error)}`);
      });
      expect(described!.lockDurationMs).toBe(60_000);

      // The rejected records are in the cluster's dead-letter topic, whoever leads it.
      const dlq = (await waitFor(() => cluster.state(`${GROUP}.dlq`, 0)))!;
      const letters = await waitFor(async () => {
        const values = await readValues(port(dlq.leader), `${GROUP}.dlq`);
        return values.length >= 9 ? values : null;
      }, 15_000);
      const rejected = Array.from({ length: 450 }, (_, index) => `job-${index}`).filter(rejects);
      expect(new Set(letters)).toEqual(new Set(rejected));

      // Then the share coordinator's broker is killed (the data leader that was killed is back):
      // the group's state partition gets a new leader, which loads the stored state; the
      // partition leaders' reads and writes go there. Nothing accepted is handed out again.
      await cluster.serve(victim);
      await waitFor(async () => (await Promise.all([0, 1, 2].map((partition) => cluster.state(TOPIC, partition)))).every((state) => state?.isr.length === 3), 20_000);
      const statePartition = coordinatorPartitionOf(GROUP, INTERNAL_PARTITIONS);
      const coordinator = (await cluster.state(SHARE_STATE_TOPIC, statePartition))!.leader;
      killedNode = coordinator;
      await cluster.brokers.get(coordinator)!.kill();
      const newCoordinator = (await waitFor(async () => {
        const state = await cluster.state(SHARE_STATE_TOPIC, statePartition);
        return state !== null && state.leader !== coordinator && state.leader >= 0 ? state.leader : null;
      }, TTL_MS + 8_000))!;
      await produce(450, 150);
      const all = Array.from({ length: 600 }, (_, index) => `job-${index}`).filter((value) => !rejects(value));
      await waitFor(() => all.every((value) => processed.has(value)), 40_000).catch((error: unknown) => {
        throw new Error(`${missing(all)}: ${String(error)}`);
      });
      expect(acceptedThenDelivered).toEqual([]);
      // eslint-disable-next-line no-console
      console.log(
        `share groups in a cluster: partition ${victimPartition}'s leader ${victim} killed, ${moved.leader} took it over; then the coordinator ${coordinator} killed, ${newCoordinator} took over; ${accepted.size} accepted, ${letters!.length} dead letters before`,
      );
    } finally {
      for (const consumer of consumers) await consumer.close().catch(() => undefined);
      await producer.close();
      await client.close();
    }
  }, 120_000);
});
