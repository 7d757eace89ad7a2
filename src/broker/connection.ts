// One client connection: reads request frames, dispatches them (many in flight), and
// writes the responses in request order.
//
// Limits and backpressure. Decoded frames wait in a backlog (subarrays of the received
// chunks, no copy) and are dispatched in order while both budgets allow:
// - at most maxInFlightPerConnection requests dispatched but not yet answered;
// - at most maxBufferedBytesPerConnection response bytes held (answered but waiting
//   behind an earlier request, or written but not yet taken by the kernel:
//   socket.writableLength). When socket.write() returns false the socket buffer counts
//   against this budget until 'drain'.
// While the backlog is not empty the socket is paused, so TCP pushes back on the client
// and the broker's memory per connection stays bounded (one request may overshoot the
// byte budget: a fetch always returns at least one batch).
//
// Produce frames split across socket chunks are assembled into a reused buffer (the
// decoder's pooled assembly): handleProduce reads its payload only while it runs
// synchronously (the append is a synchronous write; every later step, acks-all waits
// included, works on offsets and results, not on the bytes), so right after dispatch
// returns the frame is handed back. Other frames are never handed back. Cost: up to two
// pooled buffers of <= 1 MiB per connection that sends large produce requests.
//
// Request memory and timeouts (see request-memory.ts and connection-reaper.ts). The bytes
// of the partial frame being read and of the backlog count against the broker-wide
// request memory pool; when it is exhausted this connection stops reading unless it holds
// no partial frame or the pool lets it finish the one it has. The connection stamps when
// its current frame started and when it last read or wrote; the reaper closes it when a
// frame takes longer than requestReadTimeoutMs or when it has been idle (no request being
// handled, no partial frame) for connectionsMaxIdleMs, or when its SASL session expired
// (connectionsMaxReauthMs) with nothing being handled.
//
// Responses in request order: a parked long-poll fetch delays the responses of later
// requests on the same connection (as in Kafka); clients that need both use two
// connections.
//
// An oversized frame (> maxRequestBytes), a frame shorter than its fixed fields, or a
// frame its front calls garbage (native: an unknown api key and no decodable body) closes
// the connection: the stream cannot be trusted after it. Everything else is answered with
// an error. An answer its front says closes the connection (Kafka: a malformed or
// unsupported request, a failed acks=0 produce) is written after the answers before it,
// then the connection ends; frames read after that request are dropped unrun.
//
// Quotas: a client over its byte rate is muted (core/quotas.ts, through scope.throttle):
// for the throttle time the connection neither reads the socket nor dispatches frames it
// has read, as Kafka mutes the channel; the answer that carried the throttle time goes out.
//
// The connection knows no wire: a WireFront (front.ts; native/front.ts, kafka/front.ts)
// splits the stream into frames, dispatches them and encodes the answers.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Session } from '../security/session.js';
import { sessionFor } from '../security/tls.js';
import type { Clock } from '../util/clock.js';
import { isSpoolError } from '../util/errors.js';
import { brokerMarks, stageTraceOn, traceNowUs, traceReads } from '../util/stage-trace.js';
import type { Expiry, ReapableConnection } from './connection-reaper.js';
import type { BrokerContext, RequestScope } from './context.js';
import type { FrameSource, WireFront } from './front.js';
import type { ListenerRequestMetrics } from './metrics.js';
import type { RequestMemoryPool, RequestMemoryUser } from './request-memory.js';

/** What a connection shares with the rest of the broker besides the context. */
export interface ConnectionShared {
  readonly requestMemory: RequestMemoryPool;
  readonly clock: Clock;
}

interface Slot<T, R> {
  ticket: T;
  /** The request's api and dispatch time (performance.now()), for the request metrics. */
  api: string;
  startedMs: number;
  done: boolean;
  response: R | null;
  /** Payload bytes of the response, counted in heldBytes until written. */
  payloadBytes: number;
}

