// The seam between the connection machinery and a wire protocol. A front (native msgpack,
// Kafka) knows how to split its byte stream into frames, dispatch a frame to the broker
// core and encode the answer; the Connection (connection.ts) knows budgets, ordering,
// backpressure and timeouts, and nothing of any wire. One Connection class serves both
// listeners.
//
//   socket bytes -> FrameSource.push -> frames (backlog) -> front.dispatch -> Outcome<R>
//   -> slot (in request order) -> front.encode(ticket, response) -> Buffer[] -> socket

import { FrameDecoder, POOLED_FRAME_MAX_BYTES } from '../protocol/frame.js';
import type { BrokerContext, RequestScope } from './context.js';

/** Splits a byte stream into request frames; see protocol/frame.ts FrameDecoder. */
export interface FrameSource<F> {
  /** Frames completed by this chunk; throws a SpoolError when the stream cannot be trusted. */
  push(chunk: Buffer): F[];
  /** No partial frame is being read. */
  readonly idle: boolean;
  /** Bytes held for the partial frame (what the request memory pool counts). */
  readonly bufferedBytes: number;
  /** Announced size of the partial frame (for the read-timeout message). */
  readonly partialFrameBytes: number;
  /** Hands back a frame's pooled memory: nothing reads the frame any more. */
  release(frame: F): void;
}

/**
 * A FrameSource over protocol's length-prefix FrameDecoder (both wires frame the same way:
 * `size:int32` then the bytes; same size cap, growth and pooled assembly): each raw frame
 * is turned into the front's frame type by `parse`, and `bytesOf` names the frame's bytes
 * to hand back to the pool.
 */
export class LengthPrefixedFrameSource<F> implements FrameSource<F> {
  protected readonly decoder: FrameDecoder;

  constructor(
    maxFrameBytes: number,
    minFrameBytes: number,
    private readonly parse: (raw: Buffer) => F,
    private readonly bytesOf: (frame: F) => Buffer,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes, minFrameBytes, poolAssembly: true, maxUpFrontAllocationBytes: POOLED_FRAME_MAX_BYTES });
  }

  push(chunk: Buffer): F[] {
    return this.decoder.push(chunk).map(this.parse);
  }

  get idle(): boolean {
    return this.decoder.idle;
  }

  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  get partialFrameBytes(): number {
    return this.decoder.partialFrameBytes;
  }

  release(frame: F): void {
    this.decoder.release(this.bytesOf(frame));
  }
}

/** A response's answer: null sends nothing (acks 0). */
export type Outcome<R> = R | null | Promise<R | null>;

export interface WireFront<F, T, R> {
  /** 'native' or 'kafka': in log lines and stats. */
  readonly name: string;
  createDecoder(maxFrameBytes: number): FrameSource<F>;
  /** Bytes of a frame after its size field, as counted in the request memory pool. */
  frameBytes(frame: F): number;
  /** Why the frame shows the stream cannot be trusted (the connection closes), or null. */
  garbage(frame: F): string | null;
  /** What the slot keeps of a request to encode its answer (never the request's bytes). */
  ticket(frame: F): T;
  /** Runs the request. Must not throw: every failure is an answer (or null). */
  dispatch(ctx: BrokerContext, frame: F, scope: RequestScope): Outcome<R>;
  /** True when nothing holds the frame's bytes once dispatch has returned (its memory may be reused). */
  releaseAfterDispatch(frame: F): boolean;
  /** Payload bytes of a response, counted against the connection's response budget until written. */
  responseBytes(response: R): number;
  /** The frame bytes of an answer (size prefix included). */
  encode(ticket: T, response: R): Buffer[];
  /** The answer to send when dispatch's promise rejects or encode throws (a bug). */
  failure(ticket: T, error: unknown): R;
  /** True when the connection must close once this answer is written (the stream cannot go on). */
  closesConnection?(response: R): boolean;
  /** The api a frame asks for ('Produce', 'Fetch'...; 'unknown' when none): the `api` label of the request metrics. */
  apiName?(frame: F): string;
  /** The name of an answer's top-level error, or null when it succeeded: the `code` label of spool_request_errors_total. */
  errorName?(response: R): string | null;
}
