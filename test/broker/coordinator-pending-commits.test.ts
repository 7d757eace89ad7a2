// Proves, with two brokers in this process on 127.0.0.1 (roles and replica state supplied
// by the test, as in coordinator-failover.test.ts), that the group coordinator never shows
// an offset commit the in-sync replicas do not have: the group's __consumer_offsets
// partition has ISR [1, 2] and broker 2 copies it with a ReplicaFetcher the test starts and
// stops. While the fetcher is stopped the high watermark cannot pass a new commit: the
// commit is appended on broker 1 but not answered, and OffsetFetch on broker 1 (native, and
// Kafka's v7 with requireStable at the Kafka listener) and describe still show the previous
// offset. Once broker 2 fetches again the commit is answered and shown. Then a commit is
// left in flight and the leadership moves to broker 2, which never received it: the commit
// is answered NOT_COORDINATOR, broker 2 shows the previous offset (the offset broker 1
// showed all along), and broker 1 does not bring the group back.

import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, NativeLeaderChannel, type PartitionReplicaState, type ReplicaState, silentLogger, startBroker } from '../../src/broker/index.js';
import { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import { coordinatorPartitionOf, type CoordinatorAddress, type CoordinatorRoles } from '../../src/groups/coordinator-placement.js';
import { OFFSETS_TOPIC } from '../../src/groups/offset-store.js';
import { ApiKeys, decodeResponse, encodeRequest, frameBytes, type OffsetFetchResponse } from '../../src/kafka/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const PARTITIONS = 2;
const GROUP = 'pending-group';
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
  private readonly listeners: Array<(topic: string, partition: number) => void> = [];

  partitionState(topic: string, partition: number): PartitionReplicaState | null {
    if (topic !== OFFSETS_TOPIC && topic !== '__share_group_state') return null;
    const isr = topic === OFFSETS_TOPIC && partition === GROUP_PARTITION ? [1, 2] : [this.leaderId];
    return { leaderId: this.leaderId, leaderEpoch: this.leaderEpoch, isr };
  }

  rolesOf(brokerId: number): CoordinatorRoles {
    return {
      leads: (topic) => (topic === OFFSETS_TOPIC || topic === '__share_group_state') && this.leaderId === brokerId,
      leader: () => this.addresses.get(this.leaderId) ?? null,
      onChange: (listener) => {
        this.listeners.push(listener);
        return () => undefined;
      },
    };
  }

  /** The controller's failover, by hand: a new leader at the next epoch, told to every replica manager and coordinator. */
  moveTo(leaderId: number, brokers: Broker[]): void {
    this.leaderId = leaderId;
    this.leaderEpoch++;
    for (const broker of brokers) {
      for (let partition = 0; partition < PARTITIONS; partition++) broker.context.replicas!.stateChanged(OFFSETS_TOPIC, partition);
    }
    for (const listener of this.listeners) for (let partition = 0; partition < PARTITIONS; partition++) listener(OFFSETS_TOPIC, partition);
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

/** Broker 2 copies the group's offsets partition from broker 1 until stopped. */
function follow(follower: Broker, leader: Broker): ReplicaFetcher {
  const fetcher = new ReplicaFetcher({
    channel: new NativeLeaderChannel('127.0.0.1', leader.port, 2),
    maxWaitMs: 50,
    warn: () => undefined,
  });
  fetcher.add({ topic: OFFSETS_TOPIC, partition: GROUP_PARTITION, log: follower.context.replicas!.replicaLog(OFFSETS_TOPIC, GROUP_PARTITION), leaderEpoch: 1 });
  fetcher.start();
  cleanups.push(() => fetcher.stop());
  return fetcher;
}

const commit = (client: RawClient, offset: number) =>
  client.request<M.OffsetCommitResponse>(ApiKey.OffsetCommit, { groupId: GROUP, memberId: '', memberEpoch: -1, offsets: [{ topic: TOPIC, partition: 0, offset }] });

async function committed(client: RawClient): Promise<{ errorCode: number; offset: number | undefined }> {
  const response = await client.request<M.OffsetFetchResponse>(ApiKey.OffsetFetch, { groupId: GROUP, partitions: [{ topic: TOPIC, partition: 0 }] });
  return { errorCode: response.header.errorCode, offset: response.header.offsets?.[0]?.offset };
}

/** Kafka OffsetFetch v7 with requireStable over the Kafka listener: the committed offset of TOPIC-0. */
async function kafkaCommitted(port: number): Promise<number | undefined> {
  const socket = connect(port, '127.0.0.1');
  try {
    const request = { groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }], groups: [], requireStable: true };
    socket.write(frameBytes(encodeRequest(ApiKeys.OffsetFetch, 7, 3, 'test', request)));
    let buffered = Buffer.alloc(0);
    for await (const chunk of socket) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) break;
    }
    const body: OffsetFetchResponse = decodeResponse(ApiKeys.OffsetFetch, 7, buffered.subarray(4, 4 + buffered.readInt32BE(0))).body;
    expect(body.errorCode ?? 0).toBe(0);
    return body.topics?.[0]?.partitions[0]?.committedOffset;
  } finally {
    socket.destroy();
  }
}

