// Proves `npx tsx bench/cluster.ts --tiny` works end to end (CI smoke of the cluster bench):
// etcd and three real `spool serve --cluster` brokers started by the bench harness, W1 with
// acks=all and RF 3 answers every batch without error, a share group drains a 3-partition
// topic whose leaders are different brokers, the leader's kill -9 is followed by a
// new leader within TTL + 2 s and a first acks=all answer from it, the checker finds nothing
// lost, and the table prints. Numbers are not asserted beyond that (the machine is shared).
// Run `npm run build` first.

import { describe, expect, it } from 'vitest';
import { formatClusterBench, runClusterBench, TINY } from '../../bench/harness/cluster-bench.js';

describe('bench/cluster.ts --tiny', () => {
  it('measures W1 acks=all RF 3 and failover on a 3-broker cluster', async () => {
    const options = { ...TINY, messages: 10_000 };
    const result = await runClusterBench(options);
    expect(result.w1, `W1 errors: ${result.w1.errorSamples.join('; ')}`).toMatchObject({ messages: 10_000, errors: 0 });
    expect(result.w1.msgsPerSec).toBeGreaterThan(0);
    expect(result.share).toMatchObject({ messages: TINY.shareMessages, consumers: TINY.shareConsumers });
    expect(new Set(result.share.leaders).size).toBeGreaterThan(1);
    expect(result.failover.lost).toBe(0);
    expect(result.failover.newLeaderMs).toBeLessThan(options.leaseTtlMs + 2_000);
    expect(result.failover.firstAckMs).toBeLessThan(options.leaseTtlMs + 5_000);
    expect(formatClusterBench(result, options)).toContain('W1 acks=all RF 3');
  }, 45_000);
});
