// Proves that a follower broker holds one replication connection per leader broker, not one
// per partition, with a real etcd and three real `spool serve --cluster` processes (lease
// TTL 2 s, RF 3): with 30 + 6 partitions of two topics spread over the three brokers, each
// broker follows ~24 partitions from two leaders yet holds exactly one TCP connection to
// each (counted from /proc: the follower process's sockets to the leader's native port),
// and acks=all (which needs every follower) is answered on every partition. After a
// kill -9 of broker 3 its leaderships move to 1 and 2 (partitions leave the fetcher to 3
// and join the others): acks=all still succeeds on every partition, each survivor holds
// exactly one connection to the other and none to the dead broker's port. Run
// `npm run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { batchOf } from '../broker/records.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { connectionsTo } from '../helpers/tcp-connections.js';

const TTL_MS = 2_000;
const TOPICS: Array<[string, number]> = [['wide', 30], ['narrow', 6]];
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000 });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** acks=all to the partition's leader as etcd names it, retried until it is answered without error. */
async function produceAll(topic: string, partition: number, value: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const state = await cluster.state(topic, partition);
    const leader = state && state.leader >= 0 ? await cluster.portOf(state.leader) : null;
    if (leader !== null) {
      const client = await RawClient.connect(leader);
      try {
        const batch = batchOf([value]);
        const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 5_000, partitions: [{ topic, partition, size: batch.length }] }, batch);
        const code = response.header.partitions[0]!.errorCode;
        if (code === 0) return;
        last = `error ${code}`;
      } catch (error) {
        last = String(error);
      } finally {
        client.socket.destroy();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${topic}-${partition}: acks=all not answered in ${timeoutMs} ms (${last})`);
}

function connectionMatrix(ids: number[]): Record<string, number> {
  const matrix: Record<string, number> = {};
  for (const from of ids) {
    for (const to of ids) {
      if (from !== to) matrix[`${from}->${to}`] = connectionsTo(cluster.brokers.get(from)!.child.pid!, cluster.brokers.get(to)!.port);
    }
  }
  return matrix;
}

describe('replica fetcher connections in a cluster of spool serve processes', () => {
  it('one connection per follower and leader broker, before and after a leader is killed', async () => {
    for (const [topic, partitions] of TOPICS) expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, partitions, 3)).topics[0]!.errorCode).toBe(0);
    for (const [topic, partitions] of TOPICS) await waitFor(async () => (await Promise.all(Array.from({ length: partitions }, (_, p) => cluster.state(topic, p)))).every((state) => state !== null));
    // Every leader is followed by both other brokers: acks=all on every partition needs both.
    for (const [topic, partitions] of TOPICS) await Promise.all(Array.from({ length: partitions }, (_, p) => produceAll(topic, p, `before-${p}`, 15_000)));
    const leaders = new Set<number>();
    for (const [topic, partitions] of TOPICS) for (let p = 0; p < partitions; p++) leaders.add((await cluster.state(topic, p))!.leader);
    expect([...leaders].sort()).toEqual([1, 2, 3]);
    expect(connectionMatrix([1, 2, 3])).toEqual({ '1->2': 1, '1->3': 1, '2->1': 1, '2->3': 1, '3->1': 1, '3->2': 1 });

    const deadPort = cluster.brokers.get(3)!.port;
    await cluster.brokers.get(3)!.kill();
    // Broker 3's leaderships move (after its lease ends); its partitions join the fetchers to 1 and 2.
    for (const [topic, partitions] of TOPICS) {
      await waitFor(async () => (await Promise.all(Array.from({ length: partitions }, (_, p) => cluster.state(topic, p)))).every((state) => state !== null && state.leader !== 3 && state.leader >= 0), 15_000);
    }
    for (const [topic, partitions] of TOPICS) await Promise.all(Array.from({ length: partitions }, (_, p) => produceAll(topic, p, `after-${p}`, 15_000)));
    await waitFor(() => {
      const matrix = connectionMatrix([1, 2]);
      return matrix['1->2'] === 1 && matrix['2->1'] === 1 && connectionsTo(cluster.brokers.get(1)!.child.pid!, deadPort) === 0 && connectionsTo(cluster.brokers.get(2)!.child.pid!, deadPort) === 0;
    }, 10_000);
  }, 90_000);
});
