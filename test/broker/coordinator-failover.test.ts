// Proves the group coordinator follows the leadership of its __consumer_offsets partition,
// with two brokers in this process on 127.0.0.1 and the roles supplied by the test (a
// shared replica state, no etcd; the same setup as replication.test.ts): the group's
// partition of __consumer_offsets is replicated from broker 1 to broker 2 by a
// ReplicaFetcher, so a commit is answered only once broker 2 has it; the non-leader answers
// NOT_COORDINATOR and FindCoordinator (native, and Kafka's at the Kafka listener) names the leader; when the test moves the leadership
// to broker 2, broker 1 drops the group, broker 2 loads it with the committed offsets, and
// an SDK consumer that was consuming through broker 1 finds the new coordinator, rejoins
// there and goes on from its committed position (nothing skipped; nothing consumed twice,
// since nothing was produced between its last commit and its rejoin), committing to broker
// 2, whose log broker 1 now follows.
//
// The data topic is not copied here (replication.test.ts covers that): broker 1 leads it
// alone throughout and serves the fetches; broker 2 has the topic too (the coordinator
// checks subscriptions against its own topic table).

import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { ApiKeys, decodeResponse, encodeRequest, frameBytes, type FindCoordinatorResponse } from '../../src/kafka/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, NativeLeaderChannel, type PartitionReplicaState, type ReplicaState, silentLogger, startBroker } from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import { coordinatorPartitionOf, type CoordinatorAddress, type CoordinatorRoles } from '../../src/groups/coordinator-placement.js';
import { OFFSETS_TOPIC } from '../../src/groups/offset-store.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const PARTITIONS = 4;
const GROUP = 'failover-group';
const TOPIC = 'orders';
const GROUP_PARTITION = coordinatorPartitionOf(GROUP, PARTITIONS);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** One leader for every internal-topic partition; the group's offsets partition has both brokers in sync. */
class TestCluster implements ReplicaState {
  leaderId = 1;
  leaderEpoch = 1;
  readonly addresses = new Map<number, CoordinatorAddress>();
  private readonly listeners = new Map<number, Set<(topic: string, partition: number) => void>>();

  partitionState(topic: string, partition: number): PartitionReplicaState | null {
    // The data topic: led by broker 1 alone throughout (a replicated storage's HW moves only for partitions the state names).
    if (topic === TOPIC) return { leaderId: 1, leaderEpoch: 1, isr: [1] };
    if (topic !== OFFSETS_TOPIC && topic !== '__share_group_state') return null;
    const isr = topic === OFFSETS_TOPIC && partition === GROUP_PARTITION ? [1, 2] : [this.leaderId];
    return { leaderId: this.leaderId, leaderEpoch: this.leaderEpoch, isr };
  }

  rolesOf(brokerId: number): CoordinatorRoles {
    const listeners = new Set<(topic: string, partition: number) => void>();
    this.listeners.set(brokerId, listeners);
    return {
      leads: (topic) => (topic === OFFSETS_TOPIC || topic === '__share_group_state') && this.leaderId === brokerId,
      leader: () => this.addresses.get(this.leaderId) ?? null,
      onChange: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
  }

  /** A new leader at the next epoch: every broker's replica manager and coordinator learn it. */
  moveTo(leaderId: number, brokers: Broker[]): void {
    this.leaderId = leaderId;
    this.leaderEpoch++;
    for (const broker of brokers) {
      for (let partition = 0; partition < PARTITIONS; partition++) broker.context.replicas!.stateChanged(OFFSETS_TOPIC, partition);
    }
    for (const listeners of this.listeners.values()) {
      for (const listener of listeners) for (let partition = 0; partition < PARTITIONS; partition++) listener(OFFSETS_TOPIC, partition);
    }
  }
}

async function broker(brokerId: number, cluster: TestCluster): Promise<Broker> {
  const dataDir = tempDir();
  const started = await startBroker({
    dataDir,
    port: 0,
    fsync: { kind: 'never' },
    logger: silentLogger,
    kafkaListener: { host: '127.0.0.1', port: 0 },
    replication: { brokerId, state: cluster, ackTimeoutMs: 20_000 },
    coordinatorRoles: cluster.rolesOf(brokerId),
    offsetsTopicPartitions: PARTITIONS,
  });
  cluster.addresses.set(brokerId, { nodeId: brokerId, host: '127.0.0.1', port: started.port, kafka: started.kafka });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  return started;
}

function follow(follower: Broker, followerId: number, leader: Broker, leaderEpoch: number): ReplicaFetcher {
  const fetcher = new ReplicaFetcher({
    channel: new NativeLeaderChannel('127.0.0.1', leader.port, followerId),
    maxWaitMs: 50,
    warn: () => undefined,
  });
  fetcher.add({ topic: OFFSETS_TOPIC, partition: GROUP_PARTITION, log: follower.context.replicas!.replicaLog(OFFSETS_TOPIC, GROUP_PARTITION), leaderEpoch });
  fetcher.start();
  cleanups.push(() => fetcher.stop());
  return fetcher;
}

/** Kafka FindCoordinator v3 (key type 0) over the Kafka listener. */
async function kafkaFindCoordinator(port: number, groupId: string): Promise<FindCoordinatorResponse> {
  const socket = connect(port, '127.0.0.1');
  try {
    socket.write(frameBytes(encodeRequest(ApiKeys.FindCoordinator, 3, 7, 'test', { key: groupId, keyType: 0, coordinatorKeys: [] })));
    let buffered = Buffer.alloc(0);
    for await (const chunk of socket) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) break;
    }
    return decodeResponse(ApiKeys.FindCoordinator, 3, buffered.subarray(4, 4 + buffered.readInt32BE(0))).body;
  } finally {
    socket.destroy();
  }
}

