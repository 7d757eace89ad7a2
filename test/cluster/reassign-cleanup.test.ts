// Proves that a broker deletes the local replica of a partition reassigned away while it
// still holds other partitions of the topic, with a real etcd, three real `spool serve
// --cluster` processes and the real CLI (`spool topic reassign`). A topic of 4 partitions,
// RF 2, records in every partition; broker X holds 3 of them.
// 1. Live: one of X's partitions is moved to the broker that lacks it: X's directory of it
//    is left with no records (one empty segment), and the partitions X keeps are untouched
//    and stay byte-identical with their leaders'.
// 2. X is stopped, a second of its partitions is moved while it is down, X restarts on the
//    same data dir: it deletes that replica at attach, and the one partition it still holds
//    keeps its records, rejoins the ISR and stays byte-identical with its leader's.
// Run `npm run build` first (the test spawns dist/).

import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTopicAssignment } from '../../src/cluster/values.js';
import { SPOOL_MAIN, waitFor } from '../helpers/broker.js';
import { batchOf } from '../broker/records.js';
import { createReplicatedTopic, segmentChecksums, TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';

const run = promisify(execFile);
const ids = [1, 2, 3];
const PARTITIONS = 4;
const topic = 'cleaned';
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start(ids, { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 1_500 });
  await waitFor(async () => (await cluster.store.list(cluster.layout.brokers)).items.length === ids.length, 10_000);
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function replicasOf(): Promise<number[][]> {
  return decodeTopicAssignment((await cluster.store.get(cluster.layout.assignment(topic)))!.value)!.replicas.map((r) => [...r]);
}

/** acks=all records into one partition, through its leader as etcd names it. */
async function produce(partition: number, count: number): Promise<void> {
  const leader = (await cluster.state(topic, partition))!.leader;
  const client = await RawClient.connect((await cluster.portOf(leader))!);
  try {
    for (let i = 0; i < count; i++) expect((await client.produce(topic, partition, batchOf([`p${partition}-${i}`]))).errorCode).toBe(0);
  } finally {
    client.socket.destroy();
  }
}

/** Records left in a broker's local replica: the bytes of its .log files. */
function localBytes(nodeId: number, partition: number): number {
  const dir = join(cluster.dataDir(nodeId), `${topic}-${partition}`);
  return readdirSync(dir).filter((name) => name.endsWith('.log')).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

const sums = (nodeId: number, partition: number): string => JSON.stringify(segmentChecksums(cluster.dataDir(nodeId), topic, partition));

async function inSyncEverywhere(partition: number): Promise<void> {
  const [a, b] = (await replicasOf())[partition]!;
  await waitFor(async () => (await cluster.state(topic, partition))!.isr.length === 2 && sums(a!, partition) === sums(b!, partition), 10_000);
}

async function reassign(partition: number, replicas: number[]): Promise<void> {
  const { stdout } = await run(process.execPath, [SPOOL_MAIN, 'topic', 'reassign', topic, '--partition', String(partition), '--replicas', replicas.join(','), '--cluster', cluster.etcd.url, '--format', 'json'], { encoding: 'utf8', timeout: 30_000 });
  expect((JSON.parse(stdout) as { done: boolean }).done).toBe(true);
}

describe('a replica reassigned away is deleted on the broker that keeps others of its topic', () => {
  it('deletes it live, and at restart when the move happened while the broker was down', async () => {
    await waitFor(async () => (await createReplicatedTopic(cluster.brokers.get(1)!.port, topic, PARTITIONS, 2)).topics[0]!.errorCode === 0, 10_000);
    await waitFor(async () => (await Promise.all([0, 1, 2, 3].map((p) => cluster.state(topic, p)))).every((state) => state?.isr.length === 2), 10_000);
    for (let partition = 0; partition < PARTITIONS; partition++) await produce(partition, 20);
    const assigned = await replicasOf();
    // X: a broker holding 3 of the 8 replicas (placement spreads them 3, 3, 2).
    const x = ids.find((id) => assigned.filter((replicas) => replicas.includes(id)).length === 3)!;
    const held = assigned.flatMap((replicas, partition) => (replicas.includes(x) ? [partition] : []));
    for (const partition of held) await inSyncEverywhere(partition);
    const spareFor = (partition: number): number => ids.find((id) => !assigned[partition]!.includes(id))!;
    const targetFor = (partition: number): number[] => [...assigned[partition]!.filter((id) => id !== x), spareFor(partition)];

    // 1. Live.
    const [movedLive, movedWhileDown, kept] = held as [number, number, number];
    expect(localBytes(x, movedLive)).toBeGreaterThan(0);
    const keptSums = { [movedWhileDown]: sums(x, movedWhileDown), [kept]: sums(x, kept) };
    await reassign(movedLive, targetFor(movedLive));
    await waitFor(() => localBytes(x, movedLive) === 0, 10_000);
    expect(readdirSync(join(cluster.dataDir(x), `${topic}-${movedLive}`)).filter((name) => name.endsWith('.log'))).toEqual(['00000000000000000000.log']);
    for (const partition of [movedWhileDown, kept]) expect(sums(x, partition)).toBe(keptSums[partition]);
    await inSyncEverywhere(movedLive);

    // 2. Moved while X is down; X deletes it when it comes back, and keeps what it holds.
    await cluster.brokers.get(x)!.stop();
    await waitFor(async () => !(await cluster.state(topic, kept))!.isr.includes(x), 10_000);
    await reassign(movedWhileDown, targetFor(movedWhileDown));
    expect(localBytes(x, movedWhileDown)).toBeGreaterThan(0);
    await produce(kept, 10);
    await cluster.serve(x);
    await waitFor(() => localBytes(x, movedWhileDown) === 0, 10_000);
    await waitFor(async () => (await cluster.state(topic, kept))!.isr.includes(x), 10_000);
    await inSyncEverywhere(kept);
    expect(localBytes(x, kept)).toBeGreaterThan(0);
  }, 60_000);
});