async function describedCommitted(client: RawClient): Promise<number | undefined> {
  const described = await client.request<M.DescribeGroupsResponse>(ApiKey.DescribeGroups, { groupIds: [GROUP] });
  return described.header.groups[0]?.offsets.find((entry) => entry.topic === TOPIC && entry.partition === 0)?.committed;
}

describe('an offset commit not yet on the in-sync replicas', () => {
  it('is not shown by the coordinator until the high watermark passes it, and is not lost by a client that saw it', async () => {
    const cluster = new TestCluster();
    const one = await broker(1, cluster);
    const two = await broker(2, cluster);
    const rawOne = await RawClient.connect(one.port);
    const rawTwo = await RawClient.connect(two.port);
    // Commits in flight go on their own connection: a connection answers its requests in order.
    const committer = await RawClient.connect(one.port);
    cleanups.push(() => rawOne.close(), () => rawTwo.close(), () => committer.close());
    await rawOne.createTopic(TOPIC, 1);
    await rawTwo.createTopic(TOPIC, 1);
    const leaderLog = one.context.replicas!.replicaLog(OFFSETS_TOPIC, GROUP_PARTITION);

    let fetcher = follow(two, one);
    expect((await commit(rawOne, 5)).header.partitions[0]!.errorCode).toBe(0);
    expect((await committed(rawOne)).offset).toBe(5);

    // Broker 2 stops fetching: the HW cannot pass the next commit.
    await fetcher.stop();
    let answered = false;
    const slow = commit(committer, 9).then((response) => ((answered = true), response));
    await waitFor(() => leaderLog.logEndOffset > leaderLog.highWatermark);
    expect(answered).toBe(false);
    expect(await committed(rawOne)).toEqual({ errorCode: 0, offset: 5 });
    expect(await kafkaCommitted(one.kafka!.port)).toBe(5);
    expect(await describedCommitted(rawOne)).toBe(5);

    // Broker 2 fetches again: the HW passes the commit, which is answered and shown.
    fetcher = follow(two, one);
    expect((await slow).header.partitions[0]!.errorCode).toBe(0);
    expect(await committed(rawOne)).toEqual({ errorCode: 0, offset: 9 });
    expect(await kafkaCommitted(one.kafka!.port)).toBe(9);
    expect(await describedCommitted(rawOne)).toBe(9);

    // A commit in flight when broker 1 loses the leadership to broker 2, which never got it.
    await fetcher.stop();
    const lost = commit(committer, 13);
    await waitFor(() => leaderLog.logEndOffset > leaderLog.highWatermark);
    expect((await committed(rawOne)).offset).toBe(9);
    cluster.moveTo(2, [one, two]);
    expect((await lost).header.partitions[0]!.errorCode).toBe(89); // NOT_COORDINATOR: the client finds broker 2 and commits again
    expect(await committed(rawTwo)).toEqual({ errorCode: 0, offset: 9 });
    expect((await committed(rawOne)).errorCode).toBe(89);
    expect((await rawOne.request<M.ListGroupsResponse>(ApiKey.ListGroups, {})).header.groups).toEqual([]);
  }, 30_000);
});
