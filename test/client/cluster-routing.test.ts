// Proves the SDK follows partition leaders in a cluster, with two brokers in this process on
// 127.0.0.1 whose roles the test supplies (a shared ReplicaState and a test Metadata source,
// no etcd): Metadata (native and Kafka) lists both brokers and each partition's leader;
// the producer sends each partition to its leader (a non-leader would refuse it with
// NOT_LEADER_OR_FOLLOWER) and the consumer fetches each from its leader; when a leader
// changes in the middle of an idempotent acks=all produce, the producer hears NOT_LEADER,
// refreshes metadata and retries on the new leader: every message acknowledged exactly once,
// in send order per partition; a dead bootstrap broker is skipped; kafkajs 2.2.4 reads the
// same brokers and leaders from the Kafka listener and produces to the leaders, and kcat
// consumes each partition from its leader.

import { rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Broker,
  type ClusterMetadataSource,
  NativeLeaderChannel,
  type PartitionReplicaState,
  type ReplicaState,
  createTopic,
  silentLogger,
  startBroker,
} from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { randomTopic, tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { run } from '../kafka-clients/helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Roles per partition, shared by every broker of a test cluster (what etcd would hold). */
class TestRoles implements ReplicaState {
  readonly states = new Map<string, PartitionReplicaState>();
  partitionState(topic: string, partition: number): PartitionReplicaState | null {
    return this.states.get(`${topic}/${partition}`) ?? null;
  }
  set(topic: string, partition: number, state: PartitionReplicaState): void {
    this.states.set(`${topic}/${partition}`, state);
  }
}

class TestCluster {
  readonly roles = new TestRoles();
  readonly brokers = new Map<number, Broker>();

  /** What a broker's Metadata says: every started broker, leaders from the roles. */
  source(nodeId: number): ClusterMetadataSource {
    return {
      nodeId,
      brokers: () =>
        [...this.brokers].map(([id, broker]) => ({ nodeId: id, host: '127.0.0.1', port: broker.port, kafkaHost: '127.0.0.1', kafkaPort: broker.kafka!.port })),
      controllerId: () => 1,
      partition: (topic, partition) => {
        const state = this.roles.partitionState(topic, partition);
        return state ? { leader: state.leaderId, leaderEpoch: state.leaderEpoch, replicas: [...this.brokers.keys()], isr: state.isr } : undefined;
      },
    };
  }

  async start(nodeId: number, minInsyncReplicas = 1): Promise<Broker> {
    const dataDir = tempDir();
    const broker = await startBroker({
      dataDir,
      port: 0,
      kafkaListener: { host: '127.0.0.1', port: 0 },
      fsync: { kind: 'never' },
      logger: silentLogger,
      replication: { brokerId: nodeId, state: this.roles, minInsyncReplicas, ackTimeoutMs: 10_000 },
      clusterMetadata: this.source(nodeId),
    });
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanups.push(() => broker.close());
    this.brokers.set(nodeId, broker);
    return broker;
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    for (const broker of this.brokers.values()) await createTopic(broker.context, topic, partitions);
  }

  /** Tells every broker's replica manager that the roles of a partition changed. */
  changed(topic: string, partition: number): void {
    for (const broker of this.brokers.values()) broker.context.replicas!.stateChanged(topic, partition);
  }

  follow(followerId: number, leaderId: number, topic: string, partition: number, leaderEpoch: number): ReplicaFetcher {
    const fetcher = new ReplicaFetcher({
      channel: new NativeLeaderChannel('127.0.0.1', this.brokers.get(leaderId)!.port, followerId),
      maxWaitMs: 50,
      warn: () => undefined,
    });
    fetcher.add({ topic, partition, log: this.brokers.get(followerId)!.context.replicas!.replicaLog(topic, partition), leaderEpoch });
    fetcher.start();
    cleanups.push(() => fetcher.stop());
    return fetcher;
  }

  logEnd(nodeId: number, topic: string, partition: number): number {
    return this.brokers.get(nodeId)!.context.replicas!.replicaLog(topic, partition).logEndOffset;
  }
}

function client(brokers: string[]): Client {
  const created = new Client({ brokers, retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 500, retries: 8 } });
  cleanups.push(() => created.close());
  return created;
}

/** Every value of a partition, read with a client that follows leaders. */
async function readAll(sdk: Client, topic: string, partition: number, count: number): Promise<string[]> {
  const consumer = sdk.consumer({ maxWaitMs: 50 });
  await consumer.assign([{ topic, partition, offset: 'earliest' }]);
  const values: string[] = [];
  for await (const message of consumer) {
    values.push(message.value!.toString());
    if (values.length === count) break;
  }
  await consumer.close();
  return values;
}

