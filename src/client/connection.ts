// One TCP connection to a broker with many requests in flight (pipelining). Requests
// are matched to responses by correlation id (responses come back in request order on
// one connection); a request that expects no response (Produce with acks 0) is never
// registered as pending. Frames are written with cork/uncork so the frame header and
// the record-batch payload buffers go out in one writev without being copied; when
// the socket's buffer is full (write returned false) later frames wait for 'drain'.
//
// A connection is lazy: it connects on the first request and again after the socket
// closes; reconnect backoff is the caller's retry policy (Client.request), which sees
// retriable errors (BROKER_NOT_AVAILABLE, NETWORK_ERROR, REQUEST_TIMED_OUT).
//
// With `tls` the socket is a node:tls one, connected once its handshake is done; a TLS
// failure, during the handshake or just after (a TLS 1.3 broker refuses a client
// certificate after the client has finished), is TLS_HANDSHAKE_FAILED naming the broker
// (tls.ts).

import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ApiKey, SupportedVersions, ResponseFrameDecoder, decodeBody, encodeRequestFrame, errorFromFields, type Payload } from '../protocol/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import { stageTraceOn, traceNowUs, traceReads } from '../util/stage-trace.js';
import { wrapError } from './errors.js';
import { plainMessage, ScramClient, type checkSaslConfig } from './sasl.js';
import { tlsAnswer, tlsFailure, type ClientTlsOptions } from './tls.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Largest response frame accepted. Default 100 MiB + 1 MiB (a fetch of maxBytes plus headers). */
  maxFrameBytes?: number;
  /** Sends ApiVersions after connecting and checks that the broker speaks our versions. Default true. */
  handshake?: boolean;
  /** Told of connects, disconnects, failed connects and request timeouts (the client's events and logger). */
  observer?: ConnectionObserver;
  /** Authenticate with SASL right after the handshake, before any other request (sasl.ts). */
  sasl?: ReturnType<typeof checkSaslConfig>;
  /** Connect over TLS with these tls.connect options (the Client's `ssl`). Default: plaintext. */
  tls?: ClientTlsOptions | null;
}

export interface ConnectionObserver {
  connected(): void;
  /** An established connection broke (error) or was closed by its owner (undefined). */
  disconnected(error: Error | undefined): void;
  connectFailed(error: Error): void;
  requestTimedOut(apiKey: number, timeoutMs: number): void;
}

export interface Response {
  header: Record<string, unknown>;
  /** Record-batch bytes of the response (a subarray of the frame). */
  payload: Buffer;
}

export interface RequestOptions {
  /** Overrides requestTimeoutMs (a long-poll fetch adds its maxWaitMs). */
  timeoutMs?: number;
  /** false: resolve once the frame is written (Produce with acks 0). Default true. */
  expectResponse?: boolean;
}

interface Pending {
  correlationId: number;
  apiKey: number;
  resolve: (response: Response) => void;
  reject: (error: SpoolError) => void;
  timer: NodeJS.Timeout | undefined;
}

type WriteDone = ((error?: Error | null) => void) | undefined;

interface QueuedWrite {
  frame: Buffer[];
  done: WriteDone;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly writeQueue: QueuedWrite[] = [];
  private decoder: ResponseFrameDecoder | null = null;
  private nextCorrelationId = 1;
  /** Requests waiting for the connect to finish (they go out in call order, before any later one). */
  private connectWaiters = 0;
  private closed = false;

  constructor(readonly options: ConnectionOptions) {}

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get isConnected(): boolean {
    return this.socket !== null;
  }

  /** Requests waiting for a response. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Connects if not connected; resolves when the handshake is done. */
  async connect(): Promise<void> {
    await this.ensureSocket();
  }

