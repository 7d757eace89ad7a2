// Proves every micro-benchmark in bench/micro still runs: each is registered and run a couple
// of iterations in tiny mode. No numbers are asserted; performance is measured in bench/.

import { describe, expect, it } from 'vitest';
import { runMicro } from '../../bench/micro.js';

describe('micro-benchmarks (tiny mode)', () => {
  it('all run without errors', async () => {
    const bench = await runMicro({ tiny: true });
    for (const task of bench.tasks) expect(task.result.state, task.name).toBe('completed');
  });
});
