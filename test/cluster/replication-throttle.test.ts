// Proves the reassignment throttle's parts without a broker (src/cluster/token-bucket.ts,
// replication-throttle.ts, the throttle in replica-fetcher.ts): the token bucket refills at its
// rate up to one second's burst, goes into debt for a batch larger than what was left and
// says how long until it is paid, keeps a debt across a rate change; the rules of which
// fetches are throttled (only a follower out of the ISR of a partition with a pending
// throttled request; the broker's rate is the lowest of the requests naming it; a request
// decodes with and without a throttle, and one with a bad throttle is not acted on); and a
// ReplicaFetcher over a fake leader that always has data: the throttled partition gets at most
// rate x time + burst + one batch over ~1.2 s of real time and asks for no more than the
// bucket holds, while an unthrottled partition of the same fetcher is never held back.

import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ReplicaFetcher, type FetchPartitionAnswer, type LeaderChannel } from '../../src/cluster/replica-fetcher.js';
import type { PartitionRole } from '../../src/cluster/replica-roles.js';
import { brokerThrottle, followerThrottle } from '../../src/cluster/replication-throttle.js';
import { TokenBucket } from '../../src/cluster/token-bucket.js';
import { decodeReassignmentRequest, encodeValue } from '../../src/cluster/values.js';
import type { ReplicaLog } from '../../src/storage/types.js';

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to one second of it, and is paid back after a debt', () => {
    const bucket = new TokenBucket(1000, 0);
    expect(bucket.availableBytes(0)).toBe(1000);
    bucket.take(1000, 0);
    expect(bucket.availableBytes(0)).toBe(0);
    expect(bucket.availableBytes(250)).toBe(250);
    expect(bucket.availableBytes(5000)).toBe(1000); // capped at the burst
    // A batch larger than what was left: 1500 taken with 1000 held leaves a debt of 500.
    bucket.take(1500, 5000);
    expect(bucket.availableBytes(5000)).toBe(0);
    expect(bucket.msUntilAvailable(5000)).toBe(501);
    expect(bucket.availableBytes(5400)).toBe(0);
    expect(bucket.availableBytes(5600)).toBe(100);
    // Unused reservations come back, never past the burst; an older clock reading adds nothing.
    bucket.giveBack(10_000, 5600);
    expect(bucket.availableBytes(5600)).toBe(1000);
    expect(bucket.availableBytes(100)).toBe(1000);
  });

  it('keeps a debt across a rate change and caps its tokens at the new burst', () => {
    const bucket = new TokenBucket(1000, 0);
    bucket.setRate(100, 0);
    expect(bucket.availableBytes(0)).toBe(100);
    bucket.take(300, 0);
    bucket.setRate(200, 0);
    expect(bucket.msUntilAvailable(0)).toBe(1005);
    expect(bucket.availableBytes(2000)).toBe(200);
    expect(() => new TokenBucket(0, 0)).toThrow(/positive rate/);
  });
});

const role = (isr: number[], kind: 'leader' | 'follower' = 'follower'): PartitionRole =>
  ({ topic: 't', partition: 0, role: kind, leaderId: 1, leaderEpoch: 0, isr, replicas: [1, 2, 3], minInsyncReplicas: 1, leader: null, stateRevision: 1 }) as PartitionRole;

