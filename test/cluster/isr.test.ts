// Proves the leader's ISR management and lease fencing with a real etcd and three real `spool
// serve --cluster` processes (lease TTL 4 s, replica.lag.time.max.ms 1.5 s, RF 3,
// min.insync 2): a follower SIGSTOPped past the lag time (but inside its lease, so the
// controller has no reason to act) is dropped from the ISR by the leader while an acks=all
// producer goes on, and added back once it catches up; a follower kill -9'd leaves the ISR,
// producing goes on, and restarted it catches up and rejoins; a leader SIGSTOPped for twice
// its TTL with a tail its followers never got answers nothing while stopped, errors (not
// acknowledges) the acks=all produce sent meanwhile after SIGCONT, steps down, truncates the
// divergent tail and ends byte-identical to the new leader. Run `npm run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { batchOf } from '../broker/records.js';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, FollowingProducer, missingOrReordered, readValues, segmentChecksums, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const TTL_MS = 4_000;
const LAG_MS = 1_500;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: LAG_MS });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

const sums = (id: number, topic: string): string => JSON.stringify(segmentChecksums(cluster.dataDir(id), topic, 0));

async function placed(topic: string): Promise<{ leader: number; followers: number[]; leaderEpoch: number }> {
  expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, 1, 3)).topics[0]!.errorCode).toBe(0);
  const state = (await waitFor(() => cluster.state(topic, 0)))!;
  return { leader: state.leader, followers: state.isr.filter((id) => id !== state.leader), leaderEpoch: state.leaderEpoch };
}

describe('ISR and lease fencing in a cluster of spool serve processes', () => {
  it('the leader drops a lagging follower from the ISR and adds it back; a killed follower rejoins after restart', async () => {
    const topic = 'isr';
    const { leader, followers } = await placed(topic);
    const producer = new FollowingProducer(cluster, topic);
    producer.start();
    await waitFor(() => producer.acked.length >= 50, 15_000);

    // SIGSTOP a follower past the lag time but within its lease: only the leader can drop it.
    const [lagging, killed] = followers as [number, number];
    cluster.brokers.get(lagging)!.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    let shrunk;
    try {
      shrunk = (await waitFor(async () => {
        const state = await cluster.state(topic, 0);
        return state && !state.isr.includes(lagging) ? state : null;
      }, TTL_MS))!;
      // Still registered: the ISR change was the leader's, not the controller's.
      expect(await cluster.portOf(lagging)).not.toBeNull();
    } finally {
      cluster.brokers.get(lagging)!.child.kill('SIGCONT');
    }
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(LAG_MS);
    expect(shrunk.leader).toBe(leader);
    expect(shrunk.isr).toEqual(expect.arrayContaining([leader, killed]));
    // Back and caught up: the leader adds it again.
    await waitFor(async () => (await cluster.state(topic, 0))?.isr.length === 3, 10_000);

    // A follower killed: the ISR shrinks, acks=all goes on (2 in sync, min.insync 2).
    await cluster.brokers.get(killed)!.kill();
    await waitFor(async () => !(await cluster.state(topic, 0))?.isr.includes(killed), TTL_MS + 3_000);
    const ackedWithTwo = producer.acked.length;
    await waitFor(() => producer.acked.length >= ackedWithTwo + 100, 10_000);
    // Restarted: catches up and rejoins.
    await cluster.serve(killed);
    await waitFor(async () => (await cluster.state(topic, 0))?.isr.length === 3, 15_000);
    await producer.stop();
    await waitFor(() => sums(1, topic) === sums(2, topic) && sums(2, topic) === sums(3, topic), 10_000);
    expect(missingOrReordered(producer.acked, await readValues((await cluster.portOf(leader))!, topic))).toEqual([]);
  }, 45_000);

  it('a leader SIGSTOPped for twice its TTL acknowledges nothing, steps down and truncates its divergent tail', async () => {
    const topic = 'stopped';
    const { leader, followers, leaderEpoch } = await placed(topic);
    const leaderClient = await RawClient.connect(cluster.brokers.get(leader)!.port);
    const produce = (client: RawClient, value: string, acks: 1 | -1): Promise<number> => {
      const batch = batchOf([value]);
      return client
        .request<M.ProduceResponse>(ApiKey.Produce, { acks, timeoutMs: 30_000, partitions: [{ topic, partition: 0, size: batch.length }] }, batch)
        .then((response) => response.header.errorCode || response.header.partitions[0]!.errorCode);
    };
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      expect(await produce(leaderClient, `a${i}`, -1)).toBe(0);
      acked.push(`a${i}`);
    }

    // A tail only the leader gets: the followers are stopped (after their parked fetches were
    // answered) while it takes an acks=1 batch; then the leader stops too.
    for (const id of followers) cluster.brokers.get(id)!.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await produce(leaderClient, 'diverged', 1)).toBe(0);
    const stopped = cluster.brokers.get(leader)!.child;
    stopped.kill('SIGSTOP');
    for (const id of followers) cluster.brokers.get(id)!.child.kill('SIGCONT');
    const stoppedAt = Date.now();
    try {
      // Sent while stopped: it must never be acknowledged.
      let answer: number | null = null;
      const whileStopped = produce(leaderClient, 'while-stopped', -1).then((code) => (answer = code));
      const next = (await waitFor(async () => {
        const state = await cluster.state(topic, 0);
        return state && state.leader !== leader && state.leader >= 0 ? state : null;
      }, TTL_MS + 5_000))!;
      expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS + 2_000);
      expect(next.leaderEpoch).toBeGreaterThan(leaderEpoch);
      // The new leader takes acks=all writes meanwhile.
      const newLeader = await RawClient.connect((await cluster.portOf(next.leader))!);
      for (let i = 0; i < 20; i++) {
        expect(await produce(newLeader, `b${i}`, -1)).toBe(0);
        acked.push(`b${i}`);
      }
      await waitFor(() => Date.now() - stoppedAt >= 2 * TTL_MS, 3 * TTL_MS);
      expect(answer).toBeNull();
      stopped.kill('SIGCONT');
      await whileStopped;
      expect(answer).toBe(80);

      // Stepped down, truncated 'diverged', caught up: byte-identical to the new leader.
      await waitFor(async () => (await cluster.state(topic, 0))?.isr.length === 3, 15_000);
      await waitFor(() => sums(leader, topic) === sums(next.leader, topic), 10_000);
      const values = await readValues((await cluster.portOf(next.leader))!, topic);
      expect(values).not.toContain('diverged');
      expect(values).not.toContain('while-stopped');
      expect(missingOrReordered(acked, values)).toEqual([]);
      expect(cluster.brokers.get(leader)!.stderr()).toMatch(/following broker \d+ for ["']stopped["'] partition 0/);
      newLeader.socket.destroy();
    } finally {
      if (stopped.signalCode === null) stopped.kill('SIGCONT');
      leaderClient.socket.destroy();
    }
  }, 45_000);
});
