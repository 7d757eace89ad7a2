// The entry point of the SDK: holds the broker list, the retry policy and the
// connections, and hands out producers, consumers and an admin. One "default"
// connection carries metadata, produce and admin requests (pipelined); every consumer
// opens its own connection for long-poll fetches so a parked fetch never delays a
// produce or admin response queued behind it on the same socket.
//
// A cluster (Metadata lists several brokers): produce goes to each partition's leader over
// one connection per broker (leaderConnection(), made lazily; the default connection
// when it already reaches that broker), and consumers fetch from leaders over connections
// of their own. The bootstrap list and every broker Metadata named are the addresses
// the default connection moves through when a broker does not answer.

import { ApiKey, type Payload } from '../protocol/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import { EventEmitter } from 'node:events';
import { Connection, type ConnectionObserver, type RequestOptions, type Response } from './connection.js';
import { SILENT_LOGGER, checkLogger, eventLevel, eventMessage, type ClientEventName, type ClientEvents, type Logger } from './observer.js';
import { closedError } from './errors.js';
import { ANY_BROKER, MetadataCache } from './metadata.js';
import { RetryPolicy, type RetryOptions } from './retry.js';
import { CLIENT_OPTIONS, checkOptions, checkRetryOptions } from './options.js';
import { Producer, type ProducerConfig } from './producer.js';
import { Consumer, type ConsumerConfig } from './consumer.js';
import { Admin } from './admin.js';
import { ShareConsumer, type ShareConsumerConfig } from './share-consumer.js';
import { checkSaslConfig, type SaslConfig } from './sasl.js';
import { tlsOptionsOf, type ClientSsl, type ClientTlsOptions } from './tls.js';

export interface ClientConfig {
  /** "host:port" strings; connections go to the first that answers. */
  brokers: string[];
  clientId?: string;
  /** Time a request may wait for its response (a fetch adds its maxWaitMs). Default 30 000. */
  requestTimeoutMs?: number;
  /** Time to establish a TCP connection and handshake. Default 10 000. */
  connectTimeoutMs?: number;
  /** Backoff policy for retriable errors; see retry.ts for the defaults. */
  retry?: RetryOptions;
  /** A pino-compatible logger (debug, info, warn, error taking (obj, msg)); every client event is logged. Default: silent. */
  logger?: Logger;
  /** SASL authentication on every connection: `{ mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain', username, password }` (sasl.ts). */
  sasl?: SaslConfig;
  /** TLS as kafkajs spells it: true (system CAs) or tls.connect options { ca, cert, key, rejectUnauthorized, servername }. Default: plaintext. */
  ssl?: ClientSsl;
}

export interface ClientRequestOptions extends RequestOptions {
  /** Use this connection instead of the default one (a consumer's fetch connection). */
  connection?: Connection;
  /** false: one attempt only. Default true (the client's retry policy). */
  retry?: boolean;
}

interface Closable {
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Default of close({ timeoutMs }): `docker stop`'s grace period; pass less from a SIGTERM handler with other work to do. */
const CLOSE_TIMEOUT_MS = 10_000;

export class Client extends EventEmitter<ClientEvents> {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retryPolicy: RetryPolicy;
  readonly metadata: MetadataCache;
  readonly logger: Logger;
  private readonly brokers: Array<{ host: string; port: number }>;
  private readonly sasl: ReturnType<typeof checkSaslConfig> | undefined;
  private readonly tls: ClientTlsOptions | null;
  private brokerIndex = 0;
  private defaultConnection: Connection | null = null;
  /** One connection per broker for requests routed to leaders (a cluster), by node id. */
  private readonly leaderConnections = new Map<number, Connection>();
  private readonly connections = new Set<Connection>();
  private readonly children = new Set<Closable>();
  private readonly abort = new AbortController();
  private closed = false;

  constructor(options: ClientConfig) {
    super();
    const config = checkOptions(options, { where: 'new Client()', ...CLIENT_OPTIONS });
    this.logger = checkLogger(config.logger) ?? SILENT_LOGGER;
    if (!Array.isArray(config.brokers) || config.brokers.length === 0) {
      throw new SpoolError(Errors.INVALID_REQUEST, 'Client needs at least one broker address ("host:port")');
    }
    this.brokers = config.brokers.map(parseAddress);
    this.clientId = config.clientId ?? 'spool-js';
    this.requestTimeoutMs = config.requestTimeoutMs ?? 30_000;
    this.connectTimeoutMs = config.connectTimeoutMs ?? 10_000;
    this.retryPolicy = new RetryPolicy(checkRetryOptions(config.retry, 'new Client() retry'));
    this.tls = tlsOptionsOf(config.ssl);
    this.metadata = new MetadataCache(this);
    this.sasl = config.sasl === undefined ? undefined : checkSaslConfig(config.sasl, 'new Client()');
  }

