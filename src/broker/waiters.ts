// The registry of parked (long-poll) fetches, keyed by topic-partition. The produce path
// calls notify(topic, partition) after an append; a parked fetch is then re-run in a
// microtask (long-poll.ts), once the appending request has been handled, so the appends of
// one request wake it once. No
// timers here and no polling: each parked fetch owns its own maxWaitMs timer.

export interface ParkedFetch {
  /** Called (at most once per turn) when one of its partitions got data or the broker stops. */
  wake(): void;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class FetchWaiters {
  private readonly byPartition = new Map<string, Set<ParkedFetch>>();
  private readonly keysOf = new Map<ParkedFetch, string[]>();

  constructor(readonly maxParked: number) {}

  get parkedCount(): number {
    return this.keysOf.size;
  }

  /** Parks a fetch on partition keys; false when the broker already holds maxParked. */
  park(waiter: ParkedFetch, keys: string[]): boolean {
    if (this.keysOf.size >= this.maxParked) return false;
    this.keysOf.set(waiter, keys);
    for (const key of keys) {
      let set = this.byPartition.get(key);
      if (!set) this.byPartition.set(key, (set = new Set()));
      set.add(waiter);
    }
    return true;
  }

  unpark(waiter: ParkedFetch): void {
    const keys = this.keysOf.get(waiter);
    if (!keys) return;
    this.keysOf.delete(waiter);
    for (const key of keys) {
      const set = this.byPartition.get(key);
      if (!set) continue;
      set.delete(waiter);
      if (set.size === 0) this.byPartition.delete(key);
    }
  }

  notify(topic: string, partition: number): void {
    const set = this.byPartition.get(partitionKey(topic, partition));
    if (!set) return;
    for (const waiter of [...set]) waiter.wake();
  }

  /** Wakes every fetch parked on any partition of `topic` (it was deleted). */
  notifyTopic(topic: string): void {
    const prefix = `${topic}\u0000`;
    for (const [key, set] of [...this.byPartition]) {
      if (key.startsWith(prefix)) for (const waiter of [...set]) waiter.wake();
    }
  }

  /** Wakes every parked fetch (shutdown). */
  wakeAll(): void {
    for (const waiter of [...this.keysOf.keys()]) waiter.wake();
  }
}