describe('which fetches are throttled', () => {
  it('only a follower out of the ISR of a partition with a pending throttled reassignment', () => {
    const throttled = { replicas: [1, 3], throttleBytesPerSecond: 4096 };
    expect(followerThrottle(throttled, role([1]), 3)).toBe(4096); // the new replica catching up
    expect(followerThrottle(throttled, role([1, 3]), 3)).toBeNull(); // in the ISR: never
    expect(followerThrottle(throttled, role([1], 'leader'), 1)).toBeNull();
    expect(followerThrottle({ replicas: [1, 3] }, role([1]), 3)).toBeNull(); // no --throttle
    expect(followerThrottle(undefined, role([1]), 3)).toBeNull(); // done: the request is gone
    expect(followerThrottle(throttled, undefined, 3)).toBeNull();
  });

  it('the broker rate is the lowest of the throttled requests that name it', () => {
    const requests = [{ replicas: [1, 2], throttleBytesPerSecond: 8192 }, { replicas: [2, 3], throttleBytesPerSecond: 2048 }, { replicas: [2, 3] }];
    expect(brokerThrottle(requests, 2)).toBe(2048);
    expect(brokerThrottle(requests, 1)).toBe(8192);
    expect(brokerThrottle(requests, 4)).toBeNull();
  });

  it('a request decodes with or without a throttle; a bad throttle makes it unreadable', () => {
    expect(decodeReassignmentRequest(encodeValue({ replicas: [1, 2] }))).toEqual({ replicas: [1, 2] });
    expect(decodeReassignmentRequest(encodeValue({ replicas: [1, 2], throttleBytesPerSecond: 1048576 }))).toEqual({ replicas: [1, 2], throttleBytesPerSecond: 1048576 });
    expect(decodeReassignmentRequest(encodeValue({ replicas: [1, 2], throttleBytesPerSecond: 10 }))).toBeNull();
    expect(decodeReassignmentRequest(encodeValue({ replicas: [1, 2], throttleBytesPerSecond: 'fast' }))).toBeNull();
  });
});

/** A log that counts what was appended (one offset per answer) and never asks for truncation. */
function fakeLog(): ReplicaLog {
  const log = {
    logStartOffset: 0,
    logEndOffset: 0,
    highWatermark: 0,
    latestLeaderEpoch: -1,
    truncateTo: () => undefined,
    truncateFullyAndStartAt: () => undefined,
    advanceHighWatermark: () => true,
    appendAsFollower: async () => {
      log.logEndOffset++;
      return {} as never;
    },
  };
  return log as unknown as ReplicaLog;
}

const BATCH_BYTES = 16 * 1024;

/** Always has data: answers whole 16 KiB batches up to maxBytes, at least one; each request takes 10 ms. */
function fakeLeader(asked: Map<string, number[]>): LeaderChannel {
  return {
    offsetsForLeaderEpoch: async () => [],
    replicaFetch: async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return request.partitions.map((entry): FetchPartitionAnswer => {
        asked.set(entry.topic, [...(asked.get(entry.topic) ?? []), entry.maxBytes]);
        const records = Buffer.alloc(Math.max(1, Math.floor(entry.maxBytes / BATCH_BYTES)) * BATCH_BYTES);
        records.writeBigInt64BE(BigInt(entry.fetchOffset), 0);
        return { topic: entry.topic, partition: entry.partition, error: null, records, highWatermark: entry.fetchOffset + 1, logStartOffset: 0, logEndOffset: entry.fetchOffset + 1 };
      });
    },
    close: () => undefined,
  };
}

describe('ReplicaFetcher with a throttle', () => {
  it('holds a throttled partition to its rate while an unthrottled one goes on', async () => {
    const rate = 64 * 1024;
    const bucket = new TokenBucket(rate, performance.now());
    const asked = new Map<string, number[]>();
    const fetcher = new ReplicaFetcher({ channel: fakeLeader(asked), warn: () => undefined, throttle: { bucketFor: (topic) => (topic === 'moving' ? bucket : null) } });
    fetcher.add({ topic: 'moving', partition: 0, log: fakeLog(), leaderEpoch: 0 });
    fetcher.add({ topic: 'in-sync', partition: 0, log: fakeLog(), leaderEpoch: 0 });
    const startedMs = performance.now();
    fetcher.start();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const elapsedMs = performance.now() - startedMs;
    await fetcher.stop();
    const throttledBytes = fetcher.countersOf('moving', 0)?.appendedBatchBytes ?? 0;
    const freeBytes = fetcher.countersOf('in-sync', 0)?.appendedBatchBytes ?? 0;
    // Whole-batch answers: at least one batch over what was asked, paid back as a debt.
    expect(throttledBytes).toBeLessThanOrEqual(rate * (elapsedMs / 1000) + rate + BATCH_BYTES);
    expect(throttledBytes).toBeGreaterThanOrEqual(rate); // the burst at least
    expect(Math.max(...asked.get('moving')!)).toBeLessThanOrEqual(rate);
    expect(asked.get('in-sync')!.every((maxBytes) => maxBytes === 1024 * 1024)).toBe(true);
    expect(freeBytes).toBeGreaterThan(throttledBytes * 4);
    expect(fetcher.counters.throttledSkips).toBeGreaterThan(0);
  });
});
