// The tally of the share workload (bench/peers/share.ts): which worker got how many
// messages, when the drain started and ended, and a way for workers to stop at the total.

import { performance } from 'node:perf_hooks';

export class ShareDrain {
  readonly counts: number[];
  done = false;
  bytes = 0;
  private total = 0;
  private startMs = 0;
  private endMs = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    workers: number,
    private readonly messages: number,
  ) {
    this.counts = new Array<number>(workers).fill(0);
  }

  start(): void {
    this.startMs = performance.now();
  }

  add(worker: number, valueBytes: number): void {
    this.counts[worker]!++;
    this.bytes += valueBytes;
    if (++this.total >= this.messages && !this.done) this.finish();
  }

  /** Calls `listener` once the total is reached (at once if it was); returns a remover. */
  onDone(listener: () => void): () => void {
    if (this.done) listener();
    else this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends the drain early (deadline): the result is incomplete. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.endMs = performance.now();
    for (const listener of this.listeners) listener();
  }

  get received(): number {
    return this.total;
  }

  get seconds(): number {
    return ((this.done ? this.endMs : performance.now()) - this.startMs) / 1000;
  }

  splitPercent(): number[] {
    return this.counts.map((count) => Math.round((count / Math.max(1, this.total)) * 1000) / 10);
  }
}
