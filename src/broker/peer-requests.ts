// Requests from this broker to another over the native protocol (share-group state and
// dead letters in a cluster): one connection per peer address, opened on first use and
// again after it drops, answers matched by correlation id; a dropped connection fails
// what is in flight (the caller decides whether to retry). Only addresses from the
// cluster's own registrations are dialled.

import { connect, type Socket } from 'node:net';
import { decodeBody } from '../protocol/body.js';
import { ResponseFrameDecoder, encodeRequestFrame } from '../protocol/frame.js';
import { Errors, SpoolError } from '../util/errors.js';

export interface PeerResponse {
  header: Record<string, unknown>;
  payload: Buffer;
}

interface Pending {
  resolve: (response: PeerResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class PeerRequests {
  private socket: Socket | null = null;
  private decoder = new ResponseFrameDecoder();
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  private connection(): Socket {
    if (this.closed) throw new SpoolError(Errors.SHUTTING_DOWN, 'the peer connection is closed');
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.decoder = new ResponseFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      for (const frame of frames) {
        const waiter = this.pending.get(frame.correlationId);
        this.pending.delete(frame.correlationId);
        if (!waiter) continue;
        clearTimeout(waiter.timer);
        try {
          const { header, payload } = decodeBody(frame.body);
          // A copy: the decoder may reuse its frame buffer once this turn ends.
          waiter.resolve({ header, payload: Buffer.from(payload) });
        } catch (error) {
          waiter.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
    const fail = (error: Error): void => {
      for (const waiter of this.pending.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(error);
      }
      this.pending.clear();
      if (this.socket === socket) this.socket = null;
    };
    socket.on('error', (error) => fail(new SpoolError(Errors.NETWORK_ERROR, `broker ${this.host}:${this.port}: ${error.message}`)));
    socket.on('close', () => fail(new SpoolError(Errors.NETWORK_ERROR, `broker ${this.host}:${this.port} closed the connection`)));
    this.socket = socket;
    return socket;
  }

  /** Sends one request; rejects on a dropped connection or after the timeout (the connection is then dropped). */
  request(apiKey: number, header: object, payload?: Buffer[]): Promise<PeerResponse> {
    let socket: Socket;
    try {
      socket = this.connection();
    } catch (error) {
      return Promise.reject(error);
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) >>> 0 || 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `broker ${this.host}:${this.port} did not answer within ${this.timeoutMs} ms`));
        socket.destroy();
      }, this.timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      for (const part of encodeRequestFrame(correlationId, apiKey, 0, header, payload)) socket.write(part);
    });
  }

  close(): void {
    this.closed = true;
    const socket = this.socket;
    this.socket = null;
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new SpoolError(Errors.SHUTTING_DOWN, 'the peer connection is closed'));
    }
    this.pending.clear();
    socket?.destroy();
  }
}

/** One PeerRequests per peer address. */
export class PeerPool {
  private readonly peers = new Map<string, PeerRequests>();

  constructor(private readonly timeoutMs = 30_000) {}

  get(host: string, port: number): PeerRequests {
    const name = `${host}:${port}`;
    let peer = this.peers.get(name);
    if (peer === undefined) this.peers.set(name, (peer = new PeerRequests(host, port, this.timeoutMs)));
    return peer;
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}
