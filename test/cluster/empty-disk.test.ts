// Proves a broker restarted with an EMPTY data dir rebuilds its replicas from the leaders
// (issue #12 "a broker restarted with an empty disk"): three real `spool serve --cluster`
// processes over a real etcd (lease TTL 2 s, RF 3, min.insync 2, two partitions, so the
// chosen broker leads one partition and follows the other) with an acks=all producer logging
// its own acknowledgements. The broker leading partition 0 is stopped, once by SIGTERM (its
// lease revoked: the controller moves its leadership and drops it from the ISRs at once) and
// once by kill -9 (the same one TTL later), its data dir is emptied, and it starts again: it fetches both partitions from offset 0 from the new leaders,
// rejoins both ISRs, and all three replicas of each partition end byte-identical (sha256 per
// segment); the checker finds nothing acknowledged lost, reordered or moved. Run `npm run
// build` first.

import { mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCheck } from '../helpers/ack-checker.js';
import { AckProducer, etcdLocator } from '../helpers/ack-producer.js';
import { waitFor } from '../helpers/broker.js';
import { checkTopic } from '../helpers/cluster-check.js';
import { createReplicatedTopic, segmentChecksums, TestCluster } from '../helpers/cluster.js';

const TTL_MS = 2_000;
const PARTITIONS = 2;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000 });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('a broker restarted with an empty data dir', () => {
  it.each([
    ['SIGTERM', 'empty-disk-term'],
    ['SIGKILL', 'empty-disk-kill'],
  ] as const)('after %s: rebuilds its replicas from the leaders, rejoins the ISRs, and ends byte-identical', async (signal, TOPIC) => {
    const sums = (id: number, partition: number): string => JSON.stringify(segmentChecksums(cluster.dataDir(id), TOPIC, partition));
    expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, TOPIC, PARTITIONS, 3)).topics[0]!.errorCode).toBe(0);
    const initial = (await waitFor(() => cluster.state(TOPIC, 0)))!;
    const wiped = initial.leader;
    const producer = new AckProducer({ producer: 'a', topic: TOPIC, partitions: [0, 1], locate: etcdLocator(cluster.store, cluster.layout), batchMessages: 5 });
    producer.start();
    await waitFor(() => producer.acked.length >= 1_000, 15_000);

    if (signal === 'SIGTERM') await cluster.brokers.get(wiped)!.stop();
    else await cluster.brokers.get(wiped)!.kill();
    const dir = cluster.dataDir(wiped);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    // A new leader for partition 0 (not the wiped broker), and produce goes on without it.
    await waitFor(async () => {
      const state = await cluster.state(TOPIC, 0);
      return state !== null && state.leader >= 0 && state.leader !== wiped && !state.isr.includes(wiped);
    }, TTL_MS + 5_000);
    const ackedWithout = producer.acked.length;
    await waitFor(() => producer.acked.length >= ackedWithout + 200, 10_000);

    await cluster.serve(wiped);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      await waitFor(async () => (await cluster.state(TOPIC, partition))?.isr.includes(wiped) === true, 15_000);
    }
    const rejoinedAt = Date.now();
    await waitFor(() => producer.ackedSince(rejoinedAt) >= 50, 10_000);
    await producer.stop();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      await waitFor(() => sums(1, partition) === sums(2, partition) && sums(2, partition) === sums(3, partition), 10_000);
      expect(Object.keys(segmentChecksums(cluster.dataDir(wiped), TOPIC, partition)).length).toBeGreaterThan(0);
    }

    const result = await checkTopic(cluster, TOPIC, PARTITIONS, producer.acked);
    expect(result.examples.filter((line) => !line.startsWith('duplicated'))).toEqual([]);
    expect(result).toMatchObject({ lost: 0, reordered: 0, moved: 0 });
    // eslint-disable-next-line no-console
    console.log(`empty-disk after ${signal}: broker ${wiped} rebuilt ${PARTITIONS} replicas; ${formatCheck(result)}; errors seen: ${JSON.stringify(Object.fromEntries(producer.errors))}`);
  }, 45_000);
});
