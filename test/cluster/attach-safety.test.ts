// Proves that a broker joining a cluster deletes at attach only the local replicas its data
// directory's record (meta/cluster-replicas) says the cluster assigned to it, with a real etcd
// and real `spool serve` processes (brokers 1 and 2 in a cluster; a third data directory made
// by a single broker without --cluster):
// 1. The single node's directory, holding a topic "shared" with records, joins as broker 3
//    while the cluster has its own "shared" assigned to brokers 1 and 2: broker 3 keeps its
//    records byte for byte (it says so in a warning), and keeps them still when "shared" is
//    then deleted in etcd (the live path for topics that leave etcd).
// 2. Broker 3's directory is refused by another cluster (another etcd root, so another
//    cluster id) and under another node id: the start fails with INCONSISTENT_CLUSTER_ID
//    before registering, and the directory is unchanged.
// 3. A topic held by broker 2 and deleted in etcd while broker 2 was down is deleted at its
//    attach; a stray temp file of the record (a crash mid-write) does not disturb the start.
// (A replica reassigned away while its broker was down is still deleted at attach:
// test/cluster/reassign-cleanup.test.ts, which runs through the record.)
// Run `npm run build` first (the test spawns dist/).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_REPLICAS_FILE, decodeClusterReplicas } from '../../src/broker/cluster-replica-record.js';
import { decodeClusterId } from '../../src/cluster/cluster-id.js';
import { decodeTopicAssignment } from '../../src/cluster/values.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { batchOf } from '../broker/records.js';
import { startBroker, tempDir, waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, segmentChecksums, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2], { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 1_500 });
  await waitFor(async () => (await cluster.store.list(cluster.layout.brokers)).items.length === 2, 10_000);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function request<T>(port: number, api: ApiKey, body: object): Promise<T> {
  const client = await RawClient.connect(port);
  try {
    return (await client.request<T>(api, body)).header;
  } finally {
    client.destroy();
  }
}

async function produce(port: number, topic: string, partition: number, values: string[]): Promise<void> {
  const client = await RawClient.connect(port);
  try {
    for (const value of values) expect((await client.produce(topic, partition, batchOf([value]))).errorCode).toBe(0);
  } finally {
    client.destroy();
  }
}

function recordOf(dataDir: string): ReturnType<typeof decodeClusterReplicas> {
  return decodeClusterReplicas(readFileSync(join(dataDir, CLUSTER_REPLICAS_FILE)));
}

