// Proves the broker-side wiring of replication with a real etcd and three real `spool serve
// --cluster` processes (lease TTL 2 s, RF 3, min.insync 2): native CreateTopics with a
// replicationFactor goes through the controller's placement and every replica broker creates
// its local log when its role arrives; a follower answers Produce and Fetch with
// NOT_LEADER_OR_FOLLOWER; an acks=all producer (following the leader named in etcd) keeps
// going while the leader is kill -9'd: a new leader within TTL + 2 s, every acknowledged
// message present in order on the new leader; the old leader restarted on its data dir
// truncates by leader epoch, catches up, rejoins the ISR, and the three replicas' segment
// files end byte-identical (sha256 per segment); a produce to an unknown topic auto-creates it
// through the controller (default replication factor 3, every broker gets its replicas'
// logs) and is answered by its leader. Run `npm run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { decodeTopicSpec } from '../../src/cluster/values.js';
import { batchOf } from '../broker/records.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, FollowingProducer, missingOrReordered, readValues, segmentChecksums, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const TTL_MS = 2_000;
const TOPIC = 'failover';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000, args: ['--auto-create-topics', '--default-partitions', '2'] });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('replication in a cluster of spool serve processes', () => {
  it('fails over on kill -9 of the leader without losing an acknowledged message; the old leader catches up byte for byte', async () => {
    // CreateTopics on any broker: placed by the controller with the replication factor asked for.
    const created = await createReplicatedTopic(cluster.brokers.get(1)!.port, TOPIC, 1, 3);
    expect(created.topics[0]!.errorCode).toBe(0);
    const spec = decodeTopicSpec((await cluster.store.get(cluster.layout.topic(TOPIC)))!.value)!;
    expect(spec).toMatchObject({ partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 });
    const initial = (await waitFor(() => cluster.state(TOPIC, 0)))!;
    expect(initial.isr.length).toBe(3);
    const leaderId = initial.leader;
    const followerId = initial.isr.find((id) => id !== leaderId)!;

    // A follower refuses produce and fetch (once its role arrived and its log exists).
    const follower = await RawClient.connect(cluster.brokers.get(followerId)!.port);
    const batch = batchOf(['refused']);
    const refused = (await waitFor(async () => {
      const response = await follower.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 1000, partitions: [{ topic: TOPIC, partition: 0, size: batch.length }] }, batch);
      return response.header.partitions[0]!.errorCode === 80 ? response : null;
    }))!;
    expect(refused.header.partitions[0]!.errorCode).toBe(80);
    const fetched = await follower.fetch([{ topic: TOPIC, partition: 0, offset: 0 }]);
    expect(fetched.header.partitions[0]!.errorCode).toBe(80);
    follower.socket.destroy();

    const producer = new FollowingProducer(cluster, TOPIC);
    producer.start();
    await waitFor(() => producer.acked.length >= 300, 15_000);
    const killedAt = Date.now();
    await cluster.brokers.get(leaderId)!.kill();
    const next = (await waitFor(async () => {
      const state = await cluster.state(TOPIC, 0);
      return state && state.leader !== leaderId && state.leader >= 0 ? state : null;
    }, TTL_MS + 5_000))!;
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(TTL_MS + 2_000);
    expect(next.leaderEpoch).toBeGreaterThan(initial.leaderEpoch);
    // The producer carries on against the new leader.
    const ackedAtFailover = producer.acked.length;
    await waitFor(() => producer.ackedBy.filter((entry) => entry.nodeId === next.leader).length >= 200, 15_000);
    await producer.stop();
    expect(producer.acked.length).toBeGreaterThan(ackedAtFailover);

    const newLeaderPort = (await cluster.portOf(next.leader))!;
    const onNewLeader = await readValues(newLeaderPort, TOPIC);
    expect(missingOrReordered(producer.acked, onNewLeader)).toEqual([]);

    // The old leader comes back on its data dir: truncates, catches up, rejoins the ISR.
    await cluster.serve(leaderId);
    await waitFor(async () => (await cluster.state(TOPIC, 0))?.isr.length === 3, 15_000);
    const sums = (id: number): string => JSON.stringify(segmentChecksums(cluster.dataDir(id), TOPIC, 0));
    await waitFor(() => sums(1) === sums(2) && sums(2) === sums(3), 10_000);
    expect(Object.keys(segmentChecksums(cluster.dataDir(1), TOPIC, 0)).length).toBeGreaterThan(0);
    expect(await readValues(newLeaderPort, TOPIC)).toEqual(onNewLeader);
    const firstAckMs = producer.ackedBy.find((entry) => entry.nodeId === next.leader)!.atMs - killedAt;
    // eslint-disable-next-line no-console
    console.log(`failover: ${failoverMs} ms to a new leader in etcd, ${firstAckMs} ms to the first acks=all answer from it; ${producer.acked.length} acknowledged; errors seen: ${JSON.stringify(Object.fromEntries(producer.errors))}`);
  }, 45_000);

  it('auto-creates a topic on produce through the controller, replicated on every broker', async () => {
    const topic = 'auto';
    const client = await RawClient.connect(cluster.brokers.get(1)!.port);
    const batch = batchOf(['first']);
    const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 5000, partitions: [{ topic, partition: 0, size: batch.length }] }, batch);
    client.socket.destroy();
    const spec = decodeTopicSpec((await cluster.store.get(cluster.layout.topic(topic)))!.value)!;
    expect(spec).toMatchObject({ partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 });
    const state = (await cluster.state(topic, 0))!;
    // Broker 1 answers as the partition's leader or refuses as a follower: never UNKNOWN_TOPIC.
    expect(response.header.partitions[0]!.errorCode).toBe(state.leader === 1 ? 0 : 80);
    await waitFor(() => [1, 2, 3].every((id) => Object.keys(segmentChecksums(cluster.dataDir(id), topic, 1)).length === 1));
  }, 20_000);
});
