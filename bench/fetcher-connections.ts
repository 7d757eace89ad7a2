// `npx tsx bench/fetcher-connections.ts [--partitions N] [--batches N] [--json]` (after
// `npm run build`; needs Debian's etcd-server): how many connections the brokers of a
// 3-broker cluster hold to each other for replication, and how long replication takes to
// catch up, with one topic of N partitions (default 200), RF 3. It starts etcd and three
// `spool serve --cluster` processes (test/helpers/cluster.ts: ports 0, temp dirs, removed
// afterwards; lease TTL 2 s, replica.lag.time.max.ms 1 s so ISR changes are seen within
// ~250 ms) and measures
//   create: CreateTopics sent -> an acks=all produce answered on every partition (every
//     follower fetches every partition);
//   connections: established TCP connections between the broker processes (from /proc);
//   idle CPU: the three brokers' CPU time over 3 s with nothing produced (parked fetches);
//   catch-up: broker 3 is kill -9'd, --batches batches of 50 x 100 B records go to every
//     partition (acks=1, its leaders), broker 3 restarts on its data dir; time from its
//     start to every partition's ISR holding it again (etcd), and its connections then.
// Shared-machine numbers: compare runs made back to back.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { ApiKey } from '../src/protocol/apis.js';
import type * as M from '../src/protocol/messages.js';
import { batchOf } from '../test/broker/records.js';
import { waitFor } from '../test/helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../test/helpers/cluster.js';
import { RawClient } from '../test/helpers/raw-client.js';
import { connectionsTo } from '../test/helpers/tcp-connections.js';

const program = new Command('fetcher-connections')
  .option('--partitions <n>', 'partitions of the topic (default 200)', (value: string) => Number(value), 200)
  .option('--batches <n>', 'batches of 50 x 100 B records per partition while broker 3 is down (default 10)', (value: string) => Number(value), 10)
  .option('--json', 'one JSON object instead of lines')
  .parse();
const flags = program.opts<{ partitions: number; batches: number; json?: boolean }>();
const TOPIC = 'fetchers';
const IDS = [1, 2, 3];

/** CPU time (ms) the broker processes used so far: utime + stime from /proc/<pid>/stat. */
function cpuMs(cluster: TestCluster): number {
  let ticks = 0;
  for (const broker of cluster.brokers.values()) {
    const fields = readFileSync(`/proc/${broker.child.pid!}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

function connectionsBetween(cluster: TestCluster, ids: number[]): number {
  let total = 0;
  for (const from of ids) for (const to of IDS) if (from !== to) total += connectionsTo(cluster.brokers.get(from)!.child.pid!, cluster.brokers.get(to)!.port);
  return total;
}

/** One produce per partition to its leader (from etcd), retried until answered without error. */
async function produceEverywhere(cluster: TestCluster, acks: 1 | -1, batch: Buffer, batches: number): Promise<void> {
  const clients = new Map<number, RawClient>();
  try {
    await Promise.all(
      Array.from({ length: flags.partitions }, async (_, partition) => {
        for (let sent = 0; sent < batches; ) {
          const state = await cluster.state(TOPIC, partition);
          const port = state && state.leader >= 0 ? await cluster.portOf(state.leader) : null;
          if (port === null) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            continue;
          }
          try {
            let client = clients.get(port);
            if (!client) {
              client = await RawClient.connect(port);
              clients.set(port, client);
            }
            const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks, timeoutMs: 30_000, partitions: [{ topic: TOPIC, partition, size: batch.length }] }, batch);
            if (response.header.partitions[0]!.errorCode === 0) sent++;
            else await new Promise((resolve) => setTimeout(resolve, 50));
          } catch {
            // A leader that just went away (etcd still names it): look it up again.
            clients.get(port)?.socket.destroy();
            clients.delete(port);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }),
    );
  } finally {
    for (const client of clients.values()) client.socket.destroy();
  }
}

async function allStates(cluster: TestCluster): Promise<Array<Awaited<ReturnType<TestCluster['state']>>>> {
  const states = [];
  for (let p = 0; p < flags.partitions; p += 50) {
    states.push(...(await Promise.all(Array.from({ length: Math.min(50, flags.partitions - p) }, (_, i) => cluster.state(TOPIC, p + i)))));
  }
  return states;
}

const cluster = await TestCluster.start(IDS, { leaseTtlMs: 2_000, replicaLagTimeMaxMs: 1_000 });
try {
  const createdAt = performance.now();
  const created = await createReplicatedTopic(cluster.brokers.get(1)!.port, TOPIC, flags.partitions, 3);
  if (created.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics: error ${created.topics[0]!.errorCode}`);
  await waitFor(async () => (await allStates(cluster)).every((state) => state !== null), 30_000, 50);
  await produceEverywhere(cluster, -1, batchOf(['x']), 1);
  const createMs = performance.now() - createdAt;
  const connections = connectionsBetween(cluster, IDS);
  // Idle: nothing produced; the followers' fetches park at the leaders and come back every 500 ms.
  const idleCpuBefore = cpuMs(cluster);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idleCpuPerSecondMs = Math.round((cpuMs(cluster) - idleCpuBefore) / 3);

  await cluster.brokers.get(3)!.kill();
  await waitFor(async () => (await allStates(cluster)).every((state) => state !== null && state.leader !== 3 && !state.isr.includes(3)), 30_000, 100);
  const records = Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(100, 'v'));
  await produceEverywhere(cluster, 1, batchOf(records), flags.batches);
  const restartedAt = performance.now();
  await cluster.serve(3);
  await waitFor(async () => (await allStates(cluster)).every((state) => state !== null && state.isr.includes(3)), 120_000, 50);
  const catchUpMs = performance.now() - restartedAt;
  const connectionsOf3 = connectionsBetween(cluster, [3]);

  const result = { partitions: flags.partitions, createMs: Math.round(createMs), connections, idleCpuPerSecondMs, catchUpMs: Math.round(catchUpMs), caughtUpBytes: flags.partitions * flags.batches * 50 * 100, connectionsOf3 };
  if (flags.json === true) console.log(JSON.stringify(result));
  else {
    console.log(`partitions ${result.partitions}, RF 3, 3 brokers (shared machine)`);
    console.log(`create -> acks=all on every partition: ${result.createMs} ms`);
    console.log(`replication connections between the brokers: ${result.connections}`);
    console.log(`idle CPU of the three brokers: ${result.idleCpuPerSecondMs} ms per second`);
    console.log(`broker 3 restart -> back in every ISR: ${result.catchUpMs} ms (${(result.caughtUpBytes / 1e6).toFixed(1)} MB of records to copy); its connections: ${result.connectionsOf3}`);
  }
} finally {
  await cluster.destroy();
}
