// Proves the controller's automatic preferred-leader rebalance (Kafka's
// auto.leader.rebalance.enable) with a real etcd and three real `spool serve --cluster`
// processes (imbalance checked every 500 ms): a broker is stopped, its leaderships move to
// other ISR members, it is started again on the same data dir, rejoins the ISRs, and every
// partition's leader returns to its preferred (first) replica with a higher leader epoch,
// without any admin command (a watch sees no election request written to etcd). Run
// `npm run build` first (the test spawns dist/).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTopicAssignment } from '../../src/cluster/values.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';

const ids = [1, 2, 3];
const PARTITIONS = 6;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start(ids, { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 1_500, args: ['--leader-imbalance-check-interval-ms', '500'] });
  await waitFor(async () => (await cluster.store.list(cluster.layout.brokers)).items.length === ids.length, 10_000);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function leaders(topic: string): Promise<Array<{ leader: number; leaderEpoch: number; isr: readonly number[] }>> {
  return Promise.all(Array.from({ length: PARTITIONS }, async (_, partition) => (await cluster.state(topic, partition))!));
}

describe('automatic preferred-leader rebalance', () => {
  it('hands leadership back to a restarted broker without an admin command', async () => {
    const topic = 'rebalanced';
    await waitFor(async () => (await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, PARTITIONS, 3)).topics[0]!.errorCode === 0, 10_000);
    const preferred = decodeTopicAssignment((await cluster.store.get(cluster.layout.assignment(topic)))!.value)!.replicas.map((replicas) => replicas[0]!);
    await waitFor(async () => (await leaders(topic)).every((state, partition) => state.leader === preferred[partition] && state.isr.length === 3), 10_000);
    const victim = 2;
    const led = preferred.flatMap((nodeId, partition) => (nodeId === victim ? [partition] : []));
    expect(led.length).toBeGreaterThan(0);

    // Every election request written from here on (there must be none: nobody asks).
    const requests: string[] = [];
    const watch = cluster.store.watchPrefix(cluster.layout.elections, (await cluster.store.list(cluster.layout.elections)).revision + 1, {
      onEvents: (events) => requests.push(...events.map((event) => event.key)),
      onError: () => {},
    });
    await cluster.brokers.get(victim)!.stop();
    await waitFor(async () => (await leaders(topic)).every((state) => state.leader !== victim && state.leader >= 0), 10_000);
    const moved = await leaders(topic);

    const restartedMs = Date.now();
    await cluster.serve(victim);
    await waitFor(async () => (await leaders(topic)).every((state, partition) => state.leader === preferred[partition]), 15_000);
    console.info(`leaderships back on broker ${victim} ${Date.now() - restartedMs} ms after its restart (check every 500 ms)`);
    const after = await leaders(topic);
    for (const partition of led) expect(after[partition]!.leaderEpoch).toBeGreaterThan(moved[partition]!.leaderEpoch);
    await watch.close();
    expect(requests).toEqual([]);
  }, 45_000);
});
