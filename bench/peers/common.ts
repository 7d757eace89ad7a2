// Pieces the peer targets share: resolving publish calls as cumulative acknowledgements
// arrive (NATS PubAcks, RabbitMQ publish confirms), and reporting replayed messages to the
// harness in groups (NATS, RabbitMQ, spool).

import type { ReplayRequest } from '../harness/workloads.js';

/** Resolves publish() calls in order as the count of acknowledgements passes their end. */
export class AckTracker {
  private sent = 0;
  private acked = 0;
  private failure: Error | undefined;
  private readonly waiting: Array<{ end: number; resolve: () => void; reject: (error: Error) => void }> = [];

  expect(count: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.sent += count;
    const end = this.sent;
    return new Promise((resolve, reject) => this.waiting.push({ end, resolve, reject }));
  }

  confirm(count: number): void {
    this.acked += count;
    while (this.waiting.length > 0 && (this.waiting[0]?.end ?? Infinity) <= this.acked) this.waiting.shift()?.resolve();
  }

  /** Rejects every waiting call; later calls reject with the first error. */
  fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/** Counts replayed messages and reports them to `request.onMessages` every 1,000 and at the end. */
export class ReplayTally {
  private received = 0;
  private pendingCount = 0;
  private pendingBytes = 0;

  constructor(private readonly request: ReplayRequest) {}

  /** True once `request.messages` have been counted. */
  get done(): boolean {
    return this.received >= this.request.messages;
  }

  /** Counts one message of `valueBytes`; returns `done`. */
  add(valueBytes: number): boolean {
    this.received++;
    this.pendingCount++;
    this.pendingBytes += valueBytes;
    if (this.pendingCount === 1000 || this.done) this.flush();
    return this.done;
  }

  /** Reports what was counted since the last report, if anything. */
  flush(): void {
    if (this.pendingCount === 0) return;
    this.request.onMessages(this.pendingCount, this.pendingBytes);
    this.pendingCount = 0;
    this.pendingBytes = 0;
  }
}
