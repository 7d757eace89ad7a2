// A raw Kafka-wire test client over one net.Socket on 127.0.0.1: writes any bytes (frames
// built with the codec's encodeRequest, then mutated by hand), collects every response
// frame in arrival order, and says when the broker closed the connection. No client
// library in between, so a test sees exactly what the broker wrote.

import { connect, type Socket } from 'node:net';
import { type ApiKey, decodeResponse, encodeRequest, frameBytes, type RequestBodies, type RequestInput, type ResponseBodies } from '../../src/kafka/index.js';

export class KafkaWire {
  /** Response frames (the bytes after the size), in arrival order. */
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private pending = Buffer.alloc(0);
  private taken = 0;
  private wake: (() => void) | null = null;
  private nextCorrelationId = 1;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4 && this.pending.length >= 4 + this.pending.readInt32BE(0)) {
        const size = this.pending.readInt32BE(0);
        this.frames.push(Buffer.from(this.pending.subarray(4, 4 + size)));
        this.pending = this.pending.subarray(4 + size);
      }
      this.wake?.();
    });
    socket.on('error', () => {
      // Safe: a reset by the broker is what some tests expect; 'close' follows.
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static connect(address: string): Promise<KafkaWire> {
    const [host, port] = address.split(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port), noDelay: true }, () => resolve(new KafkaWire(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** A request frame (size prefix included) with this connection's next correlation id. */
  frame<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestInput<RequestBodies[K]>, clientId: string | null = 'bad-input'): { bytes: Buffer; correlationId: number } {
    const correlationId = this.nextCorrelationId++;
    return { bytes: frameBytes(encodeRequest(apiKey, apiVersion, correlationId, clientId, body)), correlationId };
  }

  /** The next response frame not yet taken; null when the connection closed first. */
  async next(): Promise<Buffer | null> {
    while (this.taken >= this.frames.length) {
      if (this.isClosed) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    return this.frames[this.taken++]!;
  }

  /** Sends a well-formed request and decodes its answer (asserting the correlation id). */
  async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestInput<RequestBodies[K]>): Promise<ResponseBodies[K]> {
    const { bytes, correlationId } = this.frame(apiKey, apiVersion, body);
    this.write(bytes);
    const frame = await this.next();
    if (frame === null) throw new Error(`connection closed before the answer to api key ${apiKey} v${apiVersion}`);
    const decoded = decodeResponse(apiKey, apiVersion, frame);
    if (decoded.correlationId !== correlationId) throw new Error(`answer for correlation id ${decoded.correlationId}, expected ${correlationId}`);
    return decoded.body;
  }

  destroy(): void {
    this.socket.destroy();
  }

  async close(): Promise<void> {
    this.socket.end();
    await this.closed;
  }
}

/** The bare answer the front gives a request it cannot answer in its own schema. */
export function bareError(frame: Buffer): { correlationId: number; errorCode: number } {
  if (frame.length !== 6) throw new Error(`a bare error frame is 6 bytes, got ${frame.length}`);
  return { correlationId: frame.readInt32BE(0), errorCode: frame.readInt16BE(4) };
}
