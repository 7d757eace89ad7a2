// Whether the broker can take traffic, for /readyz. The admin HTTP port starts before the
// storage opens: /readyz says "opening" until the storage and the groups have opened and
// every listener is listening, "ready" then, and "stopping" from the first shutdown
// signal on. /healthz answers 200 whenever the process answers at all.
//
// Caveat: storage's LogManager.open scans synchronously, so while a long recovery runs
// (a big log after kill -9) the event loop answers no request; a probe waits, and with a
// timeout shorter than the recovery it fails (for a readiness probe: not ready, as it
// should be). Letting the open yield between partitions (storage) would turn those waits
// into immediate 503 "opening" answers.

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
