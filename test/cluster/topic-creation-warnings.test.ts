// Proves that creating a replicated topic logs no warning: with a real etcd and three real
// `spool serve --cluster` processes, a topic of 12 partitions with replication factor 3 is
// created; once every follower has fetched from its leader (an acks=all produce to each
// partition is answered), no broker's stderr holds a replica-fetcher warning (before the
// fix each follower logged "topic ... does not exist" once per partition, because it
// fetched before its leader had created the log) nor any other warning or error line. The
// warning that stays when such an answer lasts is tested in replica-fetcher-settling.test.ts.
// Run `npm run build` first.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf } from '../broker/records.js';

const PARTITIONS = 12;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: 4_000, replicaLagTimeMaxMs: 10_000 });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

it('creating a topic of 12 partitions, RF 3, logs no replica-fetcher warning on any broker', async () => {
  const topic = 'created-quietly';
  expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, PARTITIONS, 3)).topics[0]!.errorCode).toBe(0);
  // Every follower has fetched from its leader: an acks=all produce to each partition is
  // answered only once every replica of the ISR (all three at creation) has the record.
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const state = (await waitFor(() => cluster.state(topic, partition)))!;
    expect(state.isr.length).toBe(3);
    const client = await RawClient.connect(cluster.brokers.get(state.leader)!.port);
    try {
      // The leader may answer before it has created its own log (UNKNOWN_TOPIC): try again.
      await waitFor(async () => (await client.produce(topic, partition, batchOf([`p${partition}`]), -1)).errorCode === 0, 15_000, 50);
    } finally {
      await client.close();
    }
  }
  for (const [nodeId, broker] of cluster.brokers) {
    const stderr = broker.stderr();
    expect({ nodeId, lines: stderr.split('\n').filter((line) => /replica fetcher|does not exist/.test(line)) }).toEqual({ nodeId, lines: [] });
    expect({ nodeId, lines: stderr.split('\n').filter((line) => /\b(WARN|ERROR|warn|error)\b/.test(line)) }).toEqual({ nodeId, lines: [] });
  }
}, 40_000);