  /** Aborted when the client closes: sleeps and retry loops watch it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  producer(config: ProducerConfig = {}): Producer {
    return this.track(new Producer(this, config));
  }

  consumer(config: ConsumerConfig = {}): Consumer {
    return this.track(new Consumer(this, config));
  }

  /** A member of a share group: records are acquired and acknowledged one by one (share-consumer.ts). */
  shareConsumer(config: ShareConsumerConfig): ShareConsumer {
    return this.track(new ShareConsumer(this, config));
  }

  admin(): Admin {
    return new Admin(this);
  }

  /**
   * A new connection to the current broker (or to `to`: a group's coordinator), owned by the
   * caller (closed by it or by client.close()). Consumers use one each for their fetches.
   */
  createConnection(to?: { host: string; port: number }): Connection {
    if (this.closed) throw closedError('client');
    if (to !== undefined) return this.connectTo(to);
    const addresses = this.addresses();
    return this.connectTo(addresses[this.brokerIndex % addresses.length]!);
  }

  /**
   * A new connection to broker `nodeId` (from Metadata), owned by the caller like
   * createConnection()'s; the current broker when the node is unknown (ANY_BROKER).
   */
  createConnectionTo(nodeId: number): Connection {
    if (this.closed) throw closedError('client');
    const broker = this.metadata.brokers.get(nodeId);
    return broker === undefined ? this.createConnection() : this.connectTo(broker);
  }

  private connectTo(broker: { host: string; port: number }): Connection {
    const connection = new Connection({
      host: broker.host,
      port: broker.port,
      clientId: this.clientId,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      observer: this.connectionObserver(`${broker.host}:${broker.port}`),
      ...(this.sasl ? { sasl: this.sasl } : {}),
      ...(this.tls ? { tls: this.tls } : {}),
    });
    this.connections.add(connection);
    return connection;
  }

  /** The bootstrap addresses, then every other broker the last Metadata named. */
  private addresses(): Array<{ host: string; port: number }> {
    if (this.metadata.brokers.size <= 1) return this.brokers;
    const known = new Set(this.brokers.map((broker) => `${broker.host}:${broker.port}`));
    const addresses = [...this.brokers];
    for (const broker of this.metadata.brokers.values()) if (!known.has(`${broker.host}:${broker.port}`)) addresses.push(broker);
    return addresses;
  }

  /**
   * The connection for requests led by `nodeId` (ANY_BROKER: the default one). With one
   * broker, or when the default connection reaches that broker's address, that is the
   * default connection, so a single broker keeps one connection and one path.
   */
  leaderConnection(nodeId: number): Connection {
    if (this.closed) throw closedError('client');
    if (nodeId === ANY_BROKER || !this.metadata.routed) return this.connection();
    const broker = this.metadata.brokers.get(nodeId);
    if (broker === undefined) return this.connection();
    const address = `${broker.host}:${broker.port}`;
    const current = this.connection();
    if (current.address === address) return current;
    const existing = this.leaderConnections.get(nodeId);
    if (existing !== undefined && existing.address === address) return existing;
    if (existing !== undefined) void this.releaseConnection(existing);
    const created = this.connectTo(broker);
    this.leaderConnections.set(nodeId, created);
    return created;
  }

  /** Metadata named the brokers anew: connections to brokers that left (or moved) are closed. */
  brokersChanged(): void {
    for (const [nodeId, connection] of this.leaderConnections) {
      const broker = this.metadata.brokers.get(nodeId);
      if (broker !== undefined && connection.address === `${broker.host}:${broker.port}`) continue;
      this.leaderConnections.delete(nodeId);
      void this.releaseConnection(connection);
    }
  }

