// Proves replication's data path end to end with two brokers in this process on
// 127.0.0.1 (roles supplied by the test through a shared ReplicaState, no etcd): a
// follower's ReplicaFetcher copies the leader's log over native ReplicaFetch byte for
// byte; the leader's high watermark advances only as the follower's log end does;
// consumers (Fetch, ListOffsets latest) see only what is below it; an acks=all produce is
// answered only once the follower has the batch, and NOT_ENOUGH_REPLICAS when the ISR is
// smaller than min.insync.replicas; a follower refuses consumer fetches (leader only) and
// produces; a follower behind the leader's log
// start starts over there; after an epoch change the
// old leader's divergent tail is truncated (OffsetForLeaderEpoch) and the logs agree again;
// without a valid cluster lease a leader appends nothing (acks=1 too) and fails its waiting
// acks=all, also when a follower's fetch moves the HW; a follower refuses consumer fetches;
// min.insync.replicas comes from the partition's state when it names one.

import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, PartitionReplicaState, ReplicaState } from '../../src/broker/index.js';
import type { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import type { ReplicaLog } from '../../src/storage/types.js';
import { waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { type Cleanup, ReplicatedBrokers } from '../helpers/two-brokers.js';
import { batchOf } from './records.js';

const TOPIC = 'replicated';
const cleanups: Cleanup[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

class TestReplicaState implements ReplicaState {
  current: PartitionReplicaState = { leaderId: 1, leaderEpoch: 1, isr: [1, 2] };
  lease = true;
  partitionState(topic: string, partition: number): PartitionReplicaState | null {
    return topic === TOPIC && partition === 0 ? this.current : null;
  }
  leaseValid(): boolean {
    return this.lease;
  }
}

/** Brokers 1 and 2 sharing `state`, and a raw client of each. */
async function twoBrokers(state: TestReplicaState): Promise<{ brokers: ReplicatedBrokers; one: Broker; two: Broker; clientOne: RawClient; clientTwo: RawClient }> {
  const brokers = new ReplicatedBrokers(state, cleanups);
  const one = await brokers.start(1, { minInsyncReplicas: 2, ackTimeoutMs: 20_000 });
  const two = await brokers.start(2, { minInsyncReplicas: 2, ackTimeoutMs: 20_000 });
  const clientOne = await RawClient.connect(one.port);
  const clientTwo = await RawClient.connect(two.port);
  cleanups.push(() => clientOne.close(), () => clientTwo.close());
  return { brokers, one, two, clientOne, clientTwo };
}

function logOf(broker: Broker): ReplicaLog {
  return broker.context.replicas!.replicaLog(TOPIC, 0);
}

/** Broker `followerId` copies the topic's partition 0 from broker `leaderId` (700-byte fetches). */
function follow(brokers: ReplicatedBrokers, followerId: number, leaderId: number, leaderEpoch: number): ReplicaFetcher {
  return brokers.follow(followerId, leaderId, TOPIC, 0, { leaderEpoch, maxWaitMs: 100, maxBytes: 700 });
}

function image(log: ReplicaLog): Buffer {
  const parts: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20);
    parts.push(read.bytes);
    let at = 0;
    while (at < read.bytes.length) {
      offset = Number(read.bytes.readBigInt64BE(at)) + read.bytes.readInt32BE(at + 23) + 1;
      at += read.bytes.readInt32BE(at + 8) + 12;
    }
  }
  return Buffer.concat(parts);
}

async function produceRaw(client: RawClient, values: string[], acks: 0 | 1 | -1): Promise<M.ProduceResponse> {
  const batch = batchOf(values);
  const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks, timeoutMs: 30_000, partitions: [{ topic: TOPIC, partition: 0, size: batch.length }] }, batch);
  return response.header;
}

