// Proves that in cluster mode DeleteTopics, CreatePartitions and AlterConfigs go through etcd and
// reach every broker holding a replica, not only the one that received the request: a real etcd
// and three real `spool serve --cluster` processes, a topic with RF 3 created through broker 1;
// its configs altered through broker 2 show in the DescribeTopics of all three; partitions added
// through broker 3 are placed by the controller (states and assignment in etcd) and exist as
// local logs on every replica; the topic deleted through broker 2 leaves etcd in one
// transaction (spec, assignment, every partition state) and its directories leave every
// broker's data dir; the same name can then be created again. A broker that was down while a
// config changed applies it when it comes back. Run `npm run build` first.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTopicAssignment } from '../../src/cluster/values.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

let cluster: TestCluster;
const ids = [1, 2, 3];

beforeAll(async () => {
  cluster = await TestCluster.start(ids, { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 2_000 });
  // Every broker registered (a broker's view may lag a moment behind etcd; CreateTopics retries below).
  await waitFor(async () => (await cluster.store.list(cluster.layout.brokers)).items.length === ids.length, 10_000);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function request<T>(nodeId: number, api: ApiKey, body: object): Promise<T> {
  const client = await RawClient.connect(cluster.brokers.get(nodeId)!.port);
  try {
    return (await client.request<T>(api, body)).header;
  } finally {
    client.socket.destroy();
  }
}

const hasDir = (nodeId: number, topic: string, partition: number): boolean => existsSync(join(cluster.dataDir(nodeId), `${topic}-${partition}`));

async function retentionOn(nodeId: number, topic: string): Promise<string | number | undefined> {
  const response = await request<M.DescribeTopicsResponse>(nodeId, ApiKey.DescribeTopics, { names: [topic] });
  return response.topics[0]!.config['retention.ms'];
}

describe('topic administration in a cluster goes through etcd', () => {
  it('alters configs, adds partitions and deletes the topic on every replica', async () => {
    const topic = 'admin';
    await waitFor(async () => (await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, 1, 3)).topics[0]!.errorCode === 0, 10_000);
    await waitFor(() => ids.every((id) => hasDir(id, topic, 0)), 10_000);

    // AlterConfigs through broker 2: every broker applies it.
    const altered = await request<M.AlterConfigsResponse>(2, ApiKey.AlterConfigs, { topics: [{ name: topic, config: { 'retention.ms': '123456' } }] });
    expect(altered.topics[0]!.errorCode).toBe(0);
    for (const id of ids) await waitFor(async () => String(await retentionOn(id, topic)) === '123456', 10_000);
    // A bad value is refused before etcd, and changes nothing.
    const refused = await request<M.AlterConfigsResponse>(2, ApiKey.AlterConfigs, { topics: [{ name: topic, config: { 'retention.ms': 'soon' } }] });
    expect(refused.topics[0]!.errorCode).not.toBe(0);

    // CreatePartitions through broker 3: the controller places them, every replica creates them.
    const grown = await request<M.CreatePartitionsResponse>(3, ApiKey.CreatePartitions, { topics: [{ name: topic, count: 3 }] });
    expect(grown.topics[0]!.errorCode).toBe(0);
    const assignment = decodeTopicAssignment((await cluster.store.get(cluster.layout.assignment(topic)))!.value)!;
    expect(assignment.replicas).toHaveLength(3);
    for (const replicas of assignment.replicas) expect([...replicas].sort()).toEqual(ids);
    for (const partition of [1, 2]) expect((await cluster.state(topic, partition))?.leaderEpoch).toBe(0);
    await waitFor(() => ids.every((id) => hasDir(id, topic, 1) && hasDir(id, topic, 2)), 10_000);
    const notGreater = await request<M.CreatePartitionsResponse>(1, ApiKey.CreatePartitions, { topics: [{ name: topic, count: 2 }] });
    expect(notGreater.topics[0]!.errorCode).not.toBe(0);

    // DeleteTopics through broker 2: gone from etcd at once, then from every data dir.
    const deleted = await request<M.DeleteTopicsResponse>(2, ApiKey.DeleteTopics, { names: [topic] });
    expect(deleted.topics[0]!.errorCode).toBe(0);
    const left = await cluster.store.list(`/spool/`);
    expect(left.items.map((kv) => kv.key).filter((key) => key.includes(`/${topic}`))).toEqual([]);
    await waitFor(() => ids.every((id) => [0, 1, 2].every((partition) => !hasDir(id, topic, partition))), 10_000);
    const again = await request<M.DeleteTopicsResponse>(1, ApiKey.DeleteTopics, { names: [topic] });
    expect(again.topics[0]!.errorCode).not.toBe(0);

    // The name is free again: created anew with one partition on every broker.
    expect((await createReplicatedTopic(cluster.brokers.get(3)!.port, topic, 1, 3)).topics[0]!.errorCode).toBe(0);
    await waitFor(() => ids.every((id) => hasDir(id, topic, 0) && !hasDir(id, topic, 1)), 10_000);
    expect(String(await retentionOn(1, topic))).not.toBe('123456');
  }, 40_000);

  it('a broker down during a config change applies it when it comes back', async () => {
    const topic = 'later';
    await waitFor(async () => (await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, 1, 3)).topics[0]!.errorCode === 0, 10_000);
    await waitFor(() => ids.every((id) => hasDir(id, topic, 0)), 10_000);
    await cluster.brokers.get(3)!.kill();
    const altered = await request<M.AlterConfigsResponse>(1, ApiKey.AlterConfigs, { topics: [{ name: topic, config: { 'retention.ms': '654321' } }] });
    expect(altered.topics[0]!.errorCode).toBe(0);
    await cluster.serve(3);
    await waitFor(async () => String(await retentionOn(3, topic)) === '654321', 10_000);
  }, 30_000);
});
