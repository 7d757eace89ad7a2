// Chooses the partition of a message: an explicit partition wins; a key is hashed with
// Kafka's murmur2 (toPositive(murmur2(keyBytes)) % numPartitions); a null key goes to the
// sticky partition, which stays the same until the producer closes a batch for it
// (KIP-480: fewer, fuller batches than round robin, still spread over time).

import { murmur2, toPositive } from './murmur2.js';

/** The partition Kafka's default partitioner picks for a (non-null) key. */
export function partitionForKey(key: Buffer | string, numPartitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return toPositive(murmur2(bytes)) % numPartitions;
}

/**
 * The partition of a null-key message per topic. `partition(topic, n)` returns the
 * current sticky choice; `batchClosed(topic, partition)` moves on to another partition
 * (random among the others, as Kafka does) when the batch of the sticky one is closed.
 */
export class StickyPartitioner {
  private readonly current = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  partition(topic: string, numPartitions: number): number {
    const chosen = this.current.get(topic);
    if (chosen !== undefined && chosen < numPartitions) return chosen;
    const next = Math.floor(this.random() * numPartitions);
    this.current.set(topic, next);
    return next;
  }

  /** Called when a batch of `partition` is closed: the next null-key message goes elsewhere. */
  batchClosed(topic: string, partition: number, numPartitions: number): void {
    if (this.current.get(topic) !== partition) return;
    if (numPartitions <= 1) return;
    // A different partition, uniformly among the other numPartitions - 1.
    const offset = 1 + Math.floor(this.random() * (numPartitions - 1));
    this.current.set(topic, (partition + offset) % numPartitions);
  }
}
