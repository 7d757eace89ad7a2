// Proves the benchmarks' fixed-rate pacer (bench/harness/pacer.ts): every message index is
// released once, in order, never before its scheduled time, over about the scheduled span,
// by the worker-thread pacer and by the old timer loop; and a stop ends the schedule early.
// Times are not asserted beyond "not early" and a loose upper bound (the CI box is shared).

import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { pace, type PacerKind } from '../../bench/harness/pacer.js';

describe.each(['worker', 'timer'] as PacerKind[])('pace (%s)', (kind) => {
  it('releases each message once, in order, not before its scheduled time', async () => {
    const released: number[] = [];
    let early = 0;
    const run = pace(
      {
        ratePerSec: 2000,
        total: 100,
        stopped: () => false,
        send(index, scheduledMs) {
          released.push(index);
          if (performance.now() < scheduledMs) early++;
        },
      },
      kind,
    );
    expect(await run.done).toBe(100);
    expect(released).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(early).toBe(0);
    const spanMs = performance.now() - run.startMs;
    expect(spanMs).toBeGreaterThanOrEqual(49); // message 99 is due at 49.5 ms
    expect(spanMs).toBeLessThan(10_000);
  });

  it('stops when told to', async () => {
    let sent = 0;
    const run = pace({ ratePerSec: 1000, total: 10_000, stopped: () => sent >= 5, send: () => void sent++ }, kind);
    const done = await run.done;
    expect(done).toBeGreaterThanOrEqual(5);
    expect(done).toBeLessThan(10_000);
  });
});
