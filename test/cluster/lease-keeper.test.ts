// Proves LeaseKeeper's safety bound with fake timers and a scripted store: the lease counts as
// valid until (send time of the last answered keep-alive) + TTL — not the answer's arrival
// time — so a leader never believes in a lease etcd may already have expired; 'lost' fires at
// that instant when renewals fail, 'renewed' when a later renewal succeeds, 'expired' (and no
// lease id) when etcd answers TTL 0; at most one renewal is in flight.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from '../../src/cluster/lease-keeper.js';
import { ManualClock } from '../../src/util/clock.js';
import type { ClusterStore } from '../../src/cluster/store.js';

interface Pending {
  resolve(ttlSeconds: number): void;
  reject(error: Error): void;
}

function scriptedStore(): { store: ClusterStore; pending: Pending[] } {
  const pending: Pending[] = [];
  const unused = (): never => {
    throw new Error('not used');
  };
  const store: ClusterStore = {
    get: unused, list: unused, put: unused, delete: unused, transaction: unused, watchPrefix: unused, close: unused,
    grantLease: async () => '42',
    keepAliveOnce: () => new Promise<number>((resolve, reject) => pending.push({ resolve, reject })),
    revokeLease: async () => {},
  };
  return { store, pending };
}

let clock: ManualClock;
beforeEach(() => {
  vi.useFakeTimers();
  clock = new ManualClock();
});
afterEach(() => vi.useRealTimers());

/** Advance the fake timers and the manual clock together. */
async function advance(ms: number): Promise<void> {
  for (let step = 0; step < ms; step += 50) {
    clock.advance(50);
    await vi.advanceTimersByTimeAsync(50);
  }
}

describe('LeaseKeeper', () => {
  it('measures validity from the send time, loses, renews and expires', async () => {
    const { store, pending } = scriptedStore();
    const keeper = new LeaseKeeper(store, { ttlMs: 4_000, clock });
    const events: string[] = [];
    keeper.on('lost', () => events.push(`lost@${clock.monotonicMs()}`));
    keeper.on('renewed', () => events.push(`renewed@${clock.monotonicMs()}`));
    keeper.on('expired', () => events.push(`expired@${clock.monotonicMs()}`));
    await keeper.grant();
    expect(keeper.validUntilMs).toBe(4_000);

    // The renewal sent at 1000 is answered at 1900: valid until 1000 + 4000, not 1900 + 4000.
    await advance(1_000);
    expect(pending).toHaveLength(1);
    await advance(900);
    pending.shift()!.resolve(4);
    await advance(50);
    expect(keeper.validUntilMs).toBe(5_000);

    // One in flight at a time: the renewal sent at 2000 hangs, later ticks send nothing.
    await advance(2_100);
    expect(pending).toHaveLength(1);
    expect(keeper.isValid()).toBe(true);
    await advance(900); // 4950
    expect(keeper.isValid()).toBe(true);
    await advance(50); // 5000
    expect(keeper.isValid()).toBe(false);
    expect(events).toEqual(['lost@5000']);

    // etcd answers at last: the lease survived.
    pending.shift()!.reject(new Error('deadline'));
    await advance(1_000);
    pending.shift()!.resolve(4);
    await advance(50);
    expect(events).toEqual(['lost@5000', 'renewed@6050']);
    expect(keeper.isValid()).toBe(true);

    // etcd says the lease is gone.
    await advance(1_000);
    pending.shift()!.resolve(0);
    await advance(50);
    expect(events.at(-1)).toMatch(/^expired@/);
    expect(keeper.leaseId).toBeNull();
    expect(keeper.isValid()).toBe(false);
    keeper.stop();
  });
});
