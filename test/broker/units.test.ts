// Proves the broker's small pure pieces: the fetch-waiter registry (park, notify by
// partition and by topic, unpark, the parked bound, wake-all) and the option parsing
// (--fsync modes, limits), without sockets.

import { describe, expect, it } from 'vitest';
import { FetchWaiters, partitionKey } from '../../src/broker/waiters.js';
import { parseFsyncPolicy, resolveOptions } from '../../src/broker/options.js';

function waiter(): { wakes: number; wake(): void } {
  return {
    wakes: 0,
    wake() {
      this.wakes++;
    },
  };
}

describe('FetchWaiters', () => {
  it('wakes the fetches parked on a partition, and only those', () => {
    const waiters = new FetchWaiters(10);
    const a = waiter();
    const b = waiter();
    expect(waiters.park(a, [partitionKey('t', 0), partitionKey('t', 1)])).toBe(true);
    expect(waiters.park(b, [partitionKey('t', 1), partitionKey('u', 0)])).toBe(true);
    waiters.notify('t', 0);
    expect([a.wakes, b.wakes]).toEqual([1, 0]);
    waiters.notify('t', 1);
    expect([a.wakes, b.wakes]).toEqual([2, 1]);
    waiters.notifyTopic('u');
    expect([a.wakes, b.wakes]).toEqual([2, 2]);
    waiters.unpark(a);
    waiters.notify('t', 1);
    expect([a.wakes, b.wakes]).toEqual([2, 3]);
    waiters.wakeAll();
    expect([a.wakes, b.wakes]).toEqual([2, 4]);
    waiters.unpark(b);
    expect(waiters.parkedCount).toBe(0);
  });

  it('refuses to park beyond its bound', () => {
    const waiters = new FetchWaiters(1);
    expect(waiters.park(waiter(), [partitionKey('t', 0)])).toBe(true);
    expect(waiters.park(waiter(), [partitionKey('t', 0)])).toBe(false);
    expect(waiters.parkedCount).toBe(1);
  });

  it('does not confuse topics whose names share a prefix', () => {
    const waiters = new FetchWaiters(10);
    const a = waiter();
    waiters.park(a, [partitionKey('orders-1', 0)]);
    waiters.notifyTopic('orders');
    waiters.notify('orders', 10);
    expect(a.wakes).toBe(0);
  });
});

describe('options', () => {
  it('parses --fsync', () => {
    expect(parseFsyncPolicy('always')).toEqual({ kind: 'always' });
    expect(parseFsyncPolicy('never')).toEqual({ kind: 'never' });
    expect(parseFsyncPolicy('250')).toEqual({ kind: 'interval', intervalMs: 250 });
    for (const bad of ['0', '-5', '1.5', 'sometimes', '']) expect(() => parseFsyncPolicy(bad)).toThrow(RangeError);
  });

  it('applies defaults and rejects bad limits', () => {
    const resolved = resolveOptions({ dataDir: '/tmp/x' });
    expect(resolved).toMatchObject({
      host: '127.0.0.1',
      port: 9400,
      fsync: { kind: 'interval', intervalMs: 1000 },
      autoCreateTopics: false,
      defaultPartitions: 1,
      maxRequestBytes: 100 * 1024 * 1024,
    });
    expect(() => resolveOptions({ dataDir: '/tmp/x', port: 70000 })).toThrow(RangeError);
    expect(() => resolveOptions({ dataDir: '/tmp/x', defaultPartitions: 0 })).toThrow(RangeError);
    expect(() => resolveOptions({ dataDir: '/tmp/x', maxRequestBytes: 2 ** 33 })).toThrow(RangeError);
  });
});
