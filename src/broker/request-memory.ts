// The broker-wide budget for request bytes held in memory (Kafka's queued.max.request.bytes):
// bytes of partial frames being read plus frames read but not yet dispatched, over every
// connection. Connections report what they hold after each read and each dispatch.
//
// When the pool is exhausted (held >= capacity):
// - a connection in the middle of a frame stops reading, except one: the pool lets one
//   connection at a time (the overdraft holder) finish the frame it is reading, so frames
//   larger than what is left, or larger than the whole pool, still complete and nothing
//   deadlocks (every connection holding a partial frame and waiting for another to
//   finish). The overdraft ends when the holder completes a frame or closes; the next
//   waiting connection gets it.
// - a connection holding no partial frame may still read: one read is at most one socket
//   chunk (64 KiB), its complete frames are dispatched at once and release their bytes,
//   so small requests keep being served while large ones wait.
// Bytes held are therefore at most the capacity, plus one frame (the overdraft), plus one
// chunk per connection. A partial frame that stalls holds its bytes until the read timeout
// closes its connection (see connection-reaper.ts).

import { assert } from '../util/assert.js';

/** A connection as the pool sees it. */
export interface RequestMemoryUser {
  /** The pool has room again (or the overdraft is free): re-check whether to read. */
  onRequestMemoryAvailable(): void;
}

export class RequestMemoryPool {
  private held = 0;
  private overdraftHolder: RequestMemoryUser | null = null;
  /** Users paused by the pool, in the order they paused. */
  private readonly waiting = new Set<RequestMemoryUser>();

  constructor(readonly capacityBytes: number) {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes > 0, 'the request memory capacity is a positive integer');
  }

  get heldBytes(): number {
    return this.held;
  }

  get exhausted(): boolean {
    return this.held >= this.capacityBytes;
  }

  /** Counts bytes a user now holds (positive) or no longer holds (negative). */
  adjust(deltaBytes: number): void {
    this.held += deltaBytes;
    assert(this.held >= 0, 'request memory held is never negative');
    if (deltaBytes < 0 && !this.exhausted) this.wake();
  }

  /**
   * Whether `user` may read now. A user told no is remembered and called back through
   * onRequestMemoryAvailable when that may change.
   */
  mayRead(user: RequestMemoryUser, midFrame: boolean): boolean {
    if (!this.exhausted || !midFrame || this.overdraftHolder === user) {
      this.waiting.delete(user);
      return true;
    }
    if (this.overdraftHolder === null) {
      this.overdraftHolder = user;
      this.waiting.delete(user);
      return true;
    }
    this.waiting.add(user);
    return false;
  }

  /** `user` completed a frame: its overdraft (if any) goes to the next waiting user. */
  frameCompleted(user: RequestMemoryUser): void {
    if (this.overdraftHolder !== user) return;
    this.overdraftHolder = null;
    this.wake();
  }

  /** `user` closed; its bytes must already be returned through adjust. */
  forget(user: RequestMemoryUser): void {
    this.waiting.delete(user);
    this.frameCompleted(user);
  }

  private wake(): void {
    if (this.waiting.size === 0) return;
    // A woken user that still may not read adds itself back (at the end: round robin).
    const woken = [...this.waiting];
    this.waiting.clear();
    for (const user of woken) user.onRequestMemoryAvailable();
  }
}
