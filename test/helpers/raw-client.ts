// A tiny test client built directly on the protocol codec (no SDK): sends frames,
// matches responses by correlation id, and can write arbitrary bytes, so broker tests
// can send bad input and check what comes back, byte for byte.

import { connect, type Socket } from 'node:net';
import { ApiKey } from '../../src/protocol/apis.js';
import { decodeBody, splitPayload } from '../../src/protocol/body.js';
import { encodeRequestFrame, ResponseFrameDecoder } from '../../src/protocol/frame.js';
import type * as M from '../../src/protocol/messages.js';

export interface RawResponse<H = Record<string, unknown>> {
  correlationId: number;
  header: H;
  payload: Buffer;
}

export class RawClient {
  private nextCorrelationId = 1;
  private readonly waiting = new Map<number, { resolve: (r: RawResponse) => void; reject: (e: Error) => void }>();
  private readonly decoder = new ResponseFrameDecoder();
  /** Every response in arrival order. */
  readonly received: RawResponse[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        const { header, payload } = decodeBody(frame.body);
        const response: RawResponse = { correlationId: frame.correlationId, header, payload };
        this.received.push(response);
        const waiter = this.waiting.get(frame.correlationId);
        this.waiting.delete(frame.correlationId);
        waiter?.resolve(response);
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const waiter of this.waiting.values()) waiter.reject(new Error('connection closed'));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request; resolves with its response. */
  request<H = Record<string, unknown>>(
    apiKey: number,
    header: unknown,
    payload?: Buffer | Buffer[],
    options: { apiVersion?: number } = {},
  ): Promise<RawResponse<H>> {
    const correlationId = this.send(apiKey, header, payload, options);
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, { resolve: resolve as (r: RawResponse) => void, reject });
    });
  }

  /** Sends a request without waiting (acks 0); returns its correlation id. */
  send(apiKey: number, header: unknown, payload?: Buffer | Buffer[], options: { apiVersion?: number } = {}): number {
    const correlationId = this.nextCorrelationId++;
    for (const part of encodeRequestFrame(correlationId, apiKey, options.apiVersion ?? 0, header, payload)) this.socket.write(part);
    return correlationId;
  }

  /** Registers interest in a correlation id sent by writeRaw. */
  expect(correlationId: number): Promise<RawResponse> {
    return new Promise((resolve, reject) => this.waiting.set(correlationId, { resolve, reject }));
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  // Typed shortcuts.

  async createTopic(name: string, partitions = 1, config?: Record<string, string | number>): Promise<M.CreateTopicsResponse> {
    const response = await this.request<M.CreateTopicsResponse>(ApiKey.CreateTopics, { topics: [{ name, partitions, ...(config ? { config } : {}) }] });
    return response.header;
  }

  async produce(topic: string, partition: number, batches: Buffer, acks: 0 | 1 | -1 = -1): Promise<M.ProducePartitionResult> {
    const response = await this.request<M.ProduceResponse>(ApiKey.Produce, { acks, timeoutMs: 30000, partitions: [{ topic, partition, size: batches.length }] }, batches);
    if (response.header.errorCode !== 0) throw new Error(`produce failed: ${JSON.stringify(response.header)}`);
    return response.header.partitions[0]!;
  }

  async fetch(
    partitions: Array<{ topic: string; partition: number; offset: number; maxBytes?: number }>,
    options: { maxWaitMs?: number; minBytes?: number; maxBytes?: number } = {},
  ): Promise<{ header: M.FetchResponse; parts: Buffer[] }> {
    const response = await this.request<M.FetchResponse>(ApiKey.Fetch, {
      maxWaitMs: options.maxWaitMs ?? 0,
      minBytes: options.minBytes ?? 1,
      maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
      partitions: partitions.map((p) => ({ maxBytes: 1024 * 1024, ...p })),
    });
    const header = response.header;
    const parts = header.errorCode === 0 ? splitPayload(response.payload, header.partitions.map((p) => p.size)) : [];
    return { header, parts };
  }
}
