// Whether the broker can take traffic, for /readyz. The admin HTTP port starts before the
// storage opens: /readyz says "opening" until the storage and the groups have opened and
// every listener is listening, "ready" then, and "stopping" from the first shutdown
// signal on. /healthz answers 200 whenever the process answers at all.
//
// During a long recovery (a big log after kill -9) storage's LogManager.open lets the
// event loop run between partitions (every 20 ms of scanning), so /readyz answers 503
// "opening" then. One partition's scan is synchronous: a single huge partition delays the
// answer until its scan ends (a probe with a shorter timeout fails: not ready, still true).

export type ReadinessStatus = 'opening' | 'ready' | 'stopping' | 'failed';

export interface ReadinessReport {
  ready: boolean;
  status: ReadinessStatus;
  /** Seconds since the status began. */
  statusSeconds: number;
  /** The listeners' addresses once ready ("native 127.0.0.1:9400"...). */
  listeners: string[];
}

export class Readiness {
  private status: ReadinessStatus = 'opening';
  private sinceMs = Date.now();
  private listeners: string[] = [];

  markReady(listeners: string[]): void {
    this.set('ready');
    this.listeners = listeners;
  }

  markStopping(): void {
    this.set('stopping');
  }

  markFailed(): void {
    this.set('failed');
  }

  report(): ReadinessReport {
    return {
      ready: this.status === 'ready',
      status: this.status,
      statusSeconds: (Date.now() - this.sinceMs) / 1000,
      listeners: [...this.listeners],
    };
  }

  private set(status: ReadinessStatus): void {
    this.status = status;
    this.sinceMs = Date.now();
  }
}
