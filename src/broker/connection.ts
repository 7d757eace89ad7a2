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
// Responses in request order: a parked long-poll fetch delays the responses of later
// requests on the same connection (as in Kafka); clients that need both use two
// connections.
//
// An oversized frame (> maxRequestBytes), a frame shorter than its fixed fields, or a
// frame with an unknown api key and no decodable body (garbage) closes the connection:
// the stream cannot be trusted after it. Everything else is answered with an error.

import type { Socket } from 'node:net';
import { ApiKey } from '../protocol/apis.js';
import { decodeBody } from '../protocol/body.js';
import { RequestLimits } from '../protocol/validate.js';
import { encodeResponseFrame, RequestFrameDecoder, type RequestFrame } from '../protocol/frame.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { BrokerContext, HandlerResponse, RequestScope } from './context.js';
import { dispatch, errorResponse, isKnownApiKey } from './dispatch.js';

interface Slot {
  correlationId: number;
  done: boolean;
  response: HandlerResponse | null;
  /** Payload bytes of the response, counted in heldBytes until written. */
  payloadBytes: number;
}

export class Connection {
  readonly remote: string;
  private readonly decoder: RequestFrameDecoder;
  private readonly queue: Slot[] = [];
  /** Frames read but not yet dispatched. */
  private readonly backlog: RequestFrame[] = [];
  /** Payload bytes of answered responses still in the queue. */
  private heldBytes = 0;
  private readonly abort = new AbortController();
  private closed = false;
  private readEnded = false;
  private stopping = false;
  private paused = false;
  private flushScheduled = false;
  private readonly closedPromise: Promise<void>;
  private readonly scope: RequestScope;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: BrokerContext,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = new RequestFrameDecoder({ maxFrameBytes: ctx.options.maxRequestBytes, poolAssembly: true });
    socket.setNoDelay(true);
    this.scope = {
      signal: this.abort.signal,
      localAddress: socket.localAddress,
      responseBytesLeft: () => this.ctx.options.maxBufferedBytesPerConnection - this.heldResponseBytes,
    };
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.pump());
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
    this.updateReading();
    this.endIfDone();
    return this.closedPromise;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: RequestFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.ctx.logger.warn(`closing connection ${this.remote}: ${error instanceof Error ? error.message : String(error)}`);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) this.backlog.push(frame);
    this.pump();
  }

  private get budgetLeft(): boolean {
    return (
      this.queue.length < this.ctx.options.maxInFlightPerConnection &&
      this.heldBytes + this.socket.writableLength < this.ctx.options.maxBufferedBytesPerConnection
    );
  }

  /** Dispatches backlog frames while the budgets allow, then pauses or resumes reading. */
  private pump(): void {
    while (!this.closed && !this.socket.destroyed && this.backlog.length > 0 && this.budgetLeft) this.onFrame(this.backlog.shift()!);
    this.updateReading();
    this.endIfDone();
  }

  private onFrame(frame: RequestFrame): void {
    if (!isKnownApiKey(frame.apiKey) && !hasDecodableBody(frame.body)) {
      this.ctx.logger.warn(`closing connection ${this.remote}: garbage (unknown api key ${frame.apiKey} and no valid body)`);
      this.socket.destroy();
      return;
    }
    const slot: Slot = { correlationId: frame.correlationId, done: false, response: null, payloadBytes: 0 };
    this.queue.push(slot);
    const outcome = dispatch(this.ctx, frame, this.scope);
    // handleProduce holds no reference to the request bytes once it returns (see the top).
    if (frame.apiKey === ApiKey.Produce) this.decoder.release(frame.body);
    if (!(outcome instanceof Promise)) {
      this.complete(slot, outcome);
      return;
    }
    outcome.then(
      (response) => this.complete(slot, response),
      (error: unknown) => {
        // dispatch turns every error into a response; reaching here is a bug in it.
        this.ctx.logger.error('dispatch rejected', error);
        this.complete(slot, errorResponse(error));
      },
    );
  }

  private complete(slot: Slot, response: HandlerResponse | null): void {
    slot.done = true;
    slot.response = response;
    if (this.closed) return;
    if (response?.payload) for (const part of response.payload) slot.payloadBytes += part.length;
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
      }
      // write() returning false is seen through socket.writableLength in budgetLeft.
      for (const part of this.encode(slot)) this.socket.write(part);
    }
    if (corked) this.socket.uncork();
    this.pump();
  }

  private encode(slot: Slot): Buffer[] {
    const response = slot.response!;
    try {
      return encodeResponseFrame(slot.correlationId, response.header, response.payload);
    } catch (error) {
      this.ctx.logger.error(`encoding the response to correlation id ${slot.correlationId} failed`, error);
      return encodeResponseFrame(slot.correlationId, errorResponse(new SpoolError(Errors.UNKNOWN)).header);
    }
  }

  private updateReading(): void {
    if (this.closed) return;
    const read = !this.stopping && !this.readEnded && this.backlog.length === 0 && this.budgetLeft;
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
    this.queue.length = 0;
    this.backlog.length = 0;
    this.heldBytes = 0;
    this.abort.abort();
  }
}

function hasDecodableBody(body: Buffer): boolean {
  try {
    decodeBody(body, RequestLimits.maxHeaderBytes);
    return true;
  } catch {
    // Safe: this only classifies the frame; the caller closes the connection on false.
    return false;
  }
}