  /**
   * Emits a client event and logs it at its level (observer.ts). A throwing listener or
   * logger must not break the client's own code path (often a socket callback): its error is
   * rethrown on a microtask, where it surfaces as an uncaught exception.
   */
  notify<E extends ClientEventName>(event: E, payload: ClientEvents[E][0]): void {
    try {
      this.logger[eventLevel(event, payload)]({ event, ...payload }, eventMessage(event, payload));
      if (this.listenerCount(event) > 0) (this.emit as (name: E, value: ClientEvents[E][0]) => boolean)(event, payload);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  private connectionObserver(broker: string): ConnectionObserver {
    return {
      connected: () => this.notify('connect', { broker }),
      disconnected: (error) => this.notify('disconnect', error === undefined ? { broker } : { broker, error }),
      connectFailed: (error) => this.notify('connect.error', { broker, error }),
      requestTimedOut: (apiKey, timeoutMs) => this.notify('request.timeout', { broker, apiKey, timeoutMs }),
    };
  }

  /** Closes and forgets a connection made by createConnection(). */
  async releaseConnection(connection: Connection): Promise<void> {
    this.connections.delete(connection);
    await connection.close();
  }

  /** The shared connection for metadata, produce and admin requests. */
  connection(): Connection {
    if (this.closed) throw closedError('client');
    if (this.defaultConnection === null) this.defaultConnection = this.createConnection();
    return this.defaultConnection;
  }

  /** One attempt on a connection, no retry (the producer runs its own retries). */
  send(apiKey: ApiKey, header: unknown, payload?: Payload, options: ClientRequestOptions = {}): Promise<Response> {
    if (this.closed) return Promise.reject(closedError('client'));
    const connection = options.connection ?? this.connection();
    return connection.request(apiKey, header, payload, options).catch((error: unknown) => {
      this.onFailure(connection, error);
      throw error;
    });
  }

  /** A request with the client's retry policy on retriable errors (reconnecting as needed). */
  request(apiKey: ApiKey, header: unknown, payload?: Payload, options: ClientRequestOptions = {}): Promise<Response> {
    if (options.retry === false) return this.send(apiKey, header, payload, options);
    return this.retryPolicy.run(() => this.send(apiKey, header, payload, options), { signal: this.signal });
  }

  /**
   * After a connection failure, the next connection tries the next broker address. The
   * broken default connection is replaced so a new socket (with a new address) is made.
   */
  private onFailure(connection: Connection, error: unknown): void {
    if (!(error instanceof SpoolError)) return;
    if (error.kind !== Errors.BROKER_NOT_AVAILABLE) return;
    // A leader's connection stays on its broker: the producer refreshes metadata instead.
    if (connection !== this.defaultConnection && this.leaderConnections.get(leaderNodeOf(this.leaderConnections, connection)) === connection) return;
    if (this.addresses().length > 1) {
      this.brokerIndex++;
      if (connection === this.defaultConnection) {
        this.defaultConnection = null;
        this.connections.delete(connection);
        void connection.close();
      }
    }
  }

  private track<T extends Closable>(child: T): T {
    if (this.closed) throw closedError('client');
    this.children.add(child);
    return child;
  }

  /** Called by a producer or consumer that closed on its own. */
  forget(child: Closable): void {
    this.children.delete(child);
  }

  /**
   * Closes producers (delivering what they buffered), consumers, then every socket and
   * timer, so the process can exit. Idempotent. Gives up after `timeoutMs` (default 10 s):
   * send() calls not yet acknowledged then reject with REQUEST_TIMED_OUT, and the sockets
   * are closed whatever is still pending.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    const timeoutMs = options.timeoutMs ?? CLOSE_TIMEOUT_MS;
    const children = [...this.children];
    let timer: NodeJS.Timeout | null = null;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
    // Producers give up on their own at the deadline (failing their unsent sends); a consumer
    // still closing then (a leave the broker does not answer) is cut off below: the abort
    // ends its retry sleeps and closing the sockets fails its requests.
    await Promise.race([Promise.allSettled(children.map((child) => child.close({ timeoutMs }))), expired]);
    if (timer !== null) clearTimeout(timer);
    if (this.closed) return;
    this.closed = true;
    this.abort.abort(closedError('client'));
    this.metadata.clear();
    const connections = [...this.connections];
    this.connections.clear();
    this.leaderConnections.clear();
    this.defaultConnection = null;
    await Promise.allSettled(connections.map((connection) => connection.close()));
  }
}

function leaderNodeOf(connections: ReadonlyMap<number, Connection>, connection: Connection): number {
  for (const [nodeId, candidate] of connections) if (candidate === connection) return nodeId;
  return ANY_BROKER;
}

function parseAddress(address: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(address.trim());
  if (!match || match[1] === '') {
    throw new SpoolError(Errors.INVALID_REQUEST, `broker address "${address}" is not host:port`);
  }
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  const port = Number(match[2]);
  if (!(port > 0 && port < 65536)) throw new SpoolError(Errors.INVALID_REQUEST, `broker address "${address}" has a bad port`);
  return { host, port };
}