export class Connection<F = unknown, T = unknown, R = unknown> implements RequestMemoryUser, ReapableConnection {
  readonly remote: string;
  private readonly decoder: FrameSource<F>;
  private readonly queue: Array<Slot<T, R>> = [];
  /** Frames read but not yet dispatched. */
  private readonly backlog: F[] = [];
  /** Payload bytes of answered responses still in the queue. */
  private heldBytes = 0;
  private readonly abort = new AbortController();
  private closed = false;
  private readEnded = false;
  private stopping = false;
  /** An answer that closes the connection has come: no later frame may run (see complete()). */
  private closing = false;
  private paused = false;
  private flushScheduled = false;
  private readonly closedPromise: Promise<void>;
  /** Bytes of backlog frames. */
  private backlogBytes = 0;
  /** Bytes this connection has counted in the request memory pool. */
  private requestMemoryBytes = 0;
  /** Requests dispatched whose handler has not answered yet (a parked fetch, an acks-all produce). */
  private pendingHandlers = 0;
  /** Monotonic ms of the first byte of the partial frame being read; null when none. */
  private frameStartedMs: number | null = null;
  /** Monotonic ms of the last read, write or drain. */
  private lastActivityMs: number;

  private readonly scope: RequestScope;
  /** Monotonic ms until which the connection is muted by a quota (0: not muted). */
  private mutedUntilMs = 0;
  private muteTimer: NodeJS.Timeout | null = null;
  private readonly requestMetrics: ListenerRequestMetrics;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: BrokerContext,
    private readonly shared: ConnectionShared,
    private readonly front: WireFront<F, T, R>,
  ) {
    this.lastActivityMs = shared.clock.monotonicMs();
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = front.createDecoder(ctx.options.maxRequestBytes);
    this.requestMetrics = ctx.metrics.listener(front.name);
    socket.setNoDelay(true);
    this.scope = {
      signal: this.abort.signal,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      remoteAddress: socket.remoteAddress,
      remote: this.remote,
      session: sessionFor(socket),
      responseBytesLeft: () => this.ctx.options.maxBufferedBytesPerConnection - this.heldResponseBytes,
      throttle: (delayMs) => this.mute(delayMs),
    };
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => {
      this.lastActivityMs = this.shared.clock.monotonicMs();
      this.pump();
    });
    socket.on('error', () => {
      // Safe to ignore: a reset or a write to a closed peer; 'close' follows and cleans up.
    });
    socket.once('close', () => this.onClose());
  }

  /** Resolves when the socket has closed. */
  get closedSignal(): Promise<void> {
    return this.closedPromise;
  }

  /** Response bytes held: answered payloads waiting in the queue plus unwritten socket bytes. */
  get heldResponseBytes(): number {
    return this.heldBytes + this.socket.writableLength;
  }

  get inFlight(): number {
    return this.queue.length + this.backlog.length;
  }

  /** Stops reading; ends the connection once every request read so far is answered. */
  shutdown(): Promise<void> {
    this.stopping = true;
    // pump: frames held back by a quota's mute are answered now (then reading stops).
    this.pump();
    return this.closedPromise;
  }

  destroy(): void {
    this.socket.destroy();
  }

  reset(): void {
    // A TLS socket's handle is not a TCP one and resetAndDestroy() throws on it: close it plainly.
    if ('encrypted' in this.socket) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  /** Who is on the other end (SASL principal, mechanism, session deadline). */
  get session(): Session {
    return this.scope.session;
  }

  /** Request bytes this connection holds (partial frame plus backlog), as counted in the pool. */
  get heldRequestBytes(): number {
    return this.requestMemoryBytes;
  }

  expiry(nowMs: number): Expiry | null {
    if (this.closed) return null;
    const { requestReadTimeoutMs, connectionsMaxIdleMs } = this.ctx.options;
    if (this.frameStartedMs !== null && nowMs - this.frameStartedMs >= requestReadTimeoutMs) {
      const reason = `a request frame was not completed within ${requestReadTimeoutMs} ms (${this.decoder.bufferedBytes} of ${this.decoder.partialFrameBytes} bytes read)`;
      return { reason, misbehaved: true };
    }
    const { session } = this.scope;
    // An expired SASL session with nothing being handled: a request in flight is answered first,
    // and the gate (authentication.ts) closes the connection at its next request anyway.
    if (session.expiresAtMs !== null && nowMs >= session.expiresAtMs && this.pendingHandlers === 0 && this.decoder.idle && this.ctx.sasl?.expired(session)) {
      return { reason: `the SASL session of ${session.principal} expired without re-authentication`, misbehaved: false, logged: true };
    }
    if (this.pendingHandlers === 0 && this.decoder.idle && nowMs - this.lastActivityMs >= connectionsMaxIdleMs) {
      // Responses still unwritten after so long: the client stopped reading, and a graceful
      // close (a FIN queued behind them) would never reach it.
      const stuck = this.socket.writableLength > 0 || this.backlog.length > 0;
      const reason = stuck ? `idle for ${connectionsMaxIdleMs} ms with responses the client does not read` : `idle for ${connectionsMaxIdleMs} ms`;
      return { reason, misbehaved: stuck };
    }
    return null;
  }

  onRequestMemoryAvailable(): void {
    this.updateReading();
  }

  private onData(chunk: Buffer): void {
    // Closing: bytes after the closing request are not read as requests.
    if (this.closed || this.closing) return;
    if (stageTraceOn) traceReads.lastReadUs = traceNowUs();
    const nowMs = this.shared.clock.monotonicMs();
    this.lastActivityMs = nowMs;
    const wasIdle = this.decoder.idle;
    let frames: F[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!isSpoolError(error)) throw error;
      this.ctx.logger.warn(`closing connection ${this.remote}: ${error.message}`, { listener: this.front.name, remote: this.remote, code: error.code });
      this.socket.destroy();
      return;
    }
    // A new partial frame starts its read timeout now; one still arriving keeps its start.
    if (frames.length > 0 || wasIdle) this.frameStartedMs = this.decoder.idle ? null : nowMs;
    if (frames.length > 0) this.shared.requestMemory.frameCompleted(this);
    for (const frame of frames) {
      this.backlog.push(frame);
      this.backlogBytes += this.front.frameBytes(frame);
    }
    this.pump();
  }

  /** Tells the pool what this connection holds now. */
  private countRequestMemory(): void {
    const held = this.closed ? 0 : this.decoder.bufferedBytes + this.backlogBytes;
    const delta = held - this.requestMemoryBytes;
    if (delta === 0) return;
    this.requestMemoryBytes = held;
    this.shared.requestMemory.adjust(delta);
  }

  private get budgetLeft(): boolean {
    return (
      this.queue.length < this.ctx.options.maxInFlightPerConnection &&
      this.heldBytes + this.socket.writableLength < this.ctx.options.maxBufferedBytesPerConnection
    );
  }

  /** Stops reading and dispatching for `delayMs` (a quota's throttle time); a longer mute already running is kept. */
  private mute(delayMs: number): void {
    if (this.closed) return;
    const untilMs = this.shared.clock.monotonicMs() + delayMs;
    if (untilMs <= this.mutedUntilMs) return;
    this.mutedUntilMs = untilMs;
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muteTimer = null;
      this.mutedUntilMs = 0;
      this.pump();
    }, delayMs);
    this.updateReading();
  }

  /** Muted by a quota; shutting down answers what was read regardless. */
  private get muted(): boolean {
    return this.mutedUntilMs !== 0 && !this.stopping;
  }

  /** Dispatches backlog frames while the budgets allow, then pauses or resumes reading. */
  private pump(): void {
    while (!this.closed && !this.closing && !this.socket.destroyed && this.backlog.length > 0 && this.budgetLeft && !this.muted) {
      const frame = this.backlog.shift()!;
      this.backlogBytes -= this.front.frameBytes(frame);
      this.onFrame(frame);
    }
    this.countRequestMemory();
    this.updateReading();
    this.endIfDone();
  }

  private onFrame(frame: F): void {
    const garbage = this.front.garbage(frame);
    if (garbage !== null) {
      this.ctx.logger.warn(`closing ${this.front.name} connection ${this.remote}: garbage (${garbage})`, { listener: this.front.name, remote: this.remote });
      this.socket.destroy();
      return;
    }
    const slot: Slot<T, R> = {
      ticket: this.front.ticket(frame),
      api: this.front.apiName?.(frame) ?? 'unknown',
      startedMs: performance.now(),
      done: false,
      response: null,
      payloadBytes: 0,
    };
    this.queue.push(slot);
    this.pendingHandlers++;
    const outcome = this.front.dispatch(this.ctx, frame, this.scope);
    // A front's synchronous part holds no reference to pooled request bytes once it returns.
    if (this.front.releaseAfterDispatch(frame)) this.decoder.release(frame);
    if (!(outcome instanceof Promise)) {
      this.complete(slot, outcome);
      return;
    }
    outcome.then(
      (response) => this.complete(slot, response),
      (error: unknown) => {
        // dispatch turns every error into a response; reaching here is a bug in it.
        this.ctx.logger.error('dispatch rejected', error, { listener: this.front.name, remote: this.remote, api: slot.api });
        this.complete(slot, this.front.failure(slot.ticket, error));
      },
    );
  }

  private complete(slot: Slot<T, R>, response: R | null): void {
    slot.done = true;
    this.pendingHandlers--;
    slot.response = response;
    // Counted once per request, here, for every front: dropped answers (closed connection, acks 0) too.
    this.requestMetrics.completed(slot.api, slot.startedMs, response === null ? null : (this.front.errorName?.(response) ?? null));
    if (this.closed) return;
    if (response !== null && this.front.closesConnection?.(response)) this.discardLaterRequests();
    if (response !== null) slot.payloadBytes = this.front.responseBytes(response);
    this.heldBytes += slot.payloadBytes;
    // Coalesce: responses completing in the same tick (pipelined requests) go out in one
    // corked write.
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * After an answer that closes the connection the stream is not trusted: frames read after
   * it (already in the backlog, or still arriving) are dropped unrun, so a Produce pipelined
   * behind a malformed request is never appended. Requests dispatched before the answer was
   * known (it came asynchronously) have run; their answers still go out in order before it.
   */
  private discardLaterRequests(): void {
    this.closing = true;
    this.backlog.length = 0;
    this.backlogBytes = 0;
    this.countRequestMemory();
    this.updateReading();
  }

  /** Writes the answered requests at the head of the queue, in order, in one corked batch. */
  private flush(): void {
    if (this.closed || this.socket.destroyed) return;
    let corked = false;
    while (this.queue.length > 0 && this.queue[0]!.done) {
      const slot = this.queue.shift()!;
      this.heldBytes -= slot.payloadBytes;
      if (slot.response === null) continue;
      if (!corked) {
        this.socket.cork();
        corked = true;
        this.lastActivityMs = this.shared.clock.monotonicMs();
      }
      // write() returning false is seen through socket.writableLength in budgetLeft.
      for (const part of this.encode(slot)) this.socket.write(part);
      if (this.front.closesConnection?.(slot.response)) {
        // The answer goes out, then the connection ends: nothing after it can be trusted.
        this.socket.uncork();
        this.socket.end(() => this.socket.destroy());
        this.socket.pause();
        this.stopping = true;
        return;
      }
    }
    if (corked) this.socket.uncork();
    if (stageTraceOn && corked) {
      const nowUs = traceNowUs();
      brokerMarks.ackFlushed.reached(nowUs);
      brokerMarks.fetchFlushed.reached(nowUs);
    }
    this.pump();
  }

  private encode(slot: Slot<T, R>): Buffer[] {
    try {
      return this.front.encode(slot.ticket, slot.response!);
    } catch (error) {
      this.ctx.logger.error(`${this.front.name}: encoding a response failed`, error, { listener: this.front.name, remote: this.remote, api: slot.api });
      return this.front.encode(slot.ticket, this.front.failure(slot.ticket, error));
    }
  }

  private updateReading(): void {
    if (this.closed) return;
    // The pool is asked last: it remembers a connection it tells to wait.
    const read =
      !this.stopping &&
      !this.closing &&
      !this.readEnded &&
      !this.muted &&
      this.backlog.length === 0 &&
      this.budgetLeft &&
      this.shared.requestMemory.mayRead(this, !this.decoder.idle);
    if (read && this.paused) {
      this.paused = false;
      this.socket.resume();
    } else if (!read && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onEnd(): void {
    // The client half-closed: answer what it sent, then close our side.
    this.readEnded = true;
    if (!this.decoder.idle) {
      this.ctx.logger.info(`connection ${this.remote} ended in the middle of a frame (${this.decoder.bufferedBytes} bytes dropped)`);
    }
    this.endIfDone();
  }

  private endIfDone(): void {
    if (this.closed || this.queue.length > 0 || this.backlog.length > 0) return;
    if (this.readEnded) this.socket.end();
    // Shutting down: do not wait for the client to close its side.
    else if (this.stopping) this.socket.end(() => this.socket.destroy());
  }

  private onClose(): void {
    // Pending responses are dropped; handlers that are still running (parked fetches)
    // are told through the abort signal. Appends already made stay in the log.
    this.closed = true;
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.queue.length = 0;
    this.backlog.length = 0;
    this.backlogBytes = 0;
    this.heldBytes = 0;
    this.frameStartedMs = null;
    this.countRequestMemory();
    this.shared.requestMemory.forget(this);
    this.abort.abort();
  }
}
