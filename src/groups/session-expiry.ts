// Background task: fences members whose session (or revocation) deadline passed.
//
// One timer, armed for the earliest deadline known. Heartbeats only push deadlines
// later, so the timer is re-armed only when a deadline earlier than the armed one
// appears (a new member with a short session); when it fires, the coordinator scans
// its members, fences the expired ones and returns the next earliest deadline. Time is
// read from the Clock, so tests with a ManualClock call `runNow()` after advancing it.

import type { Clock } from '../util/clock.js';

export interface SessionExpiryTarget {
  /** Fences every member whose deadline is <= nowMs; returns the earliest remaining deadline. */
  expireMembers(nowMs: number): number;
}

export class SessionExpiryTask {
  private timer: NodeJS.Timeout | undefined;
  private armedAtMs = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly target: SessionExpiryTarget,
  ) {}

  /** A member's deadline moved or appeared: make sure the timer fires by then. */
  noteDeadline(deadlineMs: number): void {
    if (this.closed || deadlineMs >= this.armedAtMs) return;
    this.arm(deadlineMs);
  }

  /** Checks every deadline now (the timer calls this; so do tests). */
  runNow(): void {
    if (this.closed) return;
    this.clearTimer();
    // An exception here is a bug (an assertion): it propagates and stops the process.
    const next = this.target.expireMembers(this.clock.monotonicMs());
    if (Number.isFinite(next)) this.arm(next);
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  private arm(deadlineMs: number): void {
    this.clearTimer();
    this.armedAtMs = deadlineMs;
    const delayMs = Math.max(1, Math.ceil(deadlineMs - this.clock.monotonicMs()));
    this.timer = setTimeout(() => this.runNow(), Math.min(delayMs, 2 ** 31 - 1));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAtMs = Number.POSITIVE_INFINITY;
  }
}
