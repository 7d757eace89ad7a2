// `npx tsx bench/cluster.ts`: spool against a 3-broker cluster on this machine (issue #12
// "Performance"). It starts Debian's etcd and three `spool serve --cluster` processes (dist/,
// ports 0, temp dirs; test/helpers/cluster.ts) and measures
//   W1 with acks=all and RF 3: N messages of 100 B to a 1-partition topic (RF 3,
//     min.insync 2), sent to the partition's leader in batches of `batchMessages` with up to
//     `inFlight` requests outstanding on one connection; msgs/s over the whole run and the
//     ack latency per message (send of its batch to the answer) p50/p99;
//   share: a share group drains `shareMessages` records of a 3-partition topic (RF 3, one
//     leader per broker) with `shareConsumers` SDK share consumers (one process, one client
//     each; src/groups/README.md "Share groups in a cluster": each partition's leader serves
//     its share-partitions, the state goes to the group's share coordinator): msgs/s from the
//     first fetch to the last acknowledgement answered;
//   failover: a one-request-at-a-time acks=all producer (AckProducer) runs, the leader is
//     kill -9'd, and we time kill -> new leader in etcd and kill -> first acks=all answer from
//     the new leader; then the checker (ack-checker.ts) reads the partition back: lost must be 0.
// The producer is the raw native protocol, leader found in etcd, because the SDK does not
// route to leaders yet (cluster-client branch); its batches are what the SDK's linger builds.

import { performance } from 'node:perf_hooks';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { encodeBatch } from '../../src/records/index.js';
import { checkAcks, formatCheck, readPartition } from '../../test/helpers/ack-checker.js';
import { AckProducer, etcdLocator } from '../../test/helpers/ack-producer.js';
import { waitFor } from '../../test/helpers/broker.js';
import { createReplicatedTopic, TestCluster } from '../../test/helpers/cluster.js';
import { RawClient } from '../../test/helpers/raw-client.js';
import { LatencyHistogram } from './histogram.js';
import { Client } from '../../src/client/index.js';

export interface ClusterBenchOptions {
  messages: number;
  messageBytes: number;
  batchMessages: number;
  inFlight: number;
  leaseTtlMs: number;
  /** Acknowledged batches to wait for before the kill (warm-up of the failover producer). */
  failoverWarmupBatches: number;
  /** Records the share group drains, and by how many consumers. */
  shareMessages: number;
  shareConsumers: number;
}

export interface ClusterBenchResult {
  w1: { messages: number; seconds: number; msgsPerSec: number; mbPerSec: number; p50Ms: number; p99Ms: number; errors: number; errorSamples: string[] };
  share: { messages: number; consumers: number; seconds: number; msgsPerSec: number; leaders: number[] };
  failover: { leaseTtlMs: number; newLeaderMs: number; firstAckMs: number; check: string; lost: number };
}

export const FULL: ClusterBenchOptions = { messages: 1_000_000, messageBytes: 100, batchMessages: 500, inFlight: 8, leaseTtlMs: 6_000, failoverWarmupBatches: 200, shareMessages: 300_000, shareConsumers: 4 };
export const TINY: ClusterBenchOptions = { messages: 20_000, messageBytes: 100, batchMessages: 500, inFlight: 4, leaseTtlMs: 2_000, failoverWarmupBatches: 50, shareMessages: 6_000, shareConsumers: 2 };

async function w1(cluster: TestCluster, options: ClusterBenchOptions): Promise<ClusterBenchResult['w1']> {
  const topic = 'w1';
  const created = await createReplicatedTopic(cluster.brokers.values().next().value!.port, topic, 1, 3);
  if (created.topics[0]!.errorCode !== 0) throw new Error(`create ${topic}: ${JSON.stringify(created.topics[0])}`);
  const leader = (await waitFor(() => etcdLocator(cluster.store, cluster.layout)(topic, 0), 10_000))!;
  // Wait for every replica to be in the ISR, so acks=all means three copies from the start.
  await waitFor(async () => (await cluster.state(topic, 0))?.isr.length === 3, 10_000);
  const client = await RawClient.connect(leader.port);
  // The partition state (ISR included) is in etcd before the leader has created its local
  // log: until it has, a produce answers UNKNOWN_TOPIC. Wait for the log, not the state.
  await waitFor(async () => {
    const answer = await client.request<M.ListOffsetsResponse>(ApiKey.ListOffsets, { partitions: [{ topic, partition: 0, timestamp: -1 }] });
    return answer.header.errorCode === 0 && answer.header.partitions[0]?.errorCode === 0;
  }, 10_000);
  const value = Buffer.alloc(options.messageBytes, 'x');
  const batch = encodeBatch(Array.from({ length: options.batchMessages }, () => ({ key: null, value })));
  const histogram = new LatencyHistogram();
  const batches = Math.ceil(options.messages / options.batchMessages);
  let sent = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const started = performance.now();
  const send = async (): Promise<void> => {
    while (sent < batches) {
      sent++;
      const at = performance.now();
      const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 30_000, partitions: [{ topic, partition: 0, size: batch.length }] }, batch);
      if (response.header.errorCode !== 0 || response.header.partitions[0]!.errorCode !== 0) {
        errors++;
        const failed = response.header.errorCode !== 0 ? response.header : response.header.partitions[0]!;
        if (errorSamples.length < 3) errorSamples.push(`${failed.errorCode} ${failed.errorMessage ?? ''}`);
      }
      else histogram.recordMs(performance.now() - at, options.batchMessages);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, send));
  const seconds = (performance.now() - started) / 1000;
  client.socket.destroy();
  const messages = batches * options.batchMessages;
  return {
    messages,
    seconds,
    msgsPerSec: Math.round(histogram.count / seconds),
    mbPerSec: (histogram.count * options.messageBytes) / seconds / 1e6,
    p50Ms: histogram.percentileMs(50),
    p99Ms: histogram.percentileMs(99),
    errors,
    errorSamples,
  };
}

