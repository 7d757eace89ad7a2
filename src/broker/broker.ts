// The broker: opens the storage (LogManager) and the group coordinator, listens on TCP
// (the native listener, and the Kafka listener when configured: one Connection class with
// a front per listener, see front.ts), and owns the connections. close() is the graceful shutdown: stop accepting, answer
// parked fetches at once, finish every request already read, close the connections,
// then close the coordinator and the storage (which fsyncs and writes checkpoints).
// The broker also owns what its connections share: the request memory pool and the
// reaper that closes stalled and idle connections.
// A listener with a TLS context (options.tls) is a node:tls server: its connections reach
// the generic Connection once the handshake is done, as TLSSockets; a failed or timed-out
// handshake (a plaintext client, an untrusted client certificate) closes the socket and
// is counted and logged as a refusal (security/tls.ts).

import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { principalFromSubject, type TlsContext } from '../security/tls.js';
import { performance } from 'node:perf_hooks';
import { GroupCoordinator } from '../groups/coordinator.js';
import { LogManager } from '../storage/index.js';
import { createNodeStorageFs, fileModes } from '../storage/fs.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Connection, type ConnectionShared } from './connection.js';
import type { WireFront } from './front.js';
import { kafkaFront } from './kafka/front.js';
import { nativeFront } from './native/front.js';
import { ConnectionReaper, reaperIntervalMs } from './connection-reaper.js';
import { openSecurity, type Security } from './authentication.js';
import type { BrokerContext } from './context.js';
import { streamLogger } from './logger.js';
import { BrokerMetrics, timedStorageFs, type RefusalReason } from './metrics.js';
import { observedLogManager } from './observed-logs.js';
import { resolveOptions, type BrokerOptions } from './options.js';
import { RequestMemoryPool } from './request-memory.js';
import { FetchWaiters } from './waiters.js';
import { SecurityStore } from './security-store.js';
import { localSecurityWrites } from './security-writes.js';
import { ReplicaManager } from './core/replica-fetch.js';
import { PeerPool } from './peer-requests.js';
import { coordinatorCluster } from './coordinator-cluster.js';
import { singleNodeMetadata } from './core/cluster-metadata.js';

export interface Broker {
  readonly host: string;
  readonly port: number;
  /** The Kafka listener's address, when it is on. */
  readonly kafka: { host: string; port: number } | null;
  /** Open connections (for tests and stats). */
  readonly connectionCount: number;
  /** A snapshot for tests and monitoring. */
  stats(): BrokerStats;
  /** The core's context, for the admin HTTP port's console API (http/ calls the core with it). */
  readonly context: BrokerContext;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
}

export interface BrokerStats {
  connections: number;
  parkedFetches: number;
  /** Requests read and not yet answered, per connection. */
  inFlight: number[];
  /** Response bytes held, per connection (see connection.ts). */
  heldResponseBytes: number[];
  /** Request bytes held across the broker: partial frames plus frames not yet dispatched (see request-memory.ts). */
  queuedRequestBytes: number;
}

