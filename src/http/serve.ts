// The order `spool serve` starts things in, so /readyz can tell an opening broker from a
// ready one: the admin HTTP port first, then the broker (storage recovery, groups,
// listeners), then ready. `open` is startBroker with the shared metrics (tests gate it to
// stand for a long recovery).

import type { Broker, BrokerMetrics, Logger, TlsContext } from '../broker/index.js';
import { Readiness } from './readiness.js';
import { startAdminHttp, type AdminHttp } from './server.js';

export interface ServeWithHttpOptions {
  /** null: no admin HTTP port (`--http off`). */
  http: { host: string; port: number; metricsAuthentication?: boolean } | null;
  metrics: BrokerMetrics;
  logger: Logger;
  /** Serve the admin port over HTTPS with this context (security/tls.ts). */
  tls?: TlsContext;
  /** Called once the HTTP port listens, before the broker opens (serve prints its line here). */
  onHttpListening?: (http: AdminHttp) => void;
  open: (metrics: BrokerMetrics) => Promise<Broker>;
}

export interface ServedBroker {
  broker: Broker;
  http: AdminHttp | null;
  readiness: Readiness;
  /** Marks not ready, closes the broker, then the HTTP port. */
  close(): Promise<void>;
}

export async function serveWithHttp(options: ServeWithHttpOptions): Promise<ServedBroker> {
  const readiness = new Readiness();
  const http = options.http === null ? null : await startAdminHttp({ ...options.http, metrics: options.metrics, readiness, logger: options.logger, ...(options.tls ? { tls: options.tls } : {}) });
  if (http !== null) options.onHttpListening?.(http);
  let broker: Broker;
  try {
    broker = await options.open(options.metrics);
  } catch (error) {
    readiness.markFailed();
    await http?.close();
    throw error;
  }
  http?.attachBroker(broker);
  const listeners = [`native ${broker.host}:${broker.port}`];
  if (broker.kafka) listeners.push(`kafka ${broker.kafka.host}:${broker.kafka.port}`);
  readiness.markReady(listeners);
  let closing: Promise<void> | null = null;
  return {
    broker,
    http,
    readiness,
    close() {
      closing ??= (async () => {
        readiness.markStopping();
        try {
          await broker.close();
        } finally {
          await http?.close();
        }
      })();
      return closing;
    },
  };
}
