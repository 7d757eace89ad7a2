// Proves the follower's fetcher per leader broker (src/cluster/replica-fetcher.ts) with two
// or three brokers in this process on 127.0.0.1 (roles set by the test through a shared
// ReplicaState, no etcd): one fetcher following 24 partitions from one leader opens exactly
// one connection to it (the leader's open-connection count) and copies every partition byte
// for byte; a partition whose epoch is fenced at the leader, one whose leadership moved to
// another broker, and one removed from the fetcher do not stop the others from replicating
// (acks=all on them keeps being answered), and the fenced one catches up once it is added
// again at the new epoch; truncation by leader epoch happens per partition in one batched
// OffsetForLeaderEpoch (only the partitions with a divergent tail are truncated, and they end
// equal to the new leader); a leader that is down is retried with back-off, and the fetcher
// resumes when it is back on the same port. The leader's side: one ReplicaFetch listing five
// partitions is answered per partition (a fenced epoch, an offset past the log end, a cap of
// one batch per partition, none left of the request's bytes for a later partition whose
// position is still recorded) and at once, though it asked to park 10 s. A leader that never
// answers (a silent socket) costs a request timeout, then a new connection. A parked
// ReplicaFetch is answered as soon as one of its partitions changes epoch on the leader.

import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, NativeLeaderChannel, type PartitionReplicaState, type ReplicaState, silentLogger, startBroker } from '../../src/broker/index.js';
import { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import type { ReplicaLog } from '../../src/storage/types.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf } from './records.js';

const TOPIC = 'wide';
const PARTITIONS = 24;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Every partition of TOPIC: its own state, all led by `leaderId` at first. */
class SharedState implements ReplicaState {
  readonly states = new Map<number, PartitionReplicaState>();
  constructor(leaderId: number, isr: number[]) {
    for (let p = 0; p < PARTITIONS; p++) this.states.set(p, { leaderId, leaderEpoch: 1, isr });
  }
  partitionState(topic: string, partition: number): PartitionReplicaState | null {
    return topic === TOPIC ? (this.states.get(partition) ?? null) : null;
  }
}

async function broker(brokerId: number, state: ReplicaState, port = 0, dataDir = tempDir()): Promise<Broker> {
  const started = await startBroker({
    dataDir,
    port,
    fsync: { kind: 'never' },
    logger: silentLogger,
    replication: { brokerId, state, minInsyncReplicas: 1, ackTimeoutMs: 20_000 },
  });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  return started;
}

function logOf(broker: Broker, partition: number): ReplicaLog {
  return broker.context.replicas!.replicaLog(TOPIC, partition);
}

function fetcherTo(leader: Broker, followerId: number): ReplicaFetcher {
  const fetcher = new ReplicaFetcher({
    channel: new NativeLeaderChannel('127.0.0.1', leader.port, followerId),
    maxWaitMs: 100,
    partitionMaxBytes: 4096,
    retryBackoffMs: 20,
    maxRetryBackoffMs: 200,
    warn: () => undefined,
  });
  fetcher.start();
  cleanups.push(() => fetcher.stop());
  return fetcher;
}

function image(log: ReplicaLog): Buffer {
  return log.logEndOffset > log.logStartOffset ? Buffer.from(log.read(log.logStartOffset, 1 << 24).bytes) : Buffer.alloc(0);
}

async function produce(client: RawClient, partition: number, values: string[], acks: 0 | 1 | -1): Promise<number> {
  const batch = batchOf(values);
  const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks, timeoutMs: 20_000, partitions: [{ topic: TOPIC, partition, size: batch.length }] }, batch);
  return response.header.partitions[0]!.errorCode;
}

