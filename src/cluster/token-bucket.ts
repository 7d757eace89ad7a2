// A token bucket of bytes, for the reassignment throttle (replication-throttle.ts, README.md
// "Reassignment throttle"). Tokens refill at `rateBytesPerSecond` up to one second's worth
// (the burst), and may go below zero: a fetch always answers at least one whole batch, so a
// fetch that asked for what was left can bring more; the debt is paid by waiting before the
// next fetch. Over any long interval the bytes taken are at most rate x time + one burst +
// one batch. Pure: the caller passes the clock (monotonic ms), so tests need no timers.

import { assert } from '../util/assert.js';

/** The burst: how many seconds of the rate the bucket holds when full. */
export const TOKEN_BUCKET_BURST_SECONDS = 1;

export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  private rate: number;

  /** Starts full. */
  constructor(rateBytesPerSecond: number, nowMs: number) {
    assert(Number.isFinite(rateBytesPerSecond) && rateBytesPerSecond > 0, 'a token bucket needs a positive rate');
    this.rate = rateBytesPerSecond;
    this.tokens = this.capacityBytes;
    this.lastMs = nowMs;
  }

  get rateBytesPerSecond(): number {
    return this.rate;
  }

  get capacityBytes(): number {
    return this.rate * TOKEN_BUCKET_BURST_SECONDS;
  }

  /** A new rate from now on; the tokens held are capped at the new burst (a debt stays). */
  setRate(rateBytesPerSecond: number, nowMs: number): void {
    assert(Number.isFinite(rateBytesPerSecond) && rateBytesPerSecond > 0, 'a token bucket needs a positive rate');
    this.refill(nowMs);
    this.rate = rateBytesPerSecond;
    this.tokens = Math.min(this.tokens, this.capacityBytes);
  }

  /** Whole bytes available now (0 while in debt). */
  availableBytes(nowMs: number): number {
    this.refill(nowMs);
    return Math.max(0, Math.floor(this.tokens));
  }

  /** Takes bytes, going into debt if there are fewer (at least one batch is always answered). */
  take(bytes: number, nowMs: number): void {
    assert(bytes >= 0, 'a token bucket takes a byte count');
    this.refill(nowMs);
    this.tokens -= bytes;
  }

  /** Gives back bytes taken but not used (a reservation larger than the answer), up to the burst. */
  giveBack(bytes: number, nowMs: number): void {
    assert(bytes >= 0, 'a token bucket gives back a byte count');
    this.refill(nowMs);
    this.tokens = Math.min(this.capacityBytes, this.tokens + bytes);
  }

  /** Milliseconds until at least one whole byte is available (0: now). */
  msUntilAvailable(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  private refill(nowMs: number): void {
    // The clock is monotonic; a caller's older reading (taken before an await) adds nothing.
    if (nowMs <= this.lastMs) return;
    this.tokens = Math.min(this.capacityBytes, this.tokens + ((nowMs - this.lastMs) / 1000) * this.rate);
    this.lastMs = nowMs;
  }
}
