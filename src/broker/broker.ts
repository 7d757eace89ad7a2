// The broker: opens the storage (LogManager) and the group coordinator, listens on TCP,
// and owns the connections. close() is the graceful shutdown: stop accepting, answer
// parked fetches at once, finish every request already read, close the connections,
// then close the coordinator and the storage (which fsyncs and writes checkpoints).

import { createServer, type Server, type Socket } from 'node:net';
import { GroupCoordinator } from '../groups/coordinator.js';
import { LogManager } from '../storage/index.js';
import { Connection } from './connection.js';
import type { BrokerContext } from './context.js';
import { streamLogger } from './logger.js';
import { resolveOptions, type BrokerOptions } from './options.js';
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
}

export async function startBroker(brokerOptions: BrokerOptions): Promise<Broker> {
  const options = resolveOptions(brokerOptions);
  const logger = brokerOptions.logger ?? streamLogger();
  const logs = await LogManager.open({
    dataDir: options.dataDir,
    fsync: options.fsync,
    ...(brokerOptions.topicDefaults ? { defaults: brokerOptions.topicDefaults } : {}),
    ...(brokerOptions.clock ? { clock: brokerOptions.clock } : {}),
    warn: (message: string) => logger.warn(message),
  });
  let coordinator: GroupCoordinator;
  try {
    coordinator = await GroupCoordinator.open(logs, {
      ...(brokerOptions.clock ? { clock: brokerOptions.clock } : {}),
      warn: (message: string) => logger.warn(message),
    });
  } catch (error) {
    await logs.close();
    throw error;
  }

  const connections = new Set<Connection>();
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

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    if (ctx.shuttingDown) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, ctx);
    connections.add(connection);
    void connection.closedSignal.then(() => connections.delete(connection));
  });
  server.maxConnections = options.maxConnections;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await coordinator.close();
    await logs.close();
    throw error;
  }
  server.on('error', (error) => logger.error('listener error', error));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  ctx.advertised.port = port;

  let closing: Promise<void> | null = null;
  const shutdown = async (): Promise<void> => {
    ctx.shuttingDown = true;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    ctx.waiters.wakeAll();
    const drained = Promise.all([...connections].map((connection) => connection.shutdown()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), options.shutdownTimeoutMs);
    });
    const late = await Promise.race([drained.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      logger.warn(`shutdown: ${connections.size} connection(s) still busy after ${options.shutdownTimeoutMs} ms; dropping them`);
      for (const connection of connections) connection.destroy();
    }
    await serverClosed;
    try {
      await coordinator.close();
    } finally {
      await logs.close();
    }
  };

  return {
    host: options.host,
    port,
    get connectionCount() {
      return connections.size;
    },
    stats() {
      return {
        connections: connections.size,
        parkedFetches: ctx.waiters.parkedCount,
        inFlight: [...connections].map((c) => c.inFlight),
        heldResponseBytes: [...connections].map((c) => c.heldResponseBytes),
      };
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
