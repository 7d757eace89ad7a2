// A follower's connection to one leader broker for its fetcher (cluster/replica-fetcher.ts
// LeaderChannel: every partition followed from that leader) over the native protocol:
// ReplicaFetch (60) and OffsetForLeaderEpoch (61) frames listing many partitions, answers
// matched by correlation id. It connects on
// first use and again after the connection drops (the fetcher retries failed calls);
// close() fails what is in flight and stops reconnecting. Only 127.0.0.1 in tests; the
// address comes from the cluster layer.

import { connect, type Socket } from 'node:net';
import { ApiKey } from '../protocol/apis.js';
import { decodeBody, splitPayload } from '../protocol/body.js';
import { errorFromFields } from '../protocol/errors.js';
import { ResponseFrameDecoder, encodeRequestFrame } from '../protocol/frame.js';
import type * as M from '../protocol/messages.js';
import type { EpochEndAnswer, EpochEndRequest, FetchPartitionAnswer, FetchPartitionRequest, LeaderChannel } from '../cluster/replica-fetcher.js';
import { Errors, SpoolError } from '../util/errors.js';

/** Kafka's replica.socket.timeout.ms. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

interface Pending {
  resolve: (response: { header: Record<string, unknown>; payload: Buffer }) => void;
  reject: (error: Error) => void;
}

export class NativeLeaderChannel implements LeaderChannel {
  private socket: Socket | null = null;
  private decoder = new ResponseFrameDecoder();
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** This (the follower) broker's id. */
    private readonly replicaId: number,
    /**
     * A request unanswered this long (beyond its own maxWaitMs) drops the connection, failing
     * what is in flight; the next request reconnects (Kafka's replica.socket.timeout.ms, 30 s):
     * a leader whose host vanished without closing the socket would otherwise hold every
     * partition of the fetcher.
     */
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  private connection(): Socket {
    if (this.closed) throw new SpoolError(Errors.SHUTTING_DOWN, 'the leader channel is closed');
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.decoder = new ResponseFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        const waiter = this.pending.get(frame.correlationId);
        this.pending.delete(frame.correlationId);
        if (!waiter) continue;
        try {
          const { header, payload } = decodeBody(frame.body);
          waiter.resolve({ header, payload });
        } catch (error) {
          waiter.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    });
    const fail = (error: Error): void => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      if (this.socket === socket) this.socket = null;
    };
    socket.on('error', (error) => fail(new SpoolError(Errors.NETWORK_ERROR, `leader ${this.host}:${this.port}: ${error.message}`)));
    socket.on('close', () => fail(new SpoolError(Errors.NETWORK_ERROR, `leader ${this.host}:${this.port} closed the connection`)));
    this.socket = socket;
    return socket;
  }

  private request(apiKey: number, header: object, maxWaitMs = 0): Promise<{ header: Record<string, unknown>; payload: Buffer }> {
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
        if (!this.pending.has(correlationId)) return;
        socket.destroy(new Error(`no answer within ${maxWaitMs + this.requestTimeoutMs} ms`));
      }, maxWaitMs + this.requestTimeoutMs);
      timer.unref();
      this.pending.set(correlationId, {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      for (const part of encodeRequestFrame(correlationId, apiKey, 0, header)) socket.write(part);
    });
  }

  async offsetsForLeaderEpoch(partitions: readonly EpochEndRequest[]): Promise<EpochEndAnswer[]> {
    const body: M.OffsetForLeaderEpochRequest = { replicaId: this.replicaId, partitions: [...partitions] };
    const { header } = await this.request(ApiKey.OffsetForLeaderEpoch, body);
    const response = header as unknown as M.OffsetForLeaderEpochResponse;
    const failure = errorFromFields(response);
    if (failure) throw failure;
    return (response.partitions ?? []).map((entry) => ({
      topic: entry.topic,
      partition: entry.partition,
      error: errorFromFields(entry),
      epoch: entry.leaderEpoch,
      endOffset: entry.endOffset,
    }));
  }

  async replicaFetch(request: { maxWaitMs: number; maxBytes: number; partitions: readonly FetchPartitionRequest[] }): Promise<FetchPartitionAnswer[]> {
    const body: M.ReplicaFetchRequest = {
      replicaId: this.replicaId,
      maxWaitMs: request.maxWaitMs,
      minBytes: 1,
      maxBytes: request.maxBytes,
      partitions: [...request.partitions],
    };
    const { header, payload } = await this.request(ApiKey.ReplicaFetch, body, request.maxWaitMs);
    const response = header as unknown as M.ReplicaFetchResponse;
    const failure = errorFromFields(response);
    if (failure) throw failure;
    const entries = response.partitions ?? [];
    // One copy of the payload, sliced per partition: the decoder may reuse a pooled frame
    // buffer once this turn ends, and the fetcher appends after an await.
    const parts = splitPayload(Buffer.from(payload), entries.map((entry) => entry.size));
    return entries.map((entry, at) => ({
      topic: entry.topic,
      partition: entry.partition,
      error: errorFromFields(entry),
      records: parts[at]!,
      highWatermark: entry.highWatermark,
      logStartOffset: entry.logStartOffset,
      logEndOffset: entry.logEndOffset,
    }));
  }

  close(): void {
    this.closed = true;
    const socket = this.socket;
    this.socket = null;
    for (const waiter of this.pending.values()) waiter.reject(new SpoolError(Errors.SHUTTING_DOWN, 'the leader channel is closed'));
    this.pending.clear();
    socket?.destroy();
  }
}
