// Proves reassignment and preferred-leader election through the controller, with a real etcd,
// four real `spool serve --cluster` processes and the real CLI: `spool topic reassign
// --partition 0 --replicas` moving an RF-3 partition off its leader onto the spare broker
// (the new replica catches up, joins the ISR, the old leader is removed and a target replica
// leads with a higher epoch, every record kept and the new replica's segments byte-identical;
// the removed replica's local log is deleted);
// a reorder of the same replicas leaves the leader where it is, and `spool cluster
// elect-leaders --preferred --topic` then moves it to the new first replica (epoch + 1);
// `spool topic describe --cluster` shows leader, epoch, replicas and ISR; `--drain-broker N`
// leaves no replica (and no local log) on broker N, and `spool cluster describe` then counts no pending
// reassignment; a target naming an unregistered broker is refused by the CLI. Run `npm run build` first (the test spawns dist/).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTopicAssignment } from '../../src/cluster/values.js';
import { SPOOL_MAIN, waitFor } from '../helpers/broker.js';
import { createReplicatedTopic, FollowingProducer, missingOrReordered, readValues, segmentChecksums, TestCluster } from '../helpers/cluster.js';

const run = promisify(execFile);
const ids = [1, 2, 3, 4];
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start(ids, { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 1_500 });
  await waitFor(async () => (await cluster.store.list(cluster.layout.brokers)).items.length === ids.length, 10_000);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

const hasDir = (nodeId: number, topic: string): boolean => existsSync(join(cluster.dataDir(nodeId), `${topic}-0`));

async function spool(...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [SPOOL_MAIN, ...args, '--cluster', cluster.etcd.url, '--format', 'json'], { encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(stdout) as unknown;
}

async function replicasOf(topic: string): Promise<number[][]> {
  return decodeTopicAssignment((await cluster.store.get(cluster.layout.assignment(topic)))!.value)!.replicas.map((r) => [...r]);
}

async function create(topic: string): Promise<void> {
  await waitFor(async () => (await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, 1, 3)).topics[0]!.errorCode === 0, 10_000);
  await waitFor(async () => (await cluster.state(topic, 0))?.isr.length === 3, 10_000);
}

async function produce(topic: string, count: number): Promise<string[]> {
  const producer = new FollowingProducer(cluster, topic);
  producer.start();
  await waitFor(() => producer.acked.length >= count, 15_000);
  await producer.stop();
  return producer.acked;
}

describe('reassignment and preferred leaders through the controller', () => {
  it('moves a partition off its leader onto a new broker, adding before removing', async () => {
    const topic = 'moved';
    await create(topic);
    const acked = await produce(topic, 30);
    const before = (await cluster.state(topic, 0))!;
    const [replicas] = await replicasOf(topic);
    const spare = ids.find((id) => !replicas!.includes(id))!;
    const target = [spare, ...replicas!.filter((id) => id !== before.leader)];

    // Every assignment the controller writes meanwhile: the new replica is added before any is removed.
    const seen: number[][] = [];
    const watch = cluster.store.watchPrefix(cluster.layout.assignment(topic), (await cluster.store.list(cluster.layout.assignments)).revision + 1, {
      onEvents: (events) => seen.push(...events.filter((event) => event.kind === 'put').map((event) => [...decodeTopicAssignment(event.value)!.replicas[0]!])),
      onError: () => {},
    });
    const startedMs = Date.now();
    const result = (await spool('topic', 'reassign', topic, '--partition', '0', '--replicas', target.join(','))) as { done: boolean };
    expect(result.done).toBe(true);
    console.info(`reassignment of ${acked.length} records onto broker ${spare}: ${Date.now() - startedMs} ms from the CLI's start to done`);
    expect((await replicasOf(topic))[0]).toEqual(target);
    await waitFor(() => seen.length >= 2, 5_000);
    await watch.close();
    expect(seen).toEqual([[...target, before.leader], target]);
    const after = (await cluster.state(topic, 0))!;
    expect([...after.isr].sort()).toEqual([...target].sort());
    expect(after.leader).toBe(spare);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    expect(await cluster.store.get(cluster.layout.reassignment(topic, 0))).toBeNull();

    // The new leader serves: more records, none lost, the replicas byte-identical.
    const more = await produce(topic, acked.length + 20);
    const log = await readValues((await cluster.portOf(spare))!, topic);
    expect(missingOrReordered([...acked, ...more], log)).toEqual([]);
    const sums = (id: number): string => JSON.stringify(segmentChecksums(cluster.dataDir(id), topic, 0));
    await waitFor(() => target.every((id) => sums(id) === sums(spare)), 10_000);
    // The removed replica held nothing else of the topic: its local log is deleted.
    await waitFor(() => !hasDir(before.leader, topic), 10_000);

    // A target naming a broker that is not registered is refused before anything is written.
    await expect(spool('topic', 'reassign', topic, '--partition', '0', '--replicas', `${spare},99`)).rejects.toThrow(/not live/);
    expect(await cluster.store.get(cluster.layout.reassignment(topic, 0))).toBeNull();

    const described = (await spool('topic', 'describe', topic)) as { partitionStates: { leader: number; leaderEpoch: number; replicas: number[]; isr: number[] }[] };
    expect(described.partitionStates[0]).toMatchObject({ leader: spare, leaderEpoch: after.leaderEpoch, replicas: target });
  }, 40_000);

  it('elects the preferred leader after a reorder, and drains a broker', async () => {
    const topic = 'preferred';
    await create(topic);
    const before = (await cluster.state(topic, 0))!;
    const [replicas] = await replicasOf(topic);
    // The same replicas, another first: the leader stays (it is in the target).
    const reordered = [replicas!.find((id) => id !== before.leader)!, ...replicas!.filter((id) => id !== replicas!.find((other) => other !== before.leader))];
    await spool('topic', 'reassign', topic, '--partition', '0', '--replicas', reordered.join(','));
    expect((await replicasOf(topic))[0]).toEqual(reordered);
    expect((await cluster.state(topic, 0))!.leader).toBe(before.leader);

    const elected = (await spool('cluster', 'elect-leaders', '--preferred', '--topic', topic)) as { partitions: number; notPreferred: unknown[] };
    expect(elected).toMatchObject({ partitions: 1, notPreferred: [] });
    const after = (await cluster.state(topic, 0))!;
    expect(after.leader).toBe(reordered[0]);
    expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);

    // Drain the preferred leader's broker: no replica of any topic stays on it.
    const drained = reordered[0]!;
    const plan = (await spool('topic', 'reassign', '--drain-broker', String(drained))) as { reassignments: unknown[] };
    expect(plan.reassignments.length).toBeGreaterThan(0);
    for (const name of ['moved', topic]) {
      for (const chosen of await replicasOf(name)) expect(chosen).not.toContain(drained);
      const state = (await cluster.state(name, 0))!;
      expect(state.leader).not.toBe(drained);
      expect(state.isr).not.toContain(drained);
    }
    await waitFor(() => !hasDir(drained, 'moved') && !hasDir(drained, topic), 10_000);
    const summary = (await spool('cluster', 'describe')) as { reassigning: number; offline: number };
    expect(summary).toMatchObject({ reassigning: 0, offline: 0 });
  }, 40_000);
});