describe('one replica fetcher per leader broker', () => {
  it('follows 24 partitions over one connection, byte for byte', async () => {
    const state = new SharedState(1, [1, 2]);
    const leader = await broker(1, state);
    const follower = await broker(2, state);
    const client = await RawClient.connect(leader.port);
    cleanups.push(() => client.close());
    await client.createTopic(TOPIC, PARTITIONS);
    await follower.context.logs.createTopic(TOPIC, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) await produce(client, p, [`a${p}`, `b${p}`], 1);
    const before = leader.connectionCount;
    expect(before).toBe(1);

    const fetcher = fetcherTo(leader, 2);
    for (let p = 0; p < PARTITIONS; p++) fetcher.add({ topic: TOPIC, partition: p, log: logOf(follower, p), leaderEpoch: 1 });
    // acks=all on every partition is answered: the one fetcher carries all of them.
    const codes = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => produce(client, p, [`c${p}`.repeat(50)], -1)));
    expect(codes.every((code) => code === 0)).toBe(true);
    for (let p = 0; p < PARTITIONS; p++) await waitFor(() => logOf(follower, p).highWatermark === logOf(leader, p).logEndOffset);
    for (let p = 0; p < PARTITIONS; p++) expect(image(logOf(follower, p)).equals(image(logOf(leader, p)))).toBe(true);
    expect(leader.connectionCount - before).toBe(1);
    expect(fetcher.size).toBe(PARTITIONS);
    expect(fetcher.counters.truncations).toBe(0);
  });

  it('a fenced, a moved and a removed partition do not stop the others; the fenced one resumes at its new epoch', async () => {
    const state = new SharedState(1, [1, 2]);
    const leader = await broker(1, state);
    const follower = await broker(2, state);
    const client = await RawClient.connect(leader.port);
    cleanups.push(() => client.close());
    await client.createTopic(TOPIC, PARTITIONS);
    await follower.context.logs.createTopic(TOPIC, PARTITIONS);
    const fetcher = fetcherTo(leader, 2);
    for (let p = 0; p < PARTITIONS; p++) fetcher.add({ topic: TOPIC, partition: p, log: logOf(follower, p), leaderEpoch: 1 });
    for (let p = 0; p < PARTITIONS; p++) expect(await produce(client, p, [`first${p}`], -1)).toBe(0);

    // Partition 3: the leader moves to epoch 2 (the fetcher still asks with 1: FENCED_LEADER_EPOCH).
    // Partition 4: broker 3 leads it now (NOT_LEADER_OR_FOLLOWER on broker 1).
    // Partition 5: this follower stops following it.
    state.states.set(3, { leaderId: 1, leaderEpoch: 2, isr: [1] });
    state.states.set(4, { leaderId: 3, leaderEpoch: 2, isr: [3] });
    leader.context.replicas!.stateChanged(TOPIC, 3);
    leader.context.replicas!.stateChanged(TOPIC, 4);
    await fetcher.remove(TOPIC, 5);
    expect(fetcher.has(TOPIC, 5)).toBe(false);
    expect(await produce(client, 3, ['fenced-while'], 1)).toBe(0);
    const fenced3End = logOf(leader, 3).logEndOffset;

    // The others keep replicating: acks=all with ISR [1, 2] is answered on each, several rounds.
    for (let round = 0; round < 3; round++) {
      for (let p = 0; p < PARTITIONS; p++) {
        if (p === 3 || p === 4 || p === 5) continue;
        expect(await produce(client, p, [`r${round}-${p}`], -1)).toBe(0);
      }
    }
    for (let p = 0; p < PARTITIONS; p++) {
      if (p === 3 || p === 4 || p === 5) continue;
      await waitFor(() => logOf(follower, p).logEndOffset === logOf(leader, p).logEndOffset);
    }
    expect(logOf(follower, 3).logEndOffset).toBeLessThan(fenced3End);
    expect(fetcher.phaseOf(TOPIC, 3)).toBe('fetching');

    // Added again at the leader's epoch: partition 3 catches up too.
    fetcher.add({ topic: TOPIC, partition: 3, log: logOf(follower, 3), leaderEpoch: 2 });
    await waitFor(() => logOf(follower, 3).logEndOffset === logOf(leader, 3).logEndOffset);
    expect(image(logOf(follower, 3)).equals(image(logOf(leader, 3)))).toBe(true);
    expect(leader.connectionCount).toBe(2);
  });

  it('truncates per partition in one batched OffsetForLeaderEpoch, only where the logs diverge', async () => {
    const state = new SharedState(1, [1, 2]);
    const brokerA = await broker(1, state);
    const brokerB = await broker(2, state);
    const clientA = await RawClient.connect(brokerA.port);
    const clientB = await RawClient.connect(brokerB.port);
    cleanups.push(() => clientA.close(), () => clientB.close());
    await clientA.createTopic(TOPIC, PARTITIONS);
    await clientB.createTopic(TOPIC, PARTITIONS);

    // Epoch 1: A leads every partition, B follows them all with one fetcher.
    const fetcherB = fetcherTo(brokerA, 2);
    for (let p = 0; p < PARTITIONS; p++) fetcherB.add({ topic: TOPIC, partition: p, log: logOf(brokerB, p), leaderEpoch: 1 });
    for (let p = 0; p < PARTITIONS; p++) expect(await produce(clientA, p, [`e1-${p}`, `e1-${p}b`], -1)).toBe(0);
    for (let p = 0; p < PARTITIONS; p++) await waitFor(() => logOf(brokerB, p).logEndOffset === logOf(brokerA, p).logEndOffset);
    await fetcherB.stop();

    // A, cut off, takes more on partitions 0, 7 and 13 (ISR [1], acks=1) that B never sees.
    const diverging = [0, 7, 13];
    for (const p of diverging) {
      state.states.set(p, { leaderId: 1, leaderEpoch: 1, isr: [1] });
      brokerA.context.replicas!.stateChanged(TOPIC, p);
      expect(await produce(clientA, p, [`lost-${p}`, `lost-${p}b`], 1)).toBe(0);
    }
    // Epoch 2: B leads every partition alone and takes new batches; A follows B with one fetcher.
    for (let p = 0; p < PARTITIONS; p++) {
      state.states.set(p, { leaderId: 2, leaderEpoch: 2, isr: [2] });
      brokerA.context.replicas!.stateChanged(TOPIC, p);
      brokerB.context.replicas!.stateChanged(TOPIC, p);
      expect(await produce(clientB, p, [`e2-${p}`], 1)).toBe(0);
    }
    const fetcherA = fetcherTo(brokerB, 1);
    for (let p = 0; p < PARTITIONS; p++) fetcherA.add({ topic: TOPIC, partition: p, log: logOf(brokerA, p), leaderEpoch: 2 });
    for (let p = 0; p < PARTITIONS; p++) {
      await waitFor(() => logOf(brokerA, p).logEndOffset === logOf(brokerB, p).logEndOffset && fetcherA.phaseOf(TOPIC, p) === 'fetching');
    }
    for (let p = 0; p < PARTITIONS; p++) {
      expect(fetcherA.countersOf(TOPIC, p)!.truncations).toBe(diverging.includes(p) ? 1 : 0);
      expect(image(logOf(brokerA, p)).equals(image(logOf(brokerB, p)))).toBe(true);
    }
    // One OffsetForLeaderEpoch for all 24 partitions, then fetches: a handful of requests, not 24 truncation round trips.
    expect(fetcherA.counters.truncations).toBe(diverging.length);
    expect(fetcherA.counters.requests).toBeLessThan(12);
  });

  it('the leader answers one ReplicaFetch of many partitions per partition: errors, per-partition and request maxBytes', async () => {
    const state = new SharedState(1, [1, 2]);
    state.states.set(1, { leaderId: 1, leaderEpoch: 4, isr: [1, 2] });
    const leader = await broker(1, state);
    const client = await RawClient.connect(leader.port);
    cleanups.push(() => client.close());
    await client.createTopic(TOPIC, PARTITIONS);
    for (const p of [0, 1, 2, 3]) {
      for (let i = 0; i < 3; i++) expect(await produce(client, p, [`${p}-${i}`.repeat(40)], 1)).toBe(0);
    }
    const batchBytes = logOf(leader, 0).read(0, 1).bytes.length;
    const started = performance.now();
    const response = await client.request<M.ReplicaFetchResponse>(ApiKey.ReplicaFetch, {
      replicaId: 2,
      maxWaitMs: 10_000,
      minBytes: 1,
      // The request's bytes: room for p0's one batch (its own cap) and one of p3's, none for p2.
      maxBytes: 2 * batchBytes,
      partitions: [
        { topic: TOPIC, partition: 0, leaderEpoch: 1, fetchOffset: 0, maxBytes: 1 },
        { topic: TOPIC, partition: 1, leaderEpoch: 1, fetchOffset: 0, maxBytes: 1 << 20 },
        { topic: TOPIC, partition: 3, leaderEpoch: 1, fetchOffset: 1, maxBytes: 1 << 20 },
        { topic: TOPIC, partition: 2, leaderEpoch: 1, fetchOffset: 2, maxBytes: 1 << 20 },
        { topic: TOPIC, partition: 5, leaderEpoch: 1, fetchOffset: 9, maxBytes: 1 << 20 },
      ],
    });
    // A failed partition answers the request at once, not after maxWaitMs.
    expect(performance.now() - started).toBeLessThan(5_000);
    const [p0, p1, p3, p2, p5] = response.header.partitions as [M.ReplicaFetchPartitionResult, M.ReplicaFetchPartitionResult, M.ReplicaFetchPartitionResult, M.ReplicaFetchPartitionResult, M.ReplicaFetchPartitionResult];
    expect(response.header.errorCode).toBe(0);
    expect([p0.partition, p1.partition, p3.partition, p2.partition, p5.partition]).toEqual([0, 1, 3, 2, 5]);
    expect(p0).toMatchObject({ errorCode: 0, size: batchBytes, highWatermark: 0, logEndOffset: 3 });
    expect(p1.errorCode).toBe(82); // FENCED_LEADER_EPOCH: the leader is at epoch 4
    expect(p1.size).toBe(0);
    expect(p3).toMatchObject({ errorCode: 0, size: batchBytes });
    expect(p2).toMatchObject({ errorCode: 0, size: 0, logEndOffset: 3 });
    // Past the log end: OFFSET_OUT_OF_RANGE with the leader's bounds (the follower truncates or starts over).
    expect(p5).toMatchObject({ logStartOffset: 0, logEndOffset: 0, size: 0 });
    expect(p5.errorCode).not.toBe(0);
    expect(response.payload.length).toBe(2 * batchBytes);
    // p2 got no bytes, but its position was recorded (it moves the HW like the others).
    expect(leader.context.replicas!.followerStates(TOPIC, 2)).toEqual([expect.objectContaining({ replicaId: 2, logEndOffset: 2 })]);
    expect(leader.context.replicas!.followerStates(TOPIC, 1)).toEqual([]);
  });

  it('backs off while the leader is down and resumes when it is back', async () => {
    const state = new SharedState(1, [1, 2]);
    const leaderDir = tempDir();
    let leader = await broker(1, state, 0, leaderDir);
    const port = leader.port;
    const follower = await broker(2, state);
    let client = await RawClient.connect(leader.port);
    await client.createTopic(TOPIC, PARTITIONS);
    await follower.context.logs.createTopic(TOPIC, PARTITIONS);
    const warnings: string[] = [];
    const fetcher = new ReplicaFetcher({
      channel: new NativeLeaderChannel('127.0.0.1', port, 2),
      maxWaitMs: 100,
      retryBackoffMs: 20,
      maxRetryBackoffMs: 200,
      warn: (message) => warnings.push(message),
    });
    fetcher.start();
    cleanups.push(() => fetcher.stop());
    for (let p = 0; p < PARTITIONS; p++) fetcher.add({ topic: TOPIC, partition: p, log: logOf(follower, p), leaderEpoch: 1 });
    expect(await produce(client, 1, ['before'], -1)).toBe(0);
    client.close();
    await leader.close();

    // Down for a while: requests fail and are retried with a growing pause (20, 40, 80, 160, 200 ms ...).
    const requestsAtClose = fetcher.counters.requests;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const retries = fetcher.counters.requests - requestsAtClose;
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(retries).toBeLessThanOrEqual(12);
    expect(warnings.some((message) => message.includes('replica fetcher'))).toBe(true);

    leader = await broker(1, state, port, leaderDir);
    client = await RawClient.connect(leader.port);
    cleanups.push(() => client.close());
    expect(await produce(client, 2, ['after'], -1)).toBe(0);
    await waitFor(() => logOf(follower, 2).logEndOffset === logOf(leader, 2).logEndOffset);
  });

  it('a parked ReplicaFetch is answered at once when one of its partitions changes epoch on the leader', async () => {
    const state = new SharedState(1, [1, 2]);
    const leader = await broker(1, state);
    const client = await RawClient.connect(leader.port);
    cleanups.push(() => client.close());
    await client.createTopic(TOPIC, PARTITIONS);
    // Take up the leadership of partitions 0 and 1 (epoch 1).
    for (const p of [0, 1]) leader.context.replicas!.afterLeaderAppend(TOPIC, p);
    const started = performance.now();
    const parked = client.request<M.ReplicaFetchResponse>(ApiKey.ReplicaFetch, {
      replicaId: 2,
      maxWaitMs: 10_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      partitions: [0, 1].map((partition) => ({ topic: TOPIC, partition, leaderEpoch: 1, fetchOffset: 0, maxBytes: 1 << 20 })),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    state.states.set(1, { leaderId: 1, leaderEpoch: 2, isr: [1, 2] });
    leader.context.replicas!.stateChanged(TOPIC, 1);
    const response = await parked;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(response.header.partitions.map((entry) => entry.errorCode)).toEqual([0, 82]);
  });

  it('drops a connection whose leader never answers (request timeout) and connects again', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => {
      accepted.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    cleanups.push(() => accepted.forEach((socket) => socket.destroy()));
    const state = new SharedState(1, [1, 2]);
    const follower = await broker(2, state);
    await follower.context.logs.createTopic(TOPIC, 2);
    const warnings: string[] = [];
    const fetcher = new ReplicaFetcher({
      channel: new NativeLeaderChannel('127.0.0.1', (silent.address() as { port: number }).port, 2, undefined, 150),
      maxWaitMs: 50,
      retryBackoffMs: 10,
      maxRetryBackoffMs: 20,
      warn: (message) => warnings.push(message),
    });
    fetcher.start();
    cleanups.push(() => fetcher.stop());
    for (let p = 0; p < 2; p++) fetcher.add({ topic: TOPIC, partition: p, log: logOf(follower, p), leaderEpoch: 1 });
    // Each unanswered request ends after 150 ms (+ its maxWaitMs) with the connection dropped; a new one follows.
    await waitFor(() => accepted.length >= 3, 5_000);
    expect(warnings.some((message) => message.includes('no answer'))).toBe(true);
  });
});
