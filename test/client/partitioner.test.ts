// Proves the sticky partitioner for null keys: it keeps one partition per topic until a
// batch of that partition closes, then moves to a different one, and stays in range;
// uses a seeded random source so the choices are deterministic.
import { describe, expect, it } from 'vitest';
import { StickyPartitioner } from '../../src/client/partitioner.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('StickyPartitioner', () => {
  it('sticks to one partition until its batch closes, then moves elsewhere', () => {
    const sticky = new StickyPartitioner(seeded(1));
    const first = sticky.partition('t', 6);
    for (let index = 0; index < 100; index++) expect(sticky.partition('t', 6)).toBe(first);
    sticky.batchClosed('t', first, 6);
    const second = sticky.partition('t', 6);
    expect(second).not.toBe(first);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).toBeLessThan(6);
  });

  it('ignores closed batches of other partitions and keeps topics apart', () => {
    const sticky = new StickyPartitioner(seeded(2));
    const a = sticky.partition('a', 4);
    const b = sticky.partition('b', 4);
    sticky.batchClosed('a', (a + 1) % 4, 4);
    expect(sticky.partition('a', 4)).toBe(a);
    sticky.batchClosed('a', a, 4);
    expect(sticky.partition('b', 4)).toBe(b);
  });

  it('spreads over all partitions as batches close', () => {
    const sticky = new StickyPartitioner(seeded(3));
    const seen = new Set<number>();
    for (let index = 0; index < 200; index++) {
      const partition = sticky.partition('t', 5);
      seen.add(partition);
      sticky.batchClosed('t', partition, 5);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('stays on partition 0 with one partition, and re-picks when the count shrinks', () => {
    const sticky = new StickyPartitioner(seeded(4));
    expect(sticky.partition('t', 1)).toBe(0);
    sticky.batchClosed('t', 0, 1);
    expect(sticky.partition('t', 1)).toBe(0);
    const wide = new StickyPartitioner(() => 0.99);
    expect(wide.partition('u', 10)).toBe(9);
    expect(wide.partition('u', 3)).toBeLessThan(3);
  });
});