async function committed(client: RawClient): Promise<{ errorCode: number; offset: number | undefined }> {
  const response = await client.request<M.OffsetFetchResponse>(ApiKey.OffsetFetch, { groupId: GROUP, partitions: [{ topic: TOPIC, partition: 0 }] });
  return { errorCode: response.header.errorCode, offset: response.header.offsets?.[0]?.offset };
}

describe('group coordinator failover between two brokers', () => {
  it('moves with the offsets partition leader: offsets survive, the old one answers NOT_COORDINATOR, the SDK consumer follows', async () => {
    const cluster = new TestCluster();
    const one = await broker(1, cluster);
    const two = await broker(2, cluster);
    const rawOne = await RawClient.connect(one.port);
    const rawTwo = await RawClient.connect(two.port);
    cleanups.push(() => rawOne.close(), () => rawTwo.close());
    await rawOne.createTopic(TOPIC, 1);
    await rawTwo.createTopic(TOPIC, 1);
    const followerFetcher = follow(two, 2, one, 1);

    const client = new Client({ brokers: [`127.0.0.1:${one.port}`, `127.0.0.1:${two.port}`], retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 300 } });
    cleanups.push(() => client.close());
    const coordinators: string[] = [];
    client.on('group.coordinator', (event) => coordinators.push(event.broker));
    const producer = client.producer({ lingerMs: 1 });
    await producer.send({ topic: TOPIC, messages: Array.from({ length: 10 }, (_, index) => ({ value: `m-${index}`, partition: 0 })) });

    const consumer = client.consumer({ groupId: GROUP, sessionTimeoutMs: 1000, maxWaitMs: 50, autoCommitIntervalMs: 50 });
    const seen: number[] = [];
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    const running = consumer.run({ eachMessage: ({ message }) => void seen.push(Number(message.offset)) });
    cleanups.push(async () => {
      await consumer.close();
      await running.catch(() => undefined);
    });

    // Every commit is answered once broker 2 holds it (broker 1's HW covers it).
    const leaderLog = one.context.replicas!.replicaLog(OFFSETS_TOPIC, GROUP_PARTITION);
    const replicated = two.context.replicas!.replicaLog(OFFSETS_TOPIC, GROUP_PARTITION);
    await waitFor(async () => (await committed(rawOne)).offset === 10 && leaderLog.highWatermark === leaderLog.logEndOffset, 10_000);
    expect(replicated.logEndOffset).toBe(leaderLog.logEndOffset);
    expect((await committed(rawTwo)).errorCode).toBe(89); // NOT_COORDINATOR
    const found = await rawTwo.request<M.FindCoordinatorResponse>(ApiKey.FindCoordinator, { groupId: GROUP });
    expect(found.header).toMatchObject({ errorCode: 0, nodeId: 1, port: one.port });

    // Broker 2 takes the partition over (the controller's failover, done by hand here).
    await followerFetcher.stop();
    cluster.moveTo(2, [one, two]);
    follow(one, 1, two, cluster.leaderEpoch);

    expect(await committed(rawTwo)).toEqual({ errorCode: 0, offset: 10 });
    expect((await committed(rawOne)).errorCode).toBe(89);
    const moved = await rawOne.request<M.FindCoordinatorResponse>(ApiKey.FindCoordinator, { groupId: GROUP });
    expect(moved.header).toMatchObject({ errorCode: 0, nodeId: 2, port: two.port });
    // Kafka clients are sent to the new coordinator's Kafka listener.
    expect(await kafkaFindCoordinator(one.kafka!.port, GROUP)).toMatchObject({ errorCode: 0, nodeId: 2, host: '127.0.0.1', port: two.kafka!.port });

    // The consumer follows: it finds broker 2, is unknown there, rejoins, and goes on from its
    // committed offset 10. (Records it consumed after its last commit and before rejoining
    // would be consumed again, at least once as in Kafka: none are produced until it has rejoined.)
    await waitFor(async () => {
      const described = await rawTwo.request<M.DescribeGroupsResponse>(ApiKey.DescribeGroups, { groupIds: [GROUP] });
      const group = described.header.groups[0];
      return group !== undefined && group.state === 'stable' && group.members.length === 1;
    }, 10_000);
    await producer.send({ topic: TOPIC, messages: Array.from({ length: 10 }, (_, index) => ({ value: `n-${index}`, partition: 0 })) });
    await waitFor(() => seen.length >= 20, 15_000);
    await waitFor(async () => (await committed(rawTwo)).offset === 20, 10_000);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => index));
    expect(coordinators).toContain(`127.0.0.1:${two.port}`);
    // Broker 1 now follows broker 2's offsets partition.
    await waitFor(() => leaderLog.logEndOffset === replicated.logEndOffset);
    await producer.close();
  }, 40_000);
});