async function share(cluster: TestCluster, options: ClusterBenchOptions): Promise<ClusterBenchResult['share']> {
  const topic = 'jobs';
  const created = await createReplicatedTopic(cluster.brokers.values().next().value!.port, topic, 3, 3);
  if (created.topics[0]!.errorCode !== 0) throw new Error(`create ${topic}: ${JSON.stringify(created.topics[0])}`);
  const states = (await waitFor(async () => {
    const all = await Promise.all([0, 1, 2].map((partition) => cluster.state(topic, partition)));
    return all.every((state) => state !== null && state.isr.length === 3) ? all : null;
  }, 10_000))!;
  const brokers = [...cluster.brokers.values()].map((broker) => broker.address);
  const loader = new Client({ brokers });
  const producer = loader.producer({ lingerMs: 5 });
  const value = Buffer.alloc(options.messageBytes, 'x');
  for (let start = 0; start < options.shareMessages; start += 10_000) {
    const count = Math.min(10_000, options.shareMessages - start);
    await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, index) => ({ value, partition: (start + index) % 3 })) });
  }
  await producer.close();
  await loader.close();
  const clients = Array.from({ length: options.shareConsumers }, () => new Client({ brokers }));
  let drained = 0;
  let started = 0;
  let finished = 0;
  const done = new Promise<void>((resolve) => {
    for (const client of clients) {
      const consumer = client.shareConsumer({ groupId: 'bench', maxWaitMs: 100 });
      void consumer.subscribe({ topics: [topic] }).then(() =>
        consumer.run({
          eachMessage: async () => {
            started ||= performance.now();
            if (++drained === options.shareMessages) {
              finished = performance.now();
              resolve();
            }
          },
        }),
      );
    }
  });
  try {
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`share drain: ${drained} of ${options.shareMessages} after 120 s`)), 120_000))]);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  const seconds = (finished - started) / 1000;
  return { messages: options.shareMessages, consumers: options.shareConsumers, seconds, msgsPerSec: Math.round(options.shareMessages / seconds), leaders: states.map((state) => state!.leader) };
}

async function failover(cluster: TestCluster, options: ClusterBenchOptions): Promise<ClusterBenchResult['failover']> {
  const topic = 'failover';
  const created = await createReplicatedTopic(cluster.brokers.values().next().value!.port, topic, 1, 3);
  if (created.topics[0]!.errorCode !== 0) throw new Error(`create ${topic}: ${JSON.stringify(created.topics[0])}`);
  const initial = (await waitFor(async () => {
    const state = await cluster.state(topic, 0);
    return state && state.isr.length === 3 ? state : null;
  }, 10_000))!;
  const producer = new AckProducer({ producer: 'f', topic, partitions: [0], locate: etcdLocator(cluster.store, cluster.layout), messageBytes: options.messageBytes });
  producer.start();
  await waitFor(() => producer.batches.length >= options.failoverWarmupBatches, 15_000);
  const killedAt = Date.now();
  await cluster.brokers.get(initial.leader)!.kill();
  const next = (await waitFor(async () => {
    const state = await cluster.state(topic, 0);
    return state && state.leader >= 0 && state.leader !== initial.leader ? state : null;
  }, options.leaseTtlMs + 10_000, 5))!;
  const newLeaderMs = Date.now() - killedAt;
  await waitFor(() => producer.ackedSince(killedAt, next.leader) > 0, 10_000, 5);
  const firstAckMs = producer.batches.find((batch) => batch.atMs >= killedAt && batch.nodeId === next.leader)!.atMs - killedAt;
  await producer.stop();
  const result = checkAcks(producer.acked, await readPartition((await cluster.portOf(next.leader))!, topic, 0));
  return { leaseTtlMs: options.leaseTtlMs, newLeaderMs, firstAckMs, check: formatCheck(result), lost: result.lost };
}

export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: options.leaseTtlMs, replicaLagTimeMaxMs: 10_000 });
  try {
    return { w1: await w1(cluster, options), share: await share(cluster, options), failover: await failover(cluster, options) };
  } finally {
    await cluster.destroy();
  }
}

export function formatClusterBench(result: ClusterBenchResult, options: ClusterBenchOptions): string {
  const { w1: w, share: q, failover: f } = result;
  return [
    `| what | result |`,
    `| --- | --- |`,
    `| W1 acks=all RF 3 (${w.messages.toLocaleString('en-US')} x ${options.messageBytes} B, batches of ${options.batchMessages}, ${options.inFlight} in flight) | ${w.msgsPerSec.toLocaleString('en-US')} msg/s (${w.mbPerSec.toFixed(1)} MB/s), ack p50 ${w.p50Ms.toFixed(1)} ms, p99 ${w.p99Ms.toFixed(1)} ms, ${w.errors} errors |`,
    `| share group: ${q.messages.toLocaleString('en-US')} x ${options.messageBytes} B drained by ${q.consumers} consumers, 3 partitions led by brokers ${q.leaders.join('/')} | ${q.msgsPerSec.toLocaleString('en-US')} msg/s (${q.seconds.toFixed(1)} s) |`,
    `| failover, lease TTL ${f.leaseTtlMs} ms: leader kill -9 -> new leader in etcd | ${f.newLeaderMs} ms |`,
    `| failover: leader kill -9 -> first acks=all answer from the new leader | ${f.firstAckMs} ms |`,
    `| checker after the failover | ${f.check} |`,
  ].join('\n');
}