describe('attach deletes only replicas this broker held in this cluster', () => {
  it('keeps a joining single node\'s data, refuses a foreign directory, and deletes a topic deleted while down', async () => {
    // The single node's data: "shared" with records, made without --cluster.
    const singleDir = tempDir('spool-single-');
    const single = await startBroker({ dataDir: singleDir, args: ['--http', 'off'] });
    const singleClient = await RawClient.connect(single.port);
    expect((await singleClient.createTopic('shared', 1)).topics[0]!.errorCode).toBe(0);
    singleClient.destroy();
    await produce(single.port, 'shared', 0, ['s0', 's1', 's2']);
    expect(await single.stop()).toBe(0);
    const before = segmentChecksums(singleDir, 'shared', 0);
    expect(Object.keys(before).length).toBeGreaterThan(0);

    // The cluster's own "shared", on brokers 1 and 2 only (broker 3 is not there yet), and
    // "gone", which broker 2 holds.
    const port1 = cluster.brokers.get(1)!.port;
    await waitFor(async () => (await createReplicatedTopic(port1, 'shared', 1, 2)).topics[0]!.errorCode === 0, 10_000);
    await waitFor(async () => (await createReplicatedTopic(port1, 'gone', 1, 2)).topics[0]!.errorCode === 0, 10_000);
    await waitFor(async () => (await cluster.state('gone', 0))?.isr.length === 2, 10_000);
    await produce((await cluster.portOf((await cluster.state('gone', 0))!.leader))!, 'gone', 0, ['g0', 'g1']);
    await waitFor(() => Object.keys(segmentChecksums(cluster.dataDir(2), 'gone', 0)).length > 0 && existsSync(join(cluster.dataDir(2), 'gone-0')), 10_000);

    // 1. The single node joins as broker 3: its "shared" is not of this cluster and stays.
    cluster.useDataDir(3, singleDir);
    const third = await cluster.serve(3);
    const assignment = decodeTopicAssignment((await cluster.store.get(cluster.layout.assignment('shared')))!.value)!;
    expect(assignment.replicas[0]).not.toContain(3);
    const clusterId = decodeClusterId((await cluster.store.get(cluster.layout.clusterId))!.value);
    // "shared" leaves etcd: brokers 1 and 2 delete theirs, broker 3 keeps its own.
    const deleted = await request<M.DeleteTopicsResponse>(port1, ApiKey.DeleteTopics, { names: ['shared'] });
    expect(deleted.topics[0]!.errorCode).toBe(0);
    await waitFor(() => !existsSync(join(cluster.dataDir(1), 'shared-0')) && !existsSync(join(cluster.dataDir(2), 'shared-0')), 10_000);
    // A later change broker 3 applies (a topic of its own) shows it has seen the deletion.
    await waitFor(async () => (await createReplicatedTopic(port1, 'marker', 3, 3)).topics[0]!.errorCode === 0, 10_000);
    await waitFor(() => existsSync(join(singleDir, 'marker-2')), 10_000);
    expect(segmentChecksums(singleDir, 'shared', 0)).toEqual(before);
    expect(recordOf(singleDir).entries).toEqual(expect.arrayContaining([{ topic: 'marker', partition: 0 }]));
    expect(recordOf(singleDir).identity).toEqual({ clusterId, root: '/spool', nodeId: 3 });
    expect(recordOf(singleDir).entries.filter((entry) => entry.topic === 'shared')).toEqual([]);
    expect(third.stderr()).toMatch(/never assigned to this broker in this cluster .*shared/);
    expect(await third.stop()).toBe(0);
    expect(segmentChecksums(singleDir, 'shared', 0)).toEqual(before);

    // 2. Broker 3's directory under another cluster (another root: another cluster id) and
    // under another node id: refused before registering, nothing changed.
    const recordBytes = readFileSync(join(singleDir, CLUSTER_REPLICAS_FILE));
    await expect(startBroker({ dataDir: singleDir, args: ['--cluster', `${cluster.etcd.url}/other`, '--node-id', '3', '--http', 'off'] })).rejects.toThrow(/INCONSISTENT_CLUSTER_ID/);
    await expect(startBroker({ dataDir: singleDir, args: ['--cluster', cluster.etcd.url, '--node-id', '4', '--http', 'off'] })).rejects.toThrow(/belongs to node id 3 .*INCONSISTENT_CLUSTER_ID/);
    expect(await cluster.store.get(`${cluster.layout.broker(4)}`)).toBeNull();
    expect((await cluster.store.list('/other/brokers/')).items).toEqual([]);
    expect(readFileSync(join(singleDir, CLUSTER_REPLICAS_FILE))).toEqual(recordBytes);
    expect(segmentChecksums(singleDir, 'shared', 0)).toEqual(before);

    // 3. "gone" is deleted while broker 2 is down; it deletes its copy at attach, a torn temp
    // file of its record notwithstanding.
    expect(recordOf(cluster.dataDir(2)).entries).toContainEqual({ topic: 'gone', partition: 0 });
    expect(await cluster.brokers.get(2)!.stop()).toBe(0);
    const gone = await request<M.DeleteTopicsResponse>(port1, ApiKey.DeleteTopics, { names: ['gone'] });
    expect(gone.topics[0]!.errorCode).toBe(0);
    writeFileSync(join(cluster.dataDir(2), `${CLUSTER_REPLICAS_FILE}.tmp`), '1\nhalf a wri');
    await cluster.serve(2);
    await waitFor(() => !existsSync(join(cluster.dataDir(2), 'gone-0')), 10_000);
    await waitFor(() => !recordOf(cluster.dataDir(2)).entries.some((entry) => entry.topic === 'gone'), 10_000);
  }, 90_000);
});
