// Proves the reassignment throttle (src/cluster/README.md "Reassignment throttle") with a real
// etcd, three real `spool serve --cluster` processes and the real CLI: a partition holding
// 4 MiB moved onto a new broker with `spool topic reassign --throttle 1MiB` takes at least
// ~3 s (one second's burst, then 1 MiB/s: the new replica's catch-up fetches are held to the
// rate), while the same copy onto another broker without --throttle takes well under that;
// an acks=all producer on another partition (RF 3, in-sync followers on every broker) keeps
// being answered fast all along; the throttle travels in the request key, which the
// controller deletes when the move completes, so nothing of it is left afterwards (no key,
// `topic describe` shows none, the new replica's broker logs the throttle off). Run
// `npm run build` first (the test spawns dist/).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReassignmentRequest, decodeTopicAssignment } from '../../src/cluster/values.js';
import { SPOOL_MAIN, waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, FollowingProducer, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf } from '../broker/records.js';

const run = promisify(execFile);
const ids = [1, 2, 3];
const MIB = 1024 * 1024;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start(ids, { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 1_000 });
  await waitFor(async () => (await cluster.store.list(cluster.layout.brokers)).items.length === ids.length, 10_000);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function spool(...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [SPOOL_MAIN, ...args, '--cluster', cluster.etcd.url, '--format', 'json'], { encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(stdout) as unknown;
}

async function replicasOf(topic: string): Promise<number[]> {
  return [...decodeTopicAssignment((await cluster.store.get(cluster.layout.assignment(topic)))!.value)!.replicas[0]!];
}

async function create(topic: string, replicationFactor: number): Promise<void> {
  await waitFor(async () => (await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, 1, replicationFactor)).topics[0]!.errorCode === 0, 10_000);
  await waitFor(async () => (await cluster.state(topic, 0))?.isr.length === replicationFactor, 10_000);
}

/** Moves partition 0 of `topic` to `target` with the CLI; ms from the CLI's start to done (the copy included). */
async function reassign(topic: string, target: number[], ...flags: string[]): Promise<number> {
  const startedMs = Date.now();
  const result = (await spool('topic', 'reassign', topic, '--partition', '0', '--replicas', target.join(','), ...flags)) as { done: boolean };
  expect(result.done).toBe(true);
  return Date.now() - startedMs;
}

describe('reassignment throttle', () => {
  it('holds a new replica\'s catch-up to the rate, never the in-sync replicas, and is gone when done', async () => {
    await create('big', 1);
    await create('hot', 3);
    const [leader] = await replicasOf('big');
    const [first, second] = ids.filter((id) => id !== leader) as [number, number];

    // 4 MiB in batches of 64 KiB (64 values of 1 KiB each).
    const client = await RawClient.connect((await cluster.portOf(leader!))!);
    try {
      for (let batch = 0; batch < 64; batch++) {
        const result = await client.produce('big', 0, batchOf(Array.from({ length: 64 }, (_, at) => `${batch}-${at}-`.padEnd(1024, 'x'))), 1);
        expect(result.errorCode).toBe(0);
      }
    } finally {
      client.socket.destroy();
    }

    // acks=all on another partition the whole time: each answer needs every in-sync follower.
    const producer = new FollowingProducer(cluster, 'hot');
    producer.start();
    await waitFor(() => producer.acked.length >= 20, 10_000);
    const hotStartMs = Date.now();

    // Watch the request while it is pending: the throttle is in it.
    const requests: Array<ReturnType<typeof decodeReassignmentRequest>> = [];
    const watch = cluster.store.watchPrefix(cluster.layout.reassignment('big', 0), (await cluster.store.list(cluster.layout.reassignments)).revision + 1, {
      onEvents: (events) => requests.push(...events.filter((event) => event.kind === 'put').map((event) => decodeReassignmentRequest(event.value))),
      onError: () => {},
    });
    const throttledMs = await reassign('big', [leader!, first], '--throttle', '1MiB');
    await watch.close();
    expect(requests).toEqual([{ replicas: [leader, first], throttleBytesPerSecond: MIB }]);

    // The in-sync followers of 'hot' were never held back: acks=all kept answering fast.
    const during = producer.ackedBy.filter((ack) => ack.atMs >= hotStartMs);
    const gapsMs = during.slice(1).map((ack, at) => ack.atMs - during[at]!.atMs);
    await producer.stop();
    console.info(`throttled copy of 4 MiB at 1 MiB/s: ${throttledMs} ms; meanwhile ${during.length} acks=all answers on another partition, the longest gap ${Math.max(...gapsMs)} ms`);
    expect(throttledMs).toBeGreaterThanOrEqual(2_800);
    expect(during.length).toBeGreaterThan(20);
    expect(Math.max(...gapsMs)).toBeLessThan(1_000);

    // Done: the request (and its throttle) is gone; nothing of it is left anywhere.
    expect(await cluster.store.get(cluster.layout.reassignment('big', 0))).toBeNull();
    const described = (await spool('topic', 'describe', 'big')) as { partitionStates: Array<Record<string, unknown>> };
    expect(described.partitionStates[0]).toMatchObject({ reassigningTo: null, replicas: [leader, first] });
    expect(described.partitionStates[0]).not.toHaveProperty('throttleBytesPerSecond');
    await waitFor(() => cluster.brokers.get(first)!.stderr().includes('reassignment throttle off'), 5_000);

    // The same copy without --throttle: well under the throttled time.
    const freeMs = await reassign('big', [leader!, first, second]);
    console.info(`unthrottled copy of 4 MiB: ${freeMs} ms`);
    expect(freeMs).toBeLessThan(throttledMs - 1_000);
    expect(cluster.brokers.get(second)!.stderr()).not.toContain('reassignment throttle');
  }, 60_000);
});
