// Group commit for one file: at most one fdatasync in flight, and every request that
// arrives while one is queued joins it. A request does not start its fsync at once but
// on setImmediate, after the current turn of the event loop, so every append of the same
// tick (one produce request, or many arriving together, across all partitions) shares
// one fsync per file. Requests arriving while an fsync runs wait for the next one, which
// starts as soon as the running one ends (their bytes may not be covered by it).

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private running = false;
  private scheduled = false;
  private waiters: Waiter[] = [];
  private idleWaiters: Array<() => void> = [];

  /** `sync` performs the fsync; it is called with nothing else in flight. */
  constructor(private readonly sync: () => Promise<void>) {}

  get busy(): boolean {
    return this.running || this.scheduled || this.waiters.length > 0;
  }

  request(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.start();
        });
      }
    });
  }

  /** Resolves when no fsync is running or queued. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private start(): void {
    if (this.running) return;
    if (this.waiters.length === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of idle) resolve();
      return;
    }
    const group = this.waiters;
    this.waiters = [];
    this.running = true;
    this.sync().then(
      () => {
        this.running = false;
        for (const waiter of group) waiter.resolve();
        this.start();
      },
      (error: unknown) => {
        this.running = false;
        for (const waiter of group) waiter.reject(error);
        this.start();
      },
    );
  }
}