export async function startBroker(brokerOptions: BrokerOptions): Promise<Broker> {
  const options = resolveOptions(brokerOptions);
  const logger = brokerOptions.logger ?? streamLogger();
  const clock = brokerOptions.clock ? { clock: brokerOptions.clock } : {};
  const warn = (message: string): void => logger.warn(message);
  const metrics = brokerOptions.metrics ?? new BrokerMetrics();
  const openStartedMs = performance.now();
  // Every fsync goes through this fs, so it is timed in one place (metrics.ts).
  const storageFs = timedStorageFs(brokerOptions.storageFs ?? createNodeStorageFs(fileModes(brokerOptions.fileMode)), metrics);
  const storage = await LogManager.open({
    dataDir: options.dataDir,
    fsync: options.fsync,
    ...(brokerOptions.topicDefaults ? { defaults: brokerOptions.topicDefaults } : {}),
    ...(brokerOptions.fileMode !== undefined ? { fileMode: brokerOptions.fileMode } : {}),
    ...(brokerOptions.maxOpenFiles !== undefined ? { maxOpenFiles: brokerOptions.maxOpenFiles } : {}),
    ...clock,
    fs: storageFs,
    warn,
    ...(brokerOptions.replication ? { replicated: true } : {}),
  });
  const logs = observedLogManager(storage, logger, metrics);
  // The leader's HW moves wake consumers parked on the partition (ctx is set below).
  const replicas = brokerOptions.replication
    ? new ReplicaManager(storage, brokerOptions.replication, (topic, partition) => ctx.waiters.notify(topic, partition))
    : undefined;
  let security: Security;
  try {
    // After the storage: the data directory is ours (its lock is held).
    security = openSecurity(options.dataDir, storageFs, brokerOptions, logger, brokerOptions.clock ?? systemClock, metrics);
  } catch (error) {
    await logs.close();
    throw error;
  }
  let coordinator: GroupCoordinator;
  let acls: SecurityStore;
  // Requests to other brokers (share-group state, dead letters) in a cluster.
  const peers = new PeerPool();
  try {
    acls = SecurityStore.open(storageFs, options.dataDir, { enabled: options.authorizerEnabled, superUsers: options.superUsers });
    coordinator = await GroupCoordinator.open(logs, {
      ...coordinatorCluster(brokerOptions, replicas, (topic, partition) => ctx.waiters.notify(topic, partition), peers, () => ctx),
      ...clock,
      warn,
      log: (level, message, fields) => logger[level](message, fields),
      ...(brokerOptions.shareLockDurationMs !== undefined ? { shareLockDurationMs: brokerOptions.shareLockDurationMs } : {}),
      ...(brokerOptions.shareDeliveryLimit !== undefined ? { shareDeliveryLimit: brokerOptions.shareDeliveryLimit } : {}),
      ...(brokerOptions.shareMaxInFlightRecords !== undefined ? { shareMaxInFlightRecords: brokerOptions.shareMaxInFlightRecords } : {}),
    });
  } catch (error) {
    await logs.close();
    throw error;
  }
  const recoverySeconds = (performance.now() - openStartedMs) / 1000;
  metrics.setRecoverySeconds(recoverySeconds);
  logger.info(`opened ${options.dataDir} in ${recoverySeconds.toFixed(3)} s`, {
    dataDir: options.dataDir,
    recoverySeconds,
    topics: logs.listTopics().length,
    recoveredFiles: logs.recoveryReports.length,
  });
  const ctx: BrokerContext = {
    ...(replicas ? { replicas } : {}),
    peers,
    clusterMetadata: brokerOptions.clusterMetadata ?? singleNodeMetadata(() => ctx),
    ...(brokerOptions.producerIds ? { producerIds: brokerOptions.producerIds } : {}),
    logs,
    coordinator,
    waiters: new FetchWaiters(options.maxParkedFetches),
    options,
    logger,
    metrics,
    advertised: { host: options.host, port: options.port },
    kafkaAdvertised: options.kafkaListener ? { ...(options.kafkaAdvertised ?? options.kafkaListener) } : null,
    creatingTopics: new Map(),
    security: acls,
    credentials: security.credentials,
    securityWrites: localSecurityWrites(acls, security.credentials),
    sasl: security.sasl,
    shuttingDown: false,
  };
  // Records released (ack, lock expiry, a member leaving) wake parked ShareFetches.
  coordinator.shares.onAvailable = (topic, partition) => ctx.waiters.notify(topic, partition);
  const server = new BrokerServer(ctx, brokerOptions.clock ?? systemClock);
  try {
    await server.listen();
  } catch (error) {
    await coordinator.close();
    await logs.close();
    throw error;
  }
  metrics.attach({
    logs,
    coordinator,
    parkedFetches: () => ctx.waiters.parkedCount,
    connectionsByListener: () => server.connectionsByListener(),
    queuedRequestBytes: () => server.stats().queuedRequestBytes,
  });
  return server;
}

interface Listener {
  readonly server: Server;
  readonly front: WireFront<never, never, never>;
  readonly host: string;
  /** The configured port (0 picks one); the bound port after listen(). */
  port: number;
  readonly tls: TlsContext | null;
}

/** The listeners and their connections. */
class BrokerServer implements Broker {
  private readonly connections = new Set<Connection>();
  /** Open connections per listener name (for the metrics). */
  private readonly openByListener = new Map<string, number>();
  private readonly refusals: RefusalLog;
  private readonly listeners: Listener[] = [];
  private closing: Promise<void> | null = null;
  private readonly shared: ConnectionShared;
  private readonly reaper: ConnectionReaper;

