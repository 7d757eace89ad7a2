// Proves the share-partition state machine (src/groups/share-partition.ts) with time
// passed in explicitly: acquisition from batch spans splits work between members, the
// in-flight window bounds acquisition, accept moves the start offset, release/renew/reject
// and lock expiry behave as documented, the delivery limit archives a record into the
// dead letters (handed out alone near the limit), acknowledgements by a member that does
// not hold a record are refused without changing anything, and the durable runs restore
// the same state (acquired records come back Available with their delivery count).

import { describe, expect, it } from 'vitest';
import { AcknowledgeType, ShareDefaults, SharePartition, ShareRecordState, type SharePartitionLimits } from '../../src/groups/share-partition.js';
import { Errors } from '../../src/util/errors.js';

const limits: SharePartitionLimits = { maxInFlightRecords: 10, lockDurationMs: 1_000, deliveryLimit: 5 };
const batches = [
  { baseOffset: 0, lastOffset: 4 },
  { baseOffset: 5, lastOffset: 9 },
  { baseOffset: 10, lastOffset: 19 },
];

function partition(): SharePartition {
  return new SharePartition('t', 0, limits);
}

describe('share partition', () => {
  it('hands disjoint ranges to members and accept moves the start offset', () => {
    const p = partition();
    expect(p.acquire('a', batches, 3, 0)).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    expect(p.acquire('b', batches, 3, 0)).toEqual([{ firstOffset: 3, lastOffset: 5, deliveryCount: 1 }]);
    expect(p.acknowledge('b', { firstOffset: 3, lastOffset: 5, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    expect(p.startOffset).toBe(0);
    expect(p.acknowledge('a', { firstOffset: 0, lastOffset: 2, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    expect(p.startOffset).toBe(6);
    expect(p.inFlightCount()).toBe(0);
  });

  it('never holds more than the in-flight window', () => {
    const p = partition();
    expect(p.acquire('a', batches, 100, 0)).toEqual([{ firstOffset: 0, lastOffset: 9, deliveryCount: 1 }]);
    expect(p.acquire('b', batches, 100, 0)).toEqual([]);
    expect(p.nextFetchOffset(0)).toBeUndefined();
    p.acknowledge('a', { firstOffset: 0, lastOffset: 1, type: AcknowledgeType.ACCEPT }, 0);
    expect(p.acquire('b', batches, 100, 0)).toEqual([{ firstOffset: 10, lastOffset: 11, deliveryCount: 1 }]);
  });

  it('refuses acknowledgements of records the member does not hold, changing nothing', () => {
    const p = partition();
    p.acquire('a', batches, 3, 0);
    const result = p.acknowledge('b', { firstOffset: 0, lastOffset: 0, type: AcknowledgeType.ACCEPT }, 0);
    expect(result).toMatchObject({ error: Errors.INVALID_RECORD_STATE });
    const partial = p.acknowledge('a', { firstOffset: 1, lastOffset: 5, type: AcknowledgeType.ACCEPT }, 0);
    expect(partial).toMatchObject({ error: Errors.INVALID_RECORD_STATE });
    expect(p.acquiredCount()).toBe(3);
  });

  it('release makes a record available again (after its delay) with the next delivery count', () => {
    const p = partition();
    p.acquire('a', batches, 2, 0);
    p.acknowledge('a', { firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, delayMs: 500 }, 0);
    p.acknowledge('a', { firstOffset: 1, lastOffset: 1, type: AcknowledgeType.ACCEPT }, 0);
    expect(p.acquire('b', batches, 1, 100)).toEqual([{ firstOffset: 2, lastOffset: 2, deliveryCount: 1 }]);
    expect(p.acquire('b', batches, 1, 500)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
  });

  it('renew extends the lock; an expired lock releases the record to others', () => {
    const p = partition();
    p.acquire('a', batches, 2, 0);
    p.acknowledge('a', { firstOffset: 1, lastOffset: 1, type: AcknowledgeType.RENEW }, 900);
    expect(p.expireLocks(999).released).toBe(0);
    const expired = p.expireLocks(1_000);
    expect(expired.released).toBe(1);
    expect(expired.nextDeadlineMs).toBe(1_900);
    expect(p.acknowledge('a', { firstOffset: 0, lastOffset: 0, type: AcknowledgeType.ACCEPT }, 1_000)).toMatchObject({
      error: Errors.INVALID_RECORD_STATE,
    });
    expect(p.acquire('b', batches, 1, 1_000)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
    expect(p.acknowledge('a', { firstOffset: 1, lastOffset: 1, type: AcknowledgeType.ACCEPT }, 1_500)).toEqual([]);
  });

  it('reject archives at once into the dead letters with the error text', () => {
    const p = partition();
    p.acquire('a', batches, 1, 0);
    expect(p.acknowledge('a', { firstOffset: 0, lastOffset: 0, type: AcknowledgeType.REJECT, error: 'bad json' }, 0)).toEqual([
      { offset: 0, deliveryCount: 1, lastError: 'bad json' },
    ]);
    expect(p.startOffset).toBe(1);
  });

  it('a record released at the delivery limit is dead-lettered; near the limit it is handed out alone', () => {
    const p = partition();
    let now = 0;
    for (let delivery = 1; delivery <= 5; delivery++) {
      const ranges = p.acquire('a', batches, 3, now);
      expect(ranges[0]).toEqual({ firstOffset: 0, lastOffset: delivery === 1 ? 2 : 0, deliveryCount: delivery });
      // The last two deliveries (4 and 5 of 5) carry the record alone.
      if (delivery >= 4) expect(ranges).toHaveLength(1);
      else expect(ranges.length).toBeGreaterThan(delivery === 1 ? 0 : 1);
      // Neighbours are accepted on their first delivery; offset 0 always fails.
      if (delivery === 1) p.acknowledge('a', { firstOffset: 1, lastOffset: 2, type: AcknowledgeType.ACCEPT }, now);
      const dead = p.acknowledge('a', { firstOffset: 0, lastOffset: 0, type: AcknowledgeType.RELEASE, error: `boom ${delivery}` }, now);
      expect(dead).toEqual(delivery === 5 ? [{ offset: 0, deliveryCount: 5, lastError: 'boom 5' }] : []);
      now += 10;
    }
    expect(p.startOffset).toBe(3);
    expect(p.deliveryCounts().get(1)).toBe(4); // offsets 3..6 still held on their first delivery
  });

  it('lock expiry at the delivery limit dead-letters too', () => {
    const p = new SharePartition('t', 0, { ...limits, deliveryLimit: 2 });
    p.acquire('a', batches, 1, 0);
    p.expireLocks(1_000);
    p.acquire('a', batches, 1, 1_000);
    expect(p.expireLocks(2_000).dead).toEqual([{ offset: 0, deliveryCount: 2, lastError: 'acquisition lock expired' }]);
  });

  it('restores from its durable runs, acquired records available again', () => {
    const p = partition();
    p.acquire('a', batches, 6, 0);
    p.acknowledge('a', { firstOffset: 0, lastOffset: 1, type: AcknowledgeType.ACCEPT }, 0);
    p.acknowledge('a', { firstOffset: 3, lastOffset: 3, type: AcknowledgeType.ACCEPT }, 0);
    p.acknowledge('a', { firstOffset: 4, lastOffset: 4, type: AcknowledgeType.RELEASE }, 0);
    const runs = p.stateRuns();
    expect(runs).toEqual([
      { firstOffset: 2, lastOffset: 2, state: ShareRecordState.AVAILABLE, deliveryCount: 1 },
      { firstOffset: 3, lastOffset: 3, state: ShareRecordState.ACKNOWLEDGED, deliveryCount: 1 },
      { firstOffset: 4, lastOffset: 5, state: ShareRecordState.AVAILABLE, deliveryCount: 1 },
    ]);
    const restored = partition();
    restored.restore(p.startOffset, runs);
    expect(restored.acquire('b', batches, 100, 0)).toEqual([
      { firstOffset: 2, lastOffset: 2, deliveryCount: 2 },
      { firstOffset: 4, lastOffset: 5, deliveryCount: 2 },
      { firstOffset: 6, lastOffset: 11, deliveryCount: 1 },
    ]);
  });

  it('releases what a member holds when it leaves', () => {
    const p = partition();
    p.acquire('a', batches, 2, 0);
    p.releaseMember('a', 0);
    expect(p.acquire('b', batches, 5, 0)).toEqual([
      { firstOffset: 0, lastOffset: 1, deliveryCount: 2 },
      { firstOffset: 2, lastOffset: 4, deliveryCount: 1 },
    ]);
  });

  it('keeps each offset\'s state, owner and error text while its arrays grow past 64 slots and wrap around', () => {
    const p = new SharePartition('t', 0, { maxInFlightRecords: 200, lockDurationMs: 1_000, deliveryLimit: 5 });
    const wide = [{ baseOffset: 0, lastOffset: 9_999 }];
    expect(p.acquire('a', wide, 100, 0)).toEqual([{ firstOffset: 0, lastOffset: 99, deliveryCount: 1 }]);
    expect(p.acquire('b', wide, 100, 0)).toEqual([{ firstOffset: 100, lastOffset: 199, deliveryCount: 1 }]);
    expect(p.acknowledge('a', { firstOffset: 0, lastOffset: 99, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    // 200..299 land in the slots 0..99 had (256 slots: 256..299 wrap to 0..43).
    expect(p.acquire('a', wide, 100, 0)).toEqual([{ firstOffset: 200, lastOffset: 299, deliveryCount: 1 }]);
    expect(p.acknowledge('b', { firstOffset: 100, lastOffset: 149, type: AcknowledgeType.RELEASE, error: 'x' }, 0)).toEqual([]);
    expect(p.acknowledge('b', { firstOffset: 150, lastOffset: 199, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    expect(p.acknowledge('b', { firstOffset: 260, lastOffset: 260, type: AcknowledgeType.ACCEPT }, 0)).toMatchObject({ error: Errors.INVALID_RECORD_STATE });
    expect(p.stateRuns()).toEqual([
      { firstOffset: 100, lastOffset: 149, state: ShareRecordState.AVAILABLE, deliveryCount: 1 },
      { firstOffset: 150, lastOffset: 199, state: ShareRecordState.ACKNOWLEDGED, deliveryCount: 1 },
      { firstOffset: 200, lastOffset: 299, state: ShareRecordState.AVAILABLE, deliveryCount: 1 },
    ]);
    // The window ends at start + 200 = 300: only the released records are left to acquire.
    expect(p.acquire('c', wide, 100, 0)).toEqual([{ firstOffset: 100, lastOffset: 149, deliveryCount: 2 }]);
    expect(p.acknowledge('c', { firstOffset: 100, lastOffset: 100, type: AcknowledgeType.REJECT }, 0)).toEqual([{ offset: 100, deliveryCount: 2, lastError: 'x' }]);
    expect(p.acknowledge('a', { firstOffset: 200, lastOffset: 299, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    expect(p.acknowledge('c', { firstOffset: 101, lastOffset: 149, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    expect(p.startOffset).toBe(300);
    expect(p.acquire('a', wide, 300, 0)).toEqual([{ firstOffset: 300, lastOffset: 499, deliveryCount: 1 }]);
    expect(p.acquiredBy('a')).toHaveLength(200);
    expect(p.holdsAny('b')).toBe(false);
  });

  it('by default leaves room for a member whose acknowledged records are not the lowest (four members of 500)', () => {
    const p = new SharePartition('t', 0, { ...ShareDefaults, lockDurationMs: 1_000 });
    const wide = [{ baseOffset: 0, lastOffset: 99_999 }];
    for (const member of ['a', 'b', 'c', 'd']) expect(p.acquire(member, wide, 500, 0)).toHaveLength(1);
    expect(p.acknowledge('b', { firstOffset: 500, lastOffset: 999, type: AcknowledgeType.ACCEPT }, 0)).toEqual([]);
    expect(p.startOffset).toBe(0); // a still holds 0..499
    // With a window of 4 x 500 this waited for a (lockstep); the default window has room.
    expect(p.acquire('b', wide, 500, 0)).toEqual([{ firstOffset: 2_000, lastOffset: 2_499, deliveryCount: 1 }]);
  });
});
