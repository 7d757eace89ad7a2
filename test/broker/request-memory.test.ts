// RequestMemoryPool's rules, unit by unit: below capacity everyone reads; at capacity a
// user with no partial frame still reads, one user mid-frame gets the overdraft and the
// others wait; completing a frame hands the overdraft to the next waiter; releasing bytes
// below capacity wakes the waiters; a closed user is forgotten; held bytes never go negative.
import { describe, expect, it } from 'vitest';
import { RequestMemoryPool, type RequestMemoryUser } from '../../src/broker/request-memory.js';

function user(): RequestMemoryUser & { woken: number } {
  return {
    woken: 0,
    onRequestMemoryAvailable() {
      this.woken++;
    },
  };
}

describe('RequestMemoryPool', () => {
  it('lets everyone read below capacity and users with no partial frame at capacity', () => {
    const pool = new RequestMemoryPool(100);
    const a = user();
    expect(pool.mayRead(a, true)).toBe(true);
    pool.adjust(100);
    expect(pool.exhausted).toBe(true);
    expect(pool.mayRead(a, false)).toBe(true);
  });

  it('gives one overdraft at a time and hands it on when the frame completes', () => {
    const pool = new RequestMemoryPool(100);
    const [a, b, c] = [user(), user(), user()];
    pool.adjust(150);
    expect(pool.mayRead(a, true)).toBe(true); // a holds the overdraft
    expect(pool.mayRead(b, true)).toBe(false);
    expect(pool.mayRead(c, true)).toBe(false);
    expect(pool.mayRead(a, true)).toBe(true);
    pool.frameCompleted(b); // not the holder: nothing changes
    expect(b.woken).toBe(0);
    pool.frameCompleted(a);
    expect([b.woken, c.woken]).toEqual([1, 1]);
    expect(pool.mayRead(b, true)).toBe(true); // b asked first after the wake
    expect(pool.mayRead(c, true)).toBe(false);
    expect(pool.mayRead(a, true)).toBe(false);
  });

  it('wakes waiters once bytes drop below capacity, and forgets closed users', () => {
    const pool = new RequestMemoryPool(100);
    const [a, b, c] = [user(), user(), user()];
    pool.adjust(120);
    expect(pool.mayRead(a, true)).toBe(true);
    expect(pool.mayRead(b, true)).toBe(false);
    expect(pool.mayRead(c, true)).toBe(false);
    pool.forget(c);
    pool.adjust(-10); // 110: still exhausted, no wake
    expect(b.woken).toBe(0);
    pool.adjust(-20); // 90
    expect(b.woken).toBe(1);
    expect(c.woken).toBe(0);
    expect(pool.mayRead(b, true)).toBe(true);
    expect(() => pool.adjust(-1000)).toThrow(/never negative/);
  });
});