  constructor(
    private readonly ctx: BrokerContext,
    clock: Clock,
  ) {
    this.addListener(nativeFront, ctx.options.host, ctx.options.port);
    if (ctx.options.kafkaListener) this.addListener(kafkaFront, ctx.options.kafkaListener.host, ctx.options.kafkaListener.port);
    this.shared = { requestMemory: new RequestMemoryPool(ctx.options.queuedMaxRequestBytes), clock };
    const { requestReadTimeoutMs, connectionsMaxIdleMs } = ctx.options;
    this.refusals = new RefusalLog(ctx);
    this.reaper = new ConnectionReaper(() => this.connections, reaperIntervalMs(requestReadTimeoutMs, connectionsMaxIdleMs, ctx.sasl?.connectionsMaxReauthMs ?? 0), clock, ctx.logger);
    // A deleted user loses its connections at once, on this broker whichever broker deleted it
    // (in a cluster the etcd watch replaces the store here too).
    ctx.credentials.onChange(() => this.closeRevokedSessions());
  }

  /**
   * Closes every connection whose SASL credential is gone from the store (security/sasl.ts
   * `revoked`), one log line per user. A scan of the connections per credential change: changes
   * are rare admin calls, connections at most maxConnections.
   */
  private closeRevokedSessions(): void {
    const sasl = this.ctx.sasl;
    if (sasl === null) return;
    const closedByPrincipal = new Map<string, number>();
    for (const connection of [...this.connections]) {
      if (!sasl.revoked(connection.session)) continue;
      const { principal } = connection.session;
      closedByPrincipal.set(principal, (closedByPrincipal.get(principal) ?? 0) + 1);
      connection.destroy();
    }
    for (const [principal, count] of closedByPrincipal) {
      this.ctx.logger.info(`closed ${count} connection(s) authenticated as ${principal}: its credential was deleted`, { principal, connections: count });
    }
  }

  get context(): BrokerContext {
    return this.ctx;
  }

  get host(): string {
    return this.ctx.options.host;
  }

  get port(): number {
    return this.listeners[0]!.port;
  }

  get kafka(): { host: string; port: number } | null {
    const listener = this.listeners[1];
    return listener ? { host: listener.host, port: listener.port } : null;
  }