describe('replication between two brokers', () => {
  it('copies the leader byte for byte, moves the HW with the follower, and acks=all waits for it', async () => {
    const state = new TestReplicaState();
    const { brokers, one: leader, two: follower, clientOne: leaderClient, clientTwo: followerClient } = await twoBrokers(state);
    await leaderClient.createTopic(TOPIC, 1);
    await followerClient.createTopic(TOPIC, 1);

    // acks=1 is answered at once; the HW stays until the follower has the batch.
    const first = await produceRaw(leaderClient, ['a', 'b', 'c'], 1);
    expect(first.partitions[0]!.errorCode).toBe(0);
    expect(logOf(leader).logEndOffset).toBe(3);
    expect(logOf(leader).highWatermark).toBe(0);
    const hidden = await leaderClient.fetch([{ topic: TOPIC, partition: 0, offset: 0 }]);
    expect(hidden.header.partitions[0]!.size).toBe(0);
    expect(hidden.header.partitions[0]!.highWatermark).toBe(0);
    const latest = await leaderClient.request<M.ListOffsetsResponse>(ApiKey.ListOffsets, { partitions: [{ topic: TOPIC, partition: 0, timestamp: -1 }] });
    expect(latest.header.partitions[0]!.offset).toBe(0);

    // acks=all parks until the follower fetched the batch and fetched again past it.
    let answered = false;
    const waiting = produceRaw(leaderClient, ['d', 'e'], -1).then((response) => {
      answered = true;
      return response;
    });
    await waitFor(() => logOf(leader).logEndOffset === 5);
    expect(answered).toBe(false);
    const fetcher = follow(brokers, 2, 1, 1);
    const acked = await waiting;
    expect(acked.partitions[0]!.errorCode).toBe(0);
    expect(acked.partitions[0]!.baseOffset).toBe(3);
    expect(logOf(follower).logEndOffset).toBeGreaterThanOrEqual(5);
    expect(logOf(leader).highWatermark).toBe(5);
    const visible = await leaderClient.fetch([{ topic: TOPIC, partition: 0, offset: 0 }]);
    expect(visible.header.partitions[0]!.highWatermark).toBe(5);
    expect(visible.parts[0]!.length).toBeGreaterThan(0);

    // Consumers read from the leader only: the follower answers NOT_LEADER_OR_FOLLOWER at once
    // (no parking), and its HW follows the leader's.
    const followerEnd = logOf(follower).logEndOffset;
    const refusedRead = await followerClient.fetch([{ topic: TOPIC, partition: 0, offset: followerEnd }], { maxWaitMs: 120_000, minBytes: 1 });
    expect(refusedRead.header.partitions[0]!.errorCode).toBe(80);
    for (let i = 0; i < 20; i++) await produceRaw(leaderClient, [`m${i}`.repeat(30), `n${i}`], i % 2 === 0 ? -1 : 1);
    await waitFor(() => logOf(follower).highWatermark === logOf(leader).logEndOffset);
    expect(image(logOf(follower)).equals(image(logOf(leader)))).toBe(true);
    expect(logOf(follower).segmentCount).toBe(logOf(leader).segmentCount);
    expect(fetcher.counters.truncations).toBe(0);

    // The follower refuses produces; a too-small ISR refuses acks=all (acks=1 still goes).
    const refused = await produceRaw(followerClient, ['x'], 1);
    expect(refused.partitions[0]!.errorCode).toBe(80);
    state.current = { leaderId: 1, leaderEpoch: 1, isr: [1] };
    leader.context.replicas!.stateChanged(TOPIC, 0);
    const notEnough = await produceRaw(leaderClient, ['y'], -1);
    expect(notEnough.partitions[0]!.errorCode).toBe(81);
    expect((await produceRaw(leaderClient, ['z'], 1)).partitions[0]!.errorCode).toBe(0);
    // With the leader alone in the ISR its HW is its log end.
    expect(logOf(leader).highWatermark).toBe(logOf(leader).logEndOffset);
  });

  it('a follower behind the leader\'s log start (DeleteRecords) starts over there, also inside a batch', async () => {
    for (const cut of [6, 7]) {
      const state = new TestReplicaState();
      state.current = { leaderId: 1, leaderEpoch: 1, isr: [1] };
      const { brokers, one: leader, two: follower, clientOne: leaderClient, clientTwo: followerClient } = await twoBrokers(state);
      await leaderClient.createTopic(TOPIC, 1);
      await followerClient.createTopic(TOPIC, 1);
      for (let i = 0; i < 6; i++) await produceRaw(leaderClient, [`a${i}`, `b${i}`], 1);
      // Batches hold offsets 0-1, 2-3, ...: 6 is a batch boundary, 7 is inside batch 6-7.
      logOf(leader).deleteRecordsBefore(cut);
      const fetcher = follow(brokers, 2, 1, 1);
      await waitFor(() => logOf(follower).logEndOffset === logOf(leader).logEndOffset);
      expect(fetcher.counters.truncations).toBeGreaterThanOrEqual(1);
      expect(logOf(follower).logStartOffset).toBe(6);
      expect(image(logOf(follower)).equals(image(logOf(leader)))).toBe(true);
    }
  });

  it('truncates the old leader\'s divergent tail after an epoch change, then follows the new leader', async () => {
    const state = new TestReplicaState();
    const { brokers, one: brokerA, two: brokerB, clientOne: clientA, clientTwo: clientB } = await twoBrokers(state);
    await clientA.createTopic(TOPIC, 1);
    await clientB.createTopic(TOPIC, 1);

    // Epoch 1: A leads, B follows; 4 replicated batches.
    const fetcherB = follow(brokers, 2, 1, 1);
    for (let i = 0; i < 4; i++) expect((await produceRaw(clientA, [`e1-${i}`, `e1-${i}b`], -1)).partitions[0]!.errorCode).toBe(0);
    const replicatedEnd = logOf(brokerA).logEndOffset;
    await waitFor(() => logOf(brokerB).logEndOffset === replicatedEnd);
    // B stops following (A is cut off); A takes two more batches B never sees (acks=1, ISR shrunk).
    await fetcherB.stop();
    state.current = { leaderId: 1, leaderEpoch: 1, isr: [1] };
    brokerA.context.replicas!.stateChanged(TOPIC, 0);
    await produceRaw(clientA, ['lost-1'], 1);
    await produceRaw(clientA, ['lost-2', 'lost-3'], 1);
    expect(logOf(brokerA).logEndOffset).toBe(replicatedEnd + 3);

    // Epoch 2: B leads alone and takes new batches; A becomes its follower.
    state.current = { leaderId: 2, leaderEpoch: 2, isr: [2] };
    brokerA.context.replicas!.stateChanged(TOPIC, 0);
    brokerB.context.replicas!.stateChanged(TOPIC, 0);
    expect((await produceRaw(clientB, ['e2-0', 'e2-0b', 'e2-0c'], 1)).partitions[0]!.errorCode).toBe(0);
    expect((await produceRaw(clientB, ['e2-1'], 1)).partitions[0]!.errorCode).toBe(0);
    expect((await produceRaw(clientA, ['stale'], 1)).partitions[0]!.errorCode).toBe(80);
    const fetcherA = follow(brokers, 1, 2, 2);
    await waitFor(() => logOf(brokerA).logEndOffset === logOf(brokerB).logEndOffset && fetcherA.phaseOf(TOPIC, 0) === 'fetching');
    expect(fetcherA.counters.truncations).toBe(1);
    expect(image(logOf(brokerA)).equals(image(logOf(brokerB)))).toBe(true);
    expect(logOf(brokerA).endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: replicatedEnd });
    expect(logOf(brokerB).endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: replicatedEnd });

    // A back in the ISR: acks=all on B waits for A again.
    state.current = { leaderId: 2, leaderEpoch: 2, isr: [2, 1] };
    brokerB.context.replicas!.stateChanged(TOPIC, 0);
    expect((await produceRaw(clientB, ['e2-2'], -1)).partitions[0]!.errorCode).toBe(0);
    expect(logOf(brokerA).logEndOffset).toBe(logOf(brokerB).logEndOffset);
    await waitFor(() => logOf(brokerA).highWatermark === logOf(brokerB).highWatermark);
    expect(image(logOf(brokerA)).equals(image(logOf(brokerB)))).toBe(true);
  });

  it('without a valid lease the leader takes no writes and fails waiting acks=all; min.insync comes from the partition state', async () => {
    const state = new TestReplicaState();
    const { brokers, one: leader, clientOne: client, clientTwo: followerClient } = await twoBrokers(state);
    await client.createTopic(TOPIC, 1);
    expect((await produceRaw(client, ['first'], 1)).partitions[0]!.errorCode).toBe(0);
    // A follower answers consumers NOT_LEADER_OR_FOLLOWER too.
    await followerClient.createTopic(TOPIC, 1);
    expect((await followerClient.fetch([{ topic: TOPIC, partition: 0, offset: 0 }])).header.partitions[0]!.errorCode).toBe(80);

    // acks=all parks (no follower fetches); the lease goes: it fails at once, not at the ack timeout.
    const parked = produceRaw(client, ['parked'], -1);
    await waitFor(() => logOf(leader).logEndOffset === 2);
    state.lease = false;
    leader.context.replicas!.leaseLost();
    expect((await parked).partitions[0]!.errorCode).toBe(80);
    // Nothing is appended while the lease is not valid, acks=1 included.
    expect((await produceRaw(client, ['refused'], 1)).partitions[0]!.errorCode).toBe(80);
    expect(logOf(leader).logEndOffset).toBe(2);

    // A follower moving the HW while the lease is invalid (fetches queued before a SIGSTOP) acknowledges nothing.
    state.lease = true;
    const waiting = produceRaw(client, ['late'], -1);
    await waitFor(() => logOf(leader).logEndOffset === 3);
    state.lease = false;
    follow(brokers, 2, 1, 1);
    expect((await waiting).partitions[0]!.errorCode).toBe(80);

    // The topic's min.insync.replicas (from the state) wins over the broker-wide setting (2).
    state.lease = true;
    state.current = { leaderId: 1, leaderEpoch: 1, isr: [1, 2], minInsyncReplicas: 3 };
    leader.context.replicas!.stateChanged(TOPIC, 0);
    expect((await produceRaw(client, ['three'], -1)).partitions[0]!.errorCode).toBe(81);
    state.current = { leaderId: 1, leaderEpoch: 1, isr: [1], minInsyncReplicas: 1 };
    leader.context.replicas!.stateChanged(TOPIC, 0);
    expect((await produceRaw(client, ['one'], -1)).partitions[0]!.errorCode).toBe(0);
  });
});
