// The admin HTTP port: GET /metrics (Prometheus text format, from the broker's prom-client
// registry), /healthz (the process is up) and /readyz (the broker has opened and
// listens; see readiness.ts), with JSON bodies for the last two. node:http and three
// routes: a framework would add a dependency and a router for what a switch does, and
// none of these routes takes a body.
//
// Limits: at most MAX_HTTP_CONNECTIONS open connections (Prometheus keeps one; curl and a
// probe or two come and go), requests with a body are not read (405 for anything but GET
// and HEAD), node's header and request timeouts apply.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { BrokerMetrics, Logger } from '../broker/index.js';
import type { Readiness } from './readiness.js';

export const DEFAULT_HTTP_PORT = 9644;
export const MAX_HTTP_CONNECTIONS = 64;

export interface AdminHttpOptions {
  host: string;
  /** 0 picks a free port (AdminHttp.port tells which). */
  port: number;
  metrics: BrokerMetrics;
  readiness: Readiness;
  logger: Logger;
}

export interface AdminHttp {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const startedMs = Date.now();

export async function startAdminHttp(options: AdminHttpOptions): Promise<AdminHttp> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.logger.error('admin http request failed', error, { path: request.url ?? '' });
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.logger.error('admin http listener error', error));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { host: options.host, port, close: () => close(server) };
}

async function handle(options: AdminHttpOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    sendJson(response, 405, { error: 'only GET and HEAD' });
    return;
  }
  const path = (request.url ?? '/').split('?')[0];
  switch (path) {
    case '/metrics': {
      const text = await options.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': options.metrics.registry.contentType });
      response.end(request.method === 'HEAD' ? undefined : text);
      return;
    }
    case '/healthz':
      sendJson(response, 200, { status: 'ok', pid: process.pid, uptimeSeconds: (Date.now() - startedMs) / 1000 });
      return;
    case '/readyz': {
      const report = options.readiness.report();
      sendJson(response, report.ready ? 200 : 503, report);
      return;
    }
    default:
      sendJson(response, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Prometheus keeps its connection alive; do not wait for its keep-alive timeout.
    server.closeAllConnections();
  });
}