  private addListener<F, T, R>(front: WireFront<F, T, R>, host: string, port: number): void {
    const tls = this.ctx.options.tls[front.name as 'native' | 'kafka'] ?? null;
    const server = tls === null ? createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => this.accept(socket, front)) : this.tlsServer(tls, front);
    server.maxConnections = this.ctx.options.maxConnections;
    // Node closes a connection past maxConnections itself and tells us through 'drop'.
    server.on('drop', (data) => this.refusals.refused(front.name, 'max_connections', data ? `${data.remoteAddress}:${data.remotePort}` : '?'));
    this.listeners.push({ server, front: front as unknown as WireFront<never, never, never>, host, port, tls });
  }

  /** A TLS listener: connections are accepted once their handshake is done. */
  private tlsServer<F, T, R>(tls: TlsContext, front: WireFront<F, T, R>): TlsServer {
    // Not allowHalfOpen: with it, a client that closes during the handshake (one that rejected
    // our certificate) leaves node's TLS socket waiting for the handshake timeout. The cost:
    // a TLS client that half-closes is not sent the answers still being made.
    const server = createTlsServer({ ...tls.serverOptions(), allowHalfOpen: false, noDelay: true }, (socket: TLSSocket) => {
      const refusal = tls.refusal(socket);
      if (refusal !== null) {
        this.refusals.refused(front.name, 'tls_client_certificate', remoteOf(socket), refusal);
        socket.destroy();
        return;
      }
      this.accept(socket, front);
    });
    // A handshake that fails or times out (a plaintext client, an untrusted certificate):
    // node has destroyed the socket, or does right after; the other connections go on.
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      const plaintext = error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || error.code === 'ERR_SSL_HTTP_REQUEST' ? ' (not TLS: a plaintext client?)' : '';
      this.refusals.refused(front.name, 'tls_handshake', remoteOf(socket), `TLS handshake failed: ${error.code ?? error.message}${plaintext}`);
      socket.destroy();
    });
    tls.attach(server);
    return server;
  }

  connectionsByListener(): Map<string, number> {
    return new Map(this.openByListener);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Listens on every listener; the ports picked for port 0 are then in ctx's advertised addresses. */
  async listen(): Promise<void> {
    try {
      for (const listener of this.listeners) {
        const { server } = listener;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(listener.port, listener.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (error) => this.ctx.logger.error(`${listener.front.name} listener error`, error));
        const address = server.address();
        if (typeof address === 'object' && address !== null) listener.port = address.port;
      }
    } catch (error) {
      for (const listener of this.listeners) if (listener.server.listening) listener.server.close();
      throw error;
    }
    this.ctx.advertised.port = this.port;
    const kafka = this.kafka;
    // Port 0 picked a port: advertise it (an explicit --kafka-advertised stays as given).
    if (kafka && this.ctx.kafkaAdvertised && this.ctx.options.kafkaAdvertised === null) this.ctx.kafkaAdvertised.port = kafka.port;
    this.reaper.start();
  }

  stats(): BrokerStats {
    return {
      connections: this.connections.size,
      parkedFetches: this.ctx.waiters.parkedCount,
      inFlight: [...this.connections].map((c) => c.inFlight),
      heldResponseBytes: [...this.connections].map((c) => c.heldResponseBytes),
      queuedRequestBytes: this.shared.requestMemory.heldBytes,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private accept<F, T, R>(socket: Socket, front: WireFront<F, T, R>): void {
    if (this.ctx.shuttingDown) {
      this.refusals.refused(front.name, 'shutting_down', `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, this.ctx, this.shared, front) as Connection;
    if ('encrypted' in socket && (socket as TLSSocket).authorized) {
      const subject = (socket as TLSSocket).getPeerX509Certificate()?.subject;
      if (subject !== undefined) this.ctx.logger.debug?.(`${front.name} TLS client authenticated as ${principalFromSubject(subject)}`, { listener: front.name, remote: connection.remote, principal: principalFromSubject(subject) });
    }
    this.connections.add(connection);
    this.ctx.metrics.connectionAccepted(front.name);
    this.openByListener.set(front.name, (this.openByListener.get(front.name) ?? 0) + 1);
    void connection.closedSignal.then(() => {
      this.connections.delete(connection);
      this.openByListener.set(front.name, (this.openByListener.get(front.name) ?? 1) - 1);
    });
  }

  private async shutdown(): Promise<void> {
    const { ctx } = this;
    ctx.shuttingDown = true;
    ctx.replicas?.close();
    // Shutdown has its own deadline (shutdownTimeoutMs) for the connections left.
    this.reaper.stop();
    const serverClosed = Promise.all(this.listeners.map((listener) => new Promise<void>((resolve) => listener.server.close(() => resolve()))));
    ctx.waiters.wakeAll();
    const drained = Promise.all([...this.connections].map((connection) => connection.shutdown()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ctx.options.shutdownTimeoutMs);
    });
    const late = await Promise.race([drained.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      ctx.logger.warn(`shutdown: ${this.connections.size} connection(s) still busy after ${ctx.options.shutdownTimeoutMs} ms; dropping them`);
      for (const connection of this.connections) connection.destroy();
    }
    await serverClosed;
    for (const listener of this.listeners) listener.tls?.detach(listener.server as TlsServer);
    try {
      await ctx.coordinator.close();
    } finally {
      ctx.peers.close();
      await ctx.logs.close();
    }
  }
}

/**
 * Counts refused connections and logs them, at most one line per listener and reason every
 * REFUSAL_LOG_INTERVAL_MS (a flood of refused connections must not become a flood of lines).
 */
class RefusalLog {
  private readonly lastLoggedMs = new Map<string, { atMs: number; unlogged: number }>();

  constructor(private readonly ctx: BrokerContext) {}

  refused(listener: string, reason: RefusalReason, remote: string, detail?: string): void {
    this.ctx.metrics.connectionRefused(listener, reason);
    const key = `${listener} ${reason}`;
    const nowMs = performance.now();
    const last = this.lastLoggedMs.get(key);
    if (last !== undefined && nowMs - last.atMs < REFUSAL_LOG_INTERVAL_MS) {
      last.unlogged++;
      return;
    }
    const alsoRefused = last?.unlogged ?? 0;
    this.lastLoggedMs.set(key, { atMs: nowMs, unlogged: 0 });
    const why = detail ?? (reason === 'max_connections' ? `${this.ctx.options.maxConnections} connections are open (maxConnections)` : 'the broker is shutting down');
    const more = alsoRefused > 0 ? ` (${alsoRefused} more refused since the last line)` : '';
    this.ctx.logger.warn(`refused ${listener} connection from ${remote}: ${why}${more}`, { listener, remote, reason, alsoRefused });
  }
}

const REFUSAL_LOG_INTERVAL_MS = 10_000;

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
