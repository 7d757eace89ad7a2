// Proves the automatic rebalance's choice (controller.ts partitionsToRebalance, pure) against
// Kafka's rule: per broker, the share of partitions whose preferred replica it is that another
// broker leads; only above leader.imbalance.per.broker.percentage (strictly) are its
// partitions moved back, and only those where it is live, in the ISR and no reassignment is
// pending. Table cases, no etcd.

import { describe, expect, it } from 'vitest';
import { partitionsToRebalance } from '../../src/cluster/controller.js';

const entry = (partition: number, replicas: number[], leader: number, isr = replicas, reassigning = false) => ({ topic: 't', partition, replicas, leader, isr, reassigning });

describe('partitionsToRebalance', () => {
  it('moves back only the partitions of brokers above the threshold', () => {
    // Broker 1 prefers 10 partitions, 1 led elsewhere (10%: not above 10); broker 2 prefers 4, 1 led elsewhere (25%).
    const partitions = [
      ...Array.from({ length: 9 }, (_, p) => entry(p, [1, 2, 3], 1)),
      entry(9, [1, 2, 3], 2),
      ...Array.from({ length: 3 }, (_, p) => entry(10 + p, [2, 3, 1], 2)),
      entry(13, [2, 3, 1], 3),
    ];
    expect(partitionsToRebalance(partitions, new Set([1, 2, 3]), 10)).toEqual([{ topic: 't', partition: 13, preferred: 2 }]);
    expect(partitionsToRebalance(partitions, new Set([1, 2, 3]), 9)).toEqual([
      { topic: 't', partition: 9, preferred: 1 },
      { topic: 't', partition: 13, preferred: 2 },
    ]);
    expect(partitionsToRebalance(partitions, new Set([1, 2, 3]), 100)).toEqual([]);
  });

  it('skips a preferred replica that is not live, not in the ISR, or under reassignment', () => {
    const partitions = [entry(0, [1, 2], 2, [2]), entry(1, [1, 2], 2, [1, 2], true), entry(2, [1, 2], 2), entry(3, [3, 2], 2)];
    // Broker 1: 3 of 3 not led (above any threshold); only partition 2 can be taken back. Broker 3 is not live.
    expect(partitionsToRebalance(partitions, new Set([1, 2]), 10)).toEqual([{ topic: 't', partition: 2, preferred: 1 }]);
  });

  it('counts an offline partition (leader -1) as not led by its preferred replica', () => {
    expect(partitionsToRebalance([entry(0, [1, 2], -1, [1])], new Set([1, 2]), 10)).toEqual([{ topic: 't', partition: 0, preferred: 1 }]);
  });
});
