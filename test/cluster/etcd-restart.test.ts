// Proves a cluster rides out an etcd restart (issue #12 "etcd restarted"): three real `spool
// serve --cluster` processes over a real etcd (lease TTL 6 s, the default; RF 3, min.insync 2,
// two partitions) with an acks=all producer logging its own acknowledgements. etcd is stopped
// (SIGTERM) for a few seconds, shorter than the lease TTL: the current leaders keep
// acknowledging acks=all produce and answer fetch while it is down; a CreateTopics sent during
// the outage waits and succeeds once etcd is back; all three brokers are still (or again)
// registered, leaders and ISRs intact, produce goes on, and the checker finds nothing
// acknowledged lost, reordered or moved. An outage longer than the TTL stops acknowledgements
// once the leases can no longer be proven alive (by design: src/cluster/README.md "Membership
// and lease loss"); the second case proves that after such an outage produce resumes on the
// same leaders (etcd's restart renews every lease) and nothing acknowledged is lost. Run `npm
// run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCheck, readPartition } from '../helpers/ack-checker.js';
import { AckProducer, etcdLocator, type LeaderAddress } from '../helpers/ack-producer.js';
import { waitFor } from '../helpers/broker.js';
import { checkTopic } from '../helpers/cluster-check.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';

const TTL_MS = 6_000;
const TOPIC = 'etcd-restart';
const PARTITIONS = 2;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000 });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('etcd restarted while producing', () => {
  it('leaders keep serving produce and fetch, a topic creation waits, nothing acknowledged is lost', async () => {
    expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, TOPIC, PARTITIONS, 3)).topics[0]!.errorCode).toBe(0);
    const locate = etcdLocator(cluster.store, cluster.layout);
    const leaders: LeaderAddress[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) leaders.push((await waitFor(() => locate(TOPIC, partition)))!);
    const statesBefore = await Promise.all([0, 1].map((partition) => cluster.state(TOPIC, partition)));
    // The producer looks leaders up in etcd; while etcd is down it keeps the ones it knew.
    const known = new Map<number, LeaderAddress>();
    const producer = new AckProducer({
      producer: 'a',
      topic: TOPIC,
      partitions: [0, 1],
      batchMessages: 5,
      requestTimeoutMs: 3_000,
      locate: async (topic, partition) => {
        try {
          const leader = await Promise.race([locate(topic, partition), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('etcd slow')), 200))]);
          if (leader) known.set(partition, leader);
          return leader;
        } catch {
          return known.get(partition) ?? null;
        }
      },
    });
    producer.start();
    await waitFor(() => producer.acked.length >= 300, 15_000);

    await cluster.etcd.stop();
    const stoppedAt = Date.now();
    let created: ReturnType<typeof createReplicatedTopic> | null = null;
    try {
      // Leaders acknowledge acks=all and answer fetch with etcd down.
      await waitFor(() => producer.ackedSince(stoppedAt) >= 40, TTL_MS / 2);
      const fetched = await readPartition(leaders[0]!.port, TOPIC, 0);
      expect(fetched.length).toBeGreaterThan(0);
      created = createReplicatedTopic(cluster.brokers.get(2)!.port, 'created-during-outage', 1, 3);
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await cluster.etcd.restart();
    }
    const downMs = Date.now() - stoppedAt;
    expect(downMs).toBeLessThan(TTL_MS);
    const ackedWhileDown = producer.ackedSince(stoppedAt);

    // The creation sent during the outage completes.
    expect((await created!).topics[0]!.errorCode).toBe(0);
    expect(await waitFor(() => cluster.state('created-during-outage', 0), 10_000)).toMatchObject({ isr: expect.arrayContaining([1, 2, 3]) });
    // Every broker registered; leaders unchanged (no failover for an etcd restart).
    await waitFor(async () => (await Promise.all([1, 2, 3].map((id) => cluster.portOf(id)))).every((port) => port !== null), 10_000);
    const statesAfter = await Promise.all([0, 1].map((partition) => cluster.state(TOPIC, partition)));
    expect(statesAfter.map((state) => state!.leader)).toEqual(statesBefore.map((state) => state!.leader));
    const restartedAt = Date.now();
    await waitFor(() => producer.ackedSince(restartedAt) >= 50, 10_000);
    await producer.stop();

    const result = await checkTopic(cluster, TOPIC, PARTITIONS, producer.acked);
    expect(result.examples.filter((line) => !line.startsWith('duplicated'))).toEqual([]);
    expect(result).toMatchObject({ lost: 0, reordered: 0, moved: 0 });
    // eslint-disable-next-line no-console
    console.log(`etcd-restart: etcd down ${downMs} ms, ${ackedWhileDown} batches acknowledged meanwhile; ${formatCheck(result)}; errors seen: ${JSON.stringify(Object.fromEntries(producer.errors))}`);
  }, 45_000);

  it('after an outage longer than the lease TTL, produce resumes on the same leaders and nothing acknowledged is lost', async () => {
    const topic = 'etcd-long-outage';
    expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, 1, 3)).topics[0]!.errorCode).toBe(0);
    const before = (await waitFor(async () => {
      const state = await cluster.state(topic, 0);
      return state && state.isr.length === 3 ? state : null;
    }))!;
    const leader = (await etcdLocator(cluster.store, cluster.layout)(topic, 0))!;
    // With etcd down the locator cannot answer: the producer keeps the leader it knew.
    const producer = new AckProducer({ producer: 'b', topic, partitions: [0], batchMessages: 5, requestTimeoutMs: 2_000, locate: async () => leader });
    producer.start();
    await waitFor(() => producer.acked.length >= 200, 15_000);

    await cluster.etcd.stop();
    const stoppedAt = Date.now();
    try {
      await new Promise((resolve) => setTimeout(resolve, TTL_MS + 2_000));
    } finally {
      await cluster.etcd.restart();
    }
    const restartedAt = Date.now();
    const lastAckWhileDownMs = Math.max(0, ...producer.batches.filter((batch) => batch.atMs < restartedAt).map((batch) => batch.atMs - stoppedAt));
    // etcd's restart renews every lease: no broker lost its registration, no failover.
    await waitFor(() => producer.ackedSince(restartedAt) >= 50, 20_000);
    await producer.stop();
    const after = (await cluster.state(topic, 0))!;
    expect(after.leader).toBe(before.leader);
    const result = await checkTopic(cluster, topic, 1, producer.acked);
    expect(result.examples.filter((line) => !line.startsWith('duplicated'))).toEqual([]);
    expect(result).toMatchObject({ lost: 0, reordered: 0, moved: 0 });
    // eslint-disable-next-line no-console
    console.log(`etcd long outage: down ${restartedAt - stoppedAt} ms (TTL ${TTL_MS}); last acknowledgement ${lastAckWhileDownMs} ms into it; first after it ${producer.batches.find((batch) => batch.atMs >= restartedAt)!.atMs - restartedAt} ms after the restart; ${formatCheck(result)}; errors: ${JSON.stringify(Object.fromEntries(producer.errors))}`);
  }, 45_000);
});