describe('the SDK in a cluster', () => {
  it('Metadata lists every broker and each partition\'s leader (native and Kafka)', async () => {
    const cluster = new TestCluster();
    const one = await cluster.start(1);
    const two = await cluster.start(2);
    const topic = randomTopic('meta');
    await cluster.createTopic(topic, 3);
    cluster.roles.set(topic, 0, { leaderId: 1, leaderEpoch: 4, isr: [1, 2] });
    cluster.roles.set(topic, 1, { leaderId: 2, leaderEpoch: 7, isr: [2] });
    // partition 2 has no state: no leader

    const raw = await RawClient.connect(two.port);
    cleanups.push(() => raw.close());
    const { header } = await raw.request<M.MetadataResponse>(ApiKey.Metadata, { topics: [topic] });
    expect(header.brokers).toEqual([
      { nodeId: 1, host: '127.0.0.1', port: one.port },
      { nodeId: 2, host: '127.0.0.1', port: two.port },
    ]);
    expect(header.controllerId).toBe(1);
    expect(header.topics[0]!.partitionInfo).toEqual([
      { partition: 0, leader: 1, leaderEpoch: 4, replicas: [1, 2], isr: [1, 2] },
      { partition: 1, leader: 2, leaderEpoch: 7, replicas: [1, 2], isr: [2] },
      { partition: 2, leader: -1, leaderEpoch: -1, replicas: [], isr: [] },
    ]);

    // kafkajs refuses a whole Metadata answer with a leaderless partition in it (LEADER_NOT_AVAILABLE, retried).
    cluster.roles.set(topic, 2, { leaderId: 2, leaderEpoch: 1, isr: [2, 1] });
    const kafka = new Kafka({ clientId: 'cluster-meta', brokers: [`127.0.0.1:${one.kafka!.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const described = await admin.describeCluster();
    expect(described.brokers.map((broker) => [broker.nodeId, broker.port]).sort()).toEqual([
      [1, one.kafka!.port],
      [2, two.kafka!.port],
    ]);
    expect(described.controller).toBe(1);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId);
    expect(partitions.map((partition) => [partition.partitionId, partition.leader, partition.isr])).toEqual([
      [0, 1, [1, 2]],
      [1, 2, [2]],
      [2, 2, [2, 1]],
    ]);
  });

  it('produces to and fetches from each partition\'s leader', async () => {
    const cluster = new TestCluster();
    const one = await cluster.start(1);
    await cluster.start(2);
    const topic = randomTopic('route');
    await cluster.createTopic(topic, 2);
    // No replication here: each leader alone in its ISR, so only the leader has the data and
    // a request sent to the other broker is refused.
    cluster.roles.set(topic, 0, { leaderId: 1, leaderEpoch: 1, isr: [1] });
    cluster.roles.set(topic, 1, { leaderId: 2, leaderEpoch: 1, isr: [2] });

    const sdk = client([`127.0.0.1:${one.port}`]);
    const producer = sdk.producer({ lingerMs: 1 });
    const sends = [];
    for (let i = 0; i < 200; i++) sends.push(producer.send({ topic, messages: [{ value: `m${i}`, partition: i % 2 }] }));
    const results = (await Promise.all(sends)).flat();
    expect(results.filter((result) => result.partition === 0).map((result) => result.offset)).toEqual([...Array(100).keys()]);
    expect(cluster.logEnd(1, topic, 0)).toBe(100);
    expect(cluster.logEnd(2, topic, 1)).toBe(100);
    expect(cluster.logEnd(2, topic, 0)).toBe(0);
    expect(cluster.logEnd(1, topic, 1)).toBe(0);

    expect(await readAll(sdk, topic, 0, 100)).toEqual([...Array(100).keys()].map((i) => `m${i * 2}`));
    expect(await readAll(sdk, topic, 1, 100)).toEqual([...Array(100).keys()].map((i) => `m${i * 2 + 1}`));
  });

  it('kafkajs produces to each partition\'s leader and kcat reads each from its leader', async () => {
    const cluster = new TestCluster();
    const one = await cluster.start(1);
    await cluster.start(2);
    const topic = randomTopic('kjs');
    await cluster.createTopic(topic, 2);
    cluster.roles.set(topic, 0, { leaderId: 1, leaderEpoch: 1, isr: [1] });
    cluster.roles.set(topic, 1, { leaderId: 2, leaderEpoch: 1, isr: [2] });

    const kafka = new Kafka({ clientId: 'cluster-produce', brokers: [`127.0.0.1:${one.kafka!.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const producer = kafka.producer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    await producer.send({ topic, messages: [...Array(20).keys()].map((i) => ({ value: `k${i}`, partition: i % 2 })) });
    expect([cluster.logEnd(1, topic, 0), cluster.logEnd(2, topic, 1), cluster.logEnd(2, topic, 0), cluster.logEnd(1, topic, 1)]).toEqual([10, 10, 0, 0]);

    const result = await run('kcat', ['-b', `127.0.0.1:${one.kafka!.port}`, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p %s\\n'], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('0 ')).map((line) => line.slice(2))).toEqual([...Array(10).keys()].map((i) => `k${i * 2}`));
    expect(lines.filter((line) => line.startsWith('1 ')).map((line) => line.slice(2))).toEqual([...Array(10).keys()].map((i) => `k${i * 2 + 1}`));
  });

  it('follows a leader change in the middle of an idempotent acks=all produce: exact counts, order kept', async () => {
    const cluster = new TestCluster();
    const one = await cluster.start(1, 2);
    await cluster.start(2, 2);
    const topic = randomTopic('move');
    await cluster.createTopic(topic, 2);
    cluster.roles.set(topic, 0, { leaderId: 1, leaderEpoch: 1, isr: [1, 2] });
    cluster.roles.set(topic, 1, { leaderId: 2, leaderEpoch: 1, isr: [1, 2] });
    const followerOf0 = cluster.follow(2, 1, topic, 0, 1);
    cluster.follow(1, 2, topic, 1, 1);

    const sdk = client([`127.0.0.1:${one.port}`]);
    const producer = sdk.producer({ lingerMs: 2, acks: 'all', batchBytes: 2048 });
    const total = 3000;
    let acknowledged = 0;
    const sends: Array<Promise<unknown>> = [];
    const sent: string[][] = [[], []];
    for (let i = 0; i < total; i++) {
      const partition = i % 2;
      const value = `v${i}`;
      sent[partition]!.push(value);
      sends.push(producer.send({ topic, messages: [{ value, partition }] }).then(() => acknowledged++));
      if (i === total / 3) {
        // Mid-stream: partition 0 moves to broker 2 (epoch 2); broker 1 follows it.
        await waitFor(() => acknowledged > 200, 20_000, 5);
        cluster.roles.set(topic, 0, { leaderId: 2, leaderEpoch: 2, isr: [2, 1] });
        cluster.changed(topic, 0);
        await followerOf0.stop();
        cluster.follow(1, 2, topic, 0, 2);
      }
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(sends);
    expect(acknowledged).toBe(total);
    // The move happened while batches were in flight to the old leader.
    expect(cluster.logEnd(2, topic, 0)).toBe(total / 2);
    await waitFor(() => cluster.logEnd(1, topic, 0) === total / 2);

    const reader = client([`127.0.0.1:${one.port}`]);
    expect(await readAll(reader, topic, 0, total / 2)).toEqual(sent[0]);
    expect(await readAll(reader, topic, 1, total / 2)).toEqual(sent[1]);
  });

  it('a producer and a consumer follow a partition to its new leader when the old leader goes away', async () => {
    const cluster = new TestCluster();
    const one = await cluster.start(1);
    await cluster.start(2);
    const topic = randomTopic('gone');
    await cluster.createTopic(topic, 1);
    cluster.roles.set(topic, 0, { leaderId: 1, leaderEpoch: 1, isr: [1, 2] });
    const follower = cluster.follow(2, 1, topic, 0, 1);

    const sdk = client([`127.0.0.1:${one.port}`]);
    const producer = sdk.producer({ acks: 'all' });
    const consumer = sdk.consumer({ maxWaitMs: 100 });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const message of consumer) {
        seen.push(message.value!.toString());
        if (seen.length === 200) return;
      }
    })();
    for (let i = 0; i < 100; i++) await producer.send({ topic, messages: [{ value: `a${i}` }] });
    await waitFor(() => seen.length === 100);

    // Broker 1 goes away (its sockets close); broker 2 leads at epoch 2 and is all the cluster lists.
    await follower.stop();
    cluster.roles.set(topic, 0, { leaderId: 2, leaderEpoch: 2, isr: [2] });
    cluster.brokers.delete(1);
    await one.close();
    cluster.changed(topic, 0);
    const results = [];
    for (let i = 0; i < 100; i++) results.push(...(await producer.send({ topic, messages: [{ value: `b${i}` }] })));
    expect(results.map((result) => result.offset)).toEqual([...Array(100).keys()].map((i) => 100 + i));
    await reading;
    expect(seen).toEqual([...[...Array(100).keys()].map((i) => `a${i}`), ...[...Array(100).keys()].map((i) => `b${i}`)]);
  });

  it('skips a bootstrap broker that is down', async () => {
    const cluster = new TestCluster();
    await cluster.start(1);
    const two = await cluster.start(2);
    const topic = randomTopic('boot');
    await cluster.createTopic(topic, 1);
    cluster.roles.set(topic, 0, { leaderId: 2, leaderEpoch: 1, isr: [2] });
    const closed = await cluster.start(3);
    const deadPort = closed.port;
    cluster.brokers.delete(3);
    await closed.close();

    const sdk = client([`127.0.0.1:${deadPort}`, `127.0.0.1:${two.port}`]);
    const [result] = await sdk.producer().send({ topic, messages: [{ value: 'x' }] });
    expect(result).toEqual({ topic, partition: 0, offset: 0 });
  });
});
