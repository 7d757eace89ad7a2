// Background task: closes connections whose request frame is taking too long to arrive
// (requestReadTimeoutMs, counted from the frame's first byte, pauses included: a stalled
// partial frame must not hold request memory for ever) and connections that are idle
// (connectionsMaxIdleMs: no request being handled, no partial frame, no bytes read or
// written; a parked fetch is a request being handled), and connections whose SASL session
// expired without re-authentication (KIP-368) while nothing is being handled. One timer for the whole broker
// sweeps every connection, so the data path sets no timers: it only stamps times.
// A connection is closed between its deadline and one sweep interval later.

import type { Clock } from '../util/clock.js';
import type { Logger } from './logger.js';

export interface ReapableConnection {
  readonly remote: string;
  /** Why the connection should be closed at `nowMs`, or null. */
  expiry(nowMs: number): Expiry | null;
  destroy(): void;
  /** Closes with a TCP reset: the kernel drops what it still had to send at once. */
  reset(): void;
}

export interface Expiry {
  reason: string;
  /** The client misbehaved: log it and reset (see reset()), rather than close gracefully. */
  misbehaved: boolean;
  /** Not misbehaving but worth a line at info (a SASL session that expired). */
  logged?: boolean;
}

/** Sweep interval: a tenth of the shortest timeout (SASL session lifetime included when not 0), between 10 ms and 1 s. */
export function reaperIntervalMs(requestReadTimeoutMs: number, connectionsMaxIdleMs: number, connectionsMaxReauthMs = 0): number {
  const shortestMs = Math.min(requestReadTimeoutMs, connectionsMaxIdleMs, connectionsMaxReauthMs > 0 ? connectionsMaxReauthMs : Infinity);
  return Math.max(10, Math.min(1000, Math.floor(shortestMs / 10)));
}

export class ConnectionReaper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly connections: () => Iterable<ReapableConnection>,
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.runNow(), this.intervalMs);
    // The sweep never keeps the process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Closes every expired connection; returns how many. */
  runNow(): number {
    const nowMs = this.clock.monotonicMs();
    let closed = 0;
    for (const connection of [...this.connections()]) {
      const expiry = connection.expiry(nowMs);
      if (expiry === null) continue;
      // Idle closes are routine (Kafka does not log them either); a stalled frame is not.
      if (expiry.misbehaved) {
        this.logger.warn(`closing connection ${connection.remote}: ${expiry.reason}`);
        connection.reset();
      } else {
        if (expiry.logged) this.logger.info(`closing connection ${connection.remote}: ${expiry.reason}`);
        connection.destroy();
      }
      closed++;
    }
    return closed;
  }
}
