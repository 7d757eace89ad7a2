// Proves the group coordinator fails over with a real etcd and three real `spool serve
// --cluster` processes (lease TTL 2 s, `--offsets-topic-partitions 4`): the first
// FindCoordinator creates __consumer_offsets in the cluster (4 partitions, replication factor
// 3, placed by the controller); a consumer group of the SDK consumes a replicated topic and
// commits through the leader of its offsets partition; that broker is kill -9'd; the
// partition gets a new leader, which loads the group with its committed offsets and is
// named by FindCoordinator; the consumer finds it, rejoins there and resumes from its
// committed position: every message consumed, none twice, and its later commits land on the
// new coordinator. The data partition's leader is a broker other than the coordinator (the
// SDK's routing of fetches to leaders is not this test's subject), and the client's first
// bootstrap address is that leader. Run `npm run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { coordinatorPartitionOf } from '../../src/groups/coordinator-placement.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const TTL_MS = 2_000;
const PARTITIONS = 4;
const OFFSETS = '__consumer_offsets';
const TOPIC = 'orders';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000, args: ['--offsets-topic-partitions', String(PARTITIONS)] });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function findCoordinator(port: number, groupId: string): Promise<M.FindCoordinatorResponse> {
  const client = await RawClient.connect(port);
  try {
    return (await client.request<M.FindCoordinatorResponse>(ApiKey.FindCoordinator, { groupId })).header;
  } finally {
    client.socket.destroy();
  }
}

async function committed(port: number, groupId: string): Promise<number | undefined> {
  const client = await RawClient.connect(port);
  try {
    const response = await client.request<M.OffsetFetchResponse>(ApiKey.OffsetFetch, { groupId, partitions: [{ topic: TOPIC, partition: 0 }] });
    return response.header.errorCode === 0 ? response.header.offsets?.[0]?.offset : undefined;
  } finally {
    client.socket.destroy();
  }
}

describe('group coordinator failover in a cluster of spool serve processes', () => {
  it('moves the coordinator on kill -9 of its broker: committed offsets survive, the consumer resumes', async () => {
    const port = (id: number): number => cluster.brokers.get(id)!.port;
    expect((await createReplicatedTopic(port(1), TOPIC, 1, 3)).topics[0]!.errorCode).toBe(0);
    const data = (await waitFor(() => cluster.state(TOPIC, 0)))!;

    // The first lookup creates __consumer_offsets in the cluster; until it is placed: no coordinator.
    const first = await findCoordinator(port(1), 'probe');
    expect([0, 45]).toContain(first.errorCode);
    const offsetLeaders = (await waitFor(async () => {
      const states = await Promise.all(Array.from({ length: PARTITIONS }, (_, partition) => cluster.state(OFFSETS, partition)));
      return states.every((state) => state !== null && state.isr.length === 3) ? states.map((state) => state!.leader) : null;
    }, 15_000))!;
    // A group whose coordinator is not the data partition's leader.
    let groupId = '';
    for (let index = 0; groupId === ''; index++) {
      const candidate = `group-${index}`;
      if (offsetLeaders[coordinatorPartitionOf(candidate, PARTITIONS)] !== data.leader) groupId = candidate;
    }
    const coordinatorId = offsetLeaders[coordinatorPartitionOf(groupId, PARTITIONS)]!;
    const found = await waitFor(async () => {
      const answer = await findCoordinator(port(data.leader), groupId);
      return answer.errorCode === 0 ? answer : null;
    });
    expect(found).toMatchObject({ nodeId: coordinatorId, port: port(coordinatorId) });

    const others = [1, 2, 3].filter((id) => id !== data.leader).map((id) => `127.0.0.1:${port(id)}`);
    const client = new Client({ brokers: [`127.0.0.1:${port(data.leader)}`, ...others], retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
    const producer = client.producer({ lingerMs: 1 });
    await producer.send({ topic: TOPIC, messages: Array.from({ length: 10 }, (_, index) => ({ value: `m-${index}`, partition: 0 })) });
    const consumer = client.consumer({ groupId, sessionTimeoutMs: 3000, maxWaitMs: 100, autoCommitIntervalMs: 100 });
    const seen: number[] = [];
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    const running = consumer.run({ eachMessage: ({ message }) => void seen.push(Number(message.offset)) });
    try {
      // Acknowledged commits are on every in-sync replica of the offsets partition.
      await waitFor(async () => (await committed(port(coordinatorId), groupId)) === 10, 15_000);

      const killedAt = Date.now();
      await cluster.brokers.get(coordinatorId)!.kill();
      const moved = (await waitFor(async () => {
        const state = await cluster.state(OFFSETS, coordinatorPartitionOf(groupId, PARTITIONS));
        return state !== null && state.leader !== coordinatorId && state.leader >= 0 ? state : null;
      }, TTL_MS + 5_000))!;
      expect(await committed(port(moved.leader), groupId)).toBe(10);
      expect(await findCoordinator(port(data.leader), groupId)).toMatchObject({ errorCode: 0, nodeId: moved.leader, port: port(moved.leader) });

      // The consumer follows: it rejoins on the new coordinator (no messages until it has, so none come twice).
      await waitFor(async () => {
        const raw = await RawClient.connect(port(moved.leader));
        try {
          const described = await raw.request<M.DescribeGroupsResponse>(ApiKey.DescribeGroups, { groupIds: [groupId] });
          const group = described.header.groups?.[0];
          return group !== undefined && group.state === 'stable' && group.members.length === 1;
        } finally {
          raw.socket.destroy();
        }
      }, 15_000);
      const rejoinedMs = Date.now() - killedAt;
      await producer.send({ topic: TOPIC, messages: Array.from({ length: 10 }, (_, index) => ({ value: `n-${index}`, partition: 0 })) });
      await waitFor(() => seen.length >= 20, 15_000);
      await waitFor(async () => (await committed(port(moved.leader), groupId)) === 20, 10_000);
      expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => index));
      // eslint-disable-next-line no-console
      console.log(`group failover: coordinator ${coordinatorId} killed; the group was stable again on broker ${moved.leader} after ${rejoinedMs} ms`);
    } finally {
      await consumer.close();
      await running.catch(() => undefined);
      await producer.close();
      await client.close();
    }
  }, 60_000);
});
