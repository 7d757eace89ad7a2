// The broker: opens the storage (LogManager) and the group coordinator, listens on TCP,
// and owns the connections. close() is the graceful shutdown: stop accepting, answer
// parked fetches at once, finish every request already read, close the connections,
// then close the coordinator and the storage (which fsyncs and writes checkpoints).
// The broker also owns what its connections share: the request memory pool and the
// reaper that closes stalled and idle connections.

import { createServer, type Server, type Socket } from 'node:net';
import { GroupCoordinator } from '../groups/coordinator.js';
import { LogManager } from '../storage/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Connection, type ConnectionShared } from './connection.js';
import { ConnectionReaper, reaperIntervalMs } from './connection-reaper.js';
import type { BrokerContext } from './context.js';
import { streamLogger } from './logger.js';
import { resolveOptions, type BrokerOptions } from './options.js';
import { RequestMemoryPool } from './request-memory.js';
import { FetchWaiters } from './waiters.js';

export interface Broker {
  readonly host: string;
  readonly port: number;
  /** Open connections (for tests and stats). */
  readonly connectionCount: number;
  /** A snapshot for tests and monitoring. */
  stats(): BrokerStats;
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
  const logs = await LogManager.open({
    dataDir: options.dataDir,
    fsync: options.fsync,
    ...(brokerOptions.topicDefaults ? { defaults: brokerOptions.topicDefaults } : {}),
    ...(brokerOptions.fileMode !== undefined ? { fileMode: brokerOptions.fileMode } : {}),
    ...(brokerOptions.maxOpenFiles !== undefined ? { maxOpenFiles: brokerOptions.maxOpenFiles } : {}),
    ...clock,
    ...(brokerOptions.storageFs ? { fs: brokerOptions.storageFs } : {}),
    warn,
  });
  let coordinator: GroupCoordinator;
  try {
    coordinator = await GroupCoordinator.open(logs, { ...clock, warn });
  } catch (error) {
    await logs.close();
    throw error;
  }
  const ctx: BrokerContext = {
    logs,
    coordinator,
    waiters: new FetchWaiters(options.maxParkedFetches),
    options,
    logger,
    advertised: { host: options.host, port: options.port },
    creatingTopics: new Map(),
    shuttingDown: false,
  };
  const server = new BrokerServer(ctx, brokerOptions.clock ?? systemClock);
  try {
    ctx.advertised.port = await server.listen();
  } catch (error) {
    await coordinator.close();
    await logs.close();
    throw error;
  }
  return server;
}

/** The listener and its connections. */
class BrokerServer implements Broker {
  private readonly connections = new Set<Connection>();
  private readonly server: Server;
  private closing: Promise<void> | null = null;
  private readonly shared: ConnectionShared;
  private readonly reaper: ConnectionReaper;

  constructor(
    private readonly ctx: BrokerContext,
    clock: Clock,
  ) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => this.accept(socket));
    this.server.maxConnections = ctx.options.maxConnections;
    this.shared = { requestMemory: new RequestMemoryPool(ctx.options.queuedMaxRequestBytes), clock };
    const { requestReadTimeoutMs, connectionsMaxIdleMs } = ctx.options;
    this.reaper = new ConnectionReaper(() => this.connections, reaperIntervalMs(requestReadTimeoutMs, connectionsMaxIdleMs), clock, ctx.logger);
  }

  get host(): string {
    return this.ctx.options.host;
  }

  get port(): number {
    return this.ctx.advertised.port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Resolves with the port listened on. */
  async listen(): Promise<number> {
    const { port, host } = this.ctx.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (error) => this.ctx.logger.error('listener error', error));
    this.reaper.start();
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
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

  private accept(socket: Socket): void {
    if (this.ctx.shuttingDown) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, this.ctx, this.shared);
    this.connections.add(connection);
    void connection.closedSignal.then(() => this.connections.delete(connection));
  }

  private async shutdown(): Promise<void> {
    const { ctx } = this;
    ctx.shuttingDown = true;
    // Shutdown has its own deadline (shutdownTimeoutMs) for the connections left.
    this.reaper.stop();
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
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
    try {
      await ctx.coordinator.close();
    } finally {
      await ctx.logs.close();
    }
  }
}