  /**
   * Sends one request. Resolves with the response (or, when expectResponse is false,
   * once the frame is handed to the kernel). Rejects with a SpoolError: the response's
   * top-level error, NETWORK_ERROR when the connection breaks, REQUEST_TIMED_OUT.
   */
  async request(apiKey: ApiKey, header: unknown, payload?: Payload, options: RequestOptions = {}): Promise<Response> {
    // While the handshake runs the socket is set but earlier requests still wait for the
    // connect: this one waits behind them, or it would overtake them on the wire (an
    // idempotent producer's pipelined batches would reach the broker out of sequence).
    let socket = this.connecting === null && this.connectWaiters === 0 ? this.socket : null;
    if (socket === null) {
      this.connectWaiters++;
      try {
        socket = await this.ensureSocket();
      } finally {
        this.connectWaiters--;
      }
    }
    return this.send(socket, apiKey, header, payload, options);
  }

  /**
   * Like request() but synchronous up to the write when connected: the frame is queued in
   * call order, which keeps the per-connection order of back-to-back calls.
   */
  private send(socket: Socket, apiKey: ApiKey, header: unknown, payload: Payload, options: RequestOptions): Promise<Response> {
    if (this.closed) return Promise.reject(new SpoolError(Errors.NETWORK_ERROR, `connection to ${this.address} is closed`));
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = this.nextCorrelationId >= 0x7fffffff ? 1 : this.nextCorrelationId + 1;
    const version = SupportedVersions[apiKey][1];
    const frame = encodeRequestFrame(correlationId, apiKey, version, header, payload);
    if (options.expectResponse === false) {
      return new Promise<Response>((resolve, reject) => {
        this.write(socket, frame, (error) => {
          if (error) reject(wrapError(Errors.NETWORK_ERROR, `write to ${this.address} failed`, error));
          else resolve({ header: {}, payload: EMPTY });
        });
      });
    }
    return new Promise<Response>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
      const entry: Pending = { correlationId, apiKey, resolve, reject, timer: undefined };
      entry.timer = setTimeout(() => {
        // The late response, if any, finds no pending entry and is dropped; the
        // connection stays usable for the requests behind it.
        this.pending.delete(correlationId);
        this.options.observer?.requestTimedOut(apiKey, timeoutMs);
        reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `request ${correlationId} (api ${apiKey}) to ${this.address} got no response in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, entry);
      this.write(socket, frame, undefined);
    });
  }

  private write(socket: Socket, frame: Buffer[], done: WriteDone): void {
    if (this.writeQueue.length > 0 || socket.writableNeedDrain) {
      this.writeQueue.push({ frame, done });
      return;
    }
    this.writeFrame(socket, frame, done);
  }

  private writeFrame(socket: Socket, frame: Buffer[], done: WriteDone): void {
    if (frame.length === 1) {
      socket.write(frame[0]!, done);
      return;
    }
    socket.cork();
    const last = frame.length - 1;
    for (let index = 0; index < last; index++) socket.write(frame[index]!);
    socket.write(frame[last]!, done);
    socket.uncork();
  }

  private onDrain(socket: Socket): void {
    while (this.writeQueue.length > 0 && !socket.writableNeedDrain) {
      const next = this.writeQueue.shift()!;
      this.writeFrame(socket, next.frame, next.done);
    }
  }

  private ensureSocket(): Promise<Socket> {
    if (this.closed) return Promise.reject(new SpoolError(Errors.NETWORK_ERROR, `connection to ${this.address} is closed`));
    if (this.socket && this.connecting === null) return Promise.resolve(this.socket);
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<Socket> {
    try {
      const socket = await this.openSocket();
      this.options.observer?.connected();
      return socket;
    } catch (error) {
      if (!this.closed) this.options.observer?.connectFailed(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  private async openSocket(): Promise<Socket> {
    const { host, port, connectTimeoutMs, tls } = this.options;
    const socket: Socket = tls ? tlsConnect({ ...tls, host, port }) : new Socket();
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SpoolError(Errors.BROKER_NOT_AVAILABLE, `could not connect to ${this.address} in ${connectTimeoutMs} ms${tls ? ' (TCP and TLS handshake)' : ''}`));
      }, connectTimeoutMs);
      const connected = (): void => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve();
      };
      socket.once('error', (error) => {
        clearTimeout(timer);
        socket.destroy();
        reject((tls ? tlsFailure(this.address, error, false) : null) ?? wrapError(Errors.BROKER_NOT_AVAILABLE, `could not connect to ${this.address}`, error));
      });
      if (tls) socket.once('secureConnect', connected);
      else socket.connect(port, host, connected);
    });
    if (this.closed) {
      socket.destroy();
      throw new SpoolError(Errors.NETWORK_ERROR, `connection to ${this.address} is closed`);
    }
    this.attach(socket);
    if (this.options.handshake !== false || this.options.sasl) {
      try {
        if (this.options.handshake !== false) await this.handshake(socket);
        if (this.options.sasl) this.scheduleReauthentication(socket, this.options.sasl, await this.authenticate(socket, this.options.sasl, this.options.connectTimeoutMs));
      } catch (error) {
        socket.destroy();
        // Closed with no answer to the first request: what a TLS listener does to a plaintext client.
        if (!tls && error instanceof SpoolError && error.kind === Errors.NETWORK_ERROR && error.message.endsWith('was closed')) {
          throw new SpoolError(Errors.NETWORK_ERROR, `${this.address} closed the connection without answering the first request (a TLS port? connect with ssl / --tls-ca)`);
        }
        throw error;
      }
    }
    return socket;
  }

  private attach(socket: Socket): void {
    this.decoder = new ResponseFrameDecoder({ maxFrameBytes: this.options.maxFrameBytes ?? 101 * 1024 * 1024 });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('drain', () => this.onDrain(socket));
    socket.on('error', (error) =>
      this.onBroken(socket, (this.options.tls ? tlsFailure(this.address, error, true) : null) ?? wrapError(Errors.NETWORK_ERROR, `connection to ${this.address} failed`, error)),
    );
    socket.on('close', () => this.onBroken(socket, new SpoolError(Errors.NETWORK_ERROR, `connection to ${this.address} was closed`)));
  }

  private async handshake(socket: Socket): Promise<void> {
    const response = await this.send(socket, ApiKey.ApiVersions, { clientSoftwareName: 'spool-js', clientSoftwareVersion: '0.1.0', clientId: this.options.clientId }, undefined, {
      timeoutMs: this.options.connectTimeoutMs,
    });
    const apis = response.header['apis'];
    if (!Array.isArray(apis)) return;
    for (const api of apis as Array<{ apiKey: number; minVersion: number; maxVersion: number }>) {
      const ours = SupportedVersions[api.apiKey as ApiKey];
      if (ours && (ours[1] < api.minVersion || ours[1] > api.maxVersion)) {
        throw new SpoolError(Errors.UNSUPPORTED_VERSION, `broker ${this.address} does not speak version ${ours[1]} of api ${api.apiKey}`);
      }
    }
  }

  /**
   * SaslHandshake, then the mechanism's SaslAuthenticate round trips; rejects with the broker's
   * error (SASL_AUTHENTICATION_FAILED...). Resolves to the session lifetime the broker answered
   * (its --connections-max-reauth-ms; 0: the session does not expire).
   */
  private async authenticate(socket: Socket, sasl: NonNullable<ConnectionOptions['sasl']>, timeoutMs: number): Promise<number> {
    let sessionLifetimeMs = 0;
    const step = async (message: Buffer): Promise<Buffer> => {
      const response = await this.send(socket, ApiKey.SaslAuthenticate, { authBytes: message }, undefined, { timeoutMs });
      const lifetime = response.header['sessionLifetimeMs'];
      sessionLifetimeMs = typeof lifetime === 'number' && Number.isSafeInteger(lifetime) && lifetime > 0 ? lifetime : 0;
      const bytes = response.header['authBytes'];
      return bytes instanceof Uint8Array ? Buffer.from(bytes) : Buffer.alloc(0);
    };
    await this.send(socket, ApiKey.SaslHandshake, { mechanism: sasl.mechanism }, undefined, { timeoutMs });
    if (sasl.mechanism === 'PLAIN') {
      await step(plainMessage(sasl.username, sasl.password));
      return sessionLifetimeMs;
    }
    const scram = new ScramClient(sasl.mechanism, sasl.username, sasl.password);
    const serverFirst = await step(scram.first());
    scram.verify(await step(await scram.final(serverFirst)));
    return sessionLifetimeMs;
  }

  /**
   * KIP-368 on the native wire: when the broker gave the session a lifetime, authenticate again
   * on the same socket at a random point between 75% and 90% of it (Kafka's Java client picks
   * 85-95%; a little earlier here because the answers can wait behind a parked fetch), pipelined
   * with the other requests. A failed re-authentication (the user was deleted, the password
   * changed) ends the connection: its requests fail NETWORK_ERROR and the next request
   * connects and logs in again, which fails the same way.
   */
  private scheduleReauthentication(socket: Socket, sasl: NonNullable<ConnectionOptions['sasl']>, sessionLifetimeMs: number): void {
    if (sessionLifetimeMs <= 0) return;
    const delayMs = Math.floor(sessionLifetimeMs * (0.75 + Math.random() * 0.15));
    const timer = setTimeout(() => {
      if (this.socket !== socket || this.closed) return;
      const timeoutMs = Math.max(this.options.connectTimeoutMs, this.options.requestTimeoutMs);
      this.authenticate(socket, sasl, timeoutMs).then(
        (next) => this.scheduleReauthentication(socket, sasl, next),
        (error: unknown) => this.onBroken(socket, error instanceof SpoolError ? error : wrapError(Errors.NETWORK_ERROR, `re-authentication with ${this.address} failed`, error)),
      );
    }, delayMs);
    // The socket's end clears it; it never keeps the process alive on its own.
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket || this.decoder === null) return;
    if (stageTraceOn) traceReads.lastReadUs = traceNowUs();
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      socket.destroy();
      this.onBroken(socket, notSpool(this.address, chunk) ?? tlsAnswer(this.address, chunk) ?? wrapError(Errors.NETWORK_ERROR, `bad frame from ${this.address}`, error));
      return;
    }
    for (const frame of frames) {
      const entry = this.pending.get(frame.correlationId);
      if (entry === undefined) continue; // timed out earlier: nobody waits for it
      this.pending.delete(frame.correlationId);
      clearTimeout(entry.timer);
      let response: Response;
      try {
        response = decodeBody(frame.body);
      } catch (error) {
        entry.reject(wrapError(Errors.NETWORK_ERROR, `bad response body from ${this.address}`, error));
        continue;
      }
      const failure = errorFromFields(response.header);
      if (failure) entry.reject(failure);
      else entry.resolve(response);
    }
  }

  private onBroken(socket: Socket, error: SpoolError): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.decoder = null;
    socket.destroy();
    // Only once the handshake is done is the connection "up" (a failed handshake is a connect failure).
    if (this.connecting === null) this.options.observer?.disconnected(error);
    this.dropQueuedWrites(error);
    this.failPending(error);
  }

  /** Frames still queued never left: their acks-0 writers learn it here. */
  private dropQueuedWrites(error: SpoolError): void {
    const queued = this.writeQueue.splice(0);
    for (const entry of queued) entry.done?.(error);
  }

  private failPending(error: SpoolError): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  /** Closes the socket; requests in flight fail with NETWORK_ERROR. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const socket = this.socket;
    this.socket = null;
    this.decoder = null;
    const error = new SpoolError(Errors.NETWORK_ERROR, `connection to ${this.address} is closed`);
    this.dropQueuedWrites(error);
    this.failPending(error);
    if (socket && this.connecting === null) this.options.observer?.disconnected(undefined);
    if (socket) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        socket.destroy();
      });
    }
    if (this.connecting) await this.connecting.catch(() => undefined); // its failure is reported to the request that started it
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A frame that starts with "HTTP" (a size of 1213486160 bytes) is an HTTP server answering,
 * most often the broker's own admin HTTP port given by mistake: say so, and do not retry.
 */
function notSpool(address: string, chunk: Buffer): SpoolError | null {
  if (chunk.length < 4 || chunk.toString('latin1', 0, 4) !== 'HTTP') return null;
  return new SpoolError(Errors.NOT_A_SPOOL_BROKER, `${address} is not a spool broker: it answered HTTP (did you mean the HTTP port?)`);
}
