// The admin HTTP port: GET /metrics (Prometheus text format, from the broker's prom-client
// registry), /healthz (the process is up) and /readyz (the broker has opened and
// listens; see readiness.ts), with JSON bodies for the last two; the web console's files
// (console-assets.ts) and its JSON API under /api/ (console-api.ts). node:http and a
// switch: a framework would add a dependency and a router for a handful of routes.
//
// Limits: at most MAX_HTTP_CONNECTIONS open connections (Prometheus keeps one; curl and a
// probe or two come and go), request bodies only for /api/ POSTs (at most
// MAX_API_BODY_BYTES; 405 for anything but GET and HEAD elsewhere), node's header and
// request timeouts apply.
//
// With a TLS context (`spool serve --tls-cert ...`, unless --tls-listeners leaves http out)
// the port is HTTPS (node:https), with the broker's certificate and client authentication,
// and follows its reloads.
//
// Security (README.md "Authentication and authorisation"): /healthz, /readyz and /metrics
// (unless --metrics-auth basic) are open; every other route (the console's files, the API, a 404) is answered only to a
// principal: with SASL on, an HTTP Basic SCRAM user (HTTPS only), else the TLS client
// certificate's subject or User:ANONYMOUS. The API then runs every call under that
// principal's ACLs (console-api.ts).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mayCluster, Operation, sessionFor, type Broker, type BrokerMetrics, type Logger, type Principal, type TlsContext } from '../broker/index.js';
import { Errors, isSpoolError } from '../util/errors.js';
import { handleApi, readJsonBody } from './console-api.js';
import { consoleAsset } from './console-assets.js';
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
  /** Serve HTTPS with this context. Default: plain HTTP. */
  tls?: TlsContext;
  /**
   * /metrics asks what the console asks (`--metrics-auth basic`): HTTP Basic with SASL on, and
   * Describe on the cluster when ACLs are on. Default false: open, for Prometheus.
   */
  metricsAuthentication?: boolean;
}

export interface AdminHttp {
  readonly host: string;
  readonly port: number;
  /** Gives the console API the broker once it has opened (the port answers 503 for /api/ before). */
  attachBroker(broker: Broker): void;
  close(): Promise<void>;
}

/** What the request handler reads; `broker` is set once the broker has opened. */
interface AdminState {
  broker: Broker | null;
}

const startedMs = Date.now();

export async function startAdminHttp(options: AdminHttpOptions): Promise<AdminHttp> {
  const state: AdminState = { broker: null };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    handle(options, state, request, response).catch((error: unknown) => {
      options.logger.error('admin http request failed', error, { path: request.url ?? '' });
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  };
  const { tls } = options;
  let server: Server;
  if (tls === undefined) server = createServer(onRequest);
  else {
    const https = createHttpsServer(tls.serverOptions(), onRequest);
    // A failed handshake (plain HTTP to the HTTPS port, no client certificate): node closes it.
    https.on('tlsClientError', (error: NodeJS.ErrnoException) => options.logger.debug?.(`admin https: TLS handshake failed: ${error.code ?? error.message}`));
    tls.attach(https);
    https.once('close', () => tls.detach(https));
    server = https;
  }
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
  return {
    host: options.host,
    port,
    attachBroker: (broker) => {
      state.broker = broker;
    },
    close: () => close(server),
  };
}

async function handle(options: AdminHttpOptions, state: AdminState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://admin');
  const path = url.pathname;
  if (path.startsWith('/api/')) {
    await handleApiRequest(options, state, request, response, path, url.searchParams);
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    sendJson(response, 405, { error: 'only GET and HEAD' });
    return;
  }
  switch (path) {
    case '/metrics': {
      if (options.metricsAuthentication === true && !(await metricsAllowed(options, state, request, response))) return;
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
    default: {
      // The console's files hold no data, but with SASL on they ask for the login first: the
      // browser then shows its Basic prompt once and sends the credentials with every API call.
      // (Before the broker has opened, SASL is not known yet and they are served; the API answers 503.)
      if ((await requestPrincipal(options, state, request, response)) === null) return;
      const asset = consoleAsset(path);
      if (asset === undefined) {
        sendJson(response, 404, { error: 'not found', paths: ['/', '/api/', '/metrics', '/healthz', '/readyz'] });
        return;
      }
      response.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
    }
  }
}

const API_METHODS = new Set(['GET', 'POST', 'DELETE']);

/**
 * The console's JSON API (console-api.ts). A change (POST, DELETE) must carry
 * `content-type: application/json` and, when the browser sends an Origin, come from this
 * port's own origin: a page on another site cannot send either without a CORS preflight,
 * which this port never grants, so it cannot create or delete topics through a browser.
 */
async function handleApiRequest(options: AdminHttpOptions, state: AdminState, request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
  const method = request.method ?? 'GET';
  if (!API_METHODS.has(method)) {
    response.setHeader('allow', 'GET, POST, DELETE');
    sendJson(response, 405, { error: { name: 'METHOD_NOT_ALLOWED', code: -1, message: 'GET, POST or DELETE' } });
    return;
  }
  if (method !== 'GET') {
    const origin = request.headers.origin;
    const scheme = options.tls === undefined ? 'http' : 'https';
    const sameOrigin = origin === undefined || origin === `${scheme}://${request.headers.host ?? ''}`;
    const json = (request.headers['content-type'] ?? '').split(';')[0]!.trim() === 'application/json';
    if (!sameOrigin || !json) {
      sendJson(response, 403, { error: { name: 'FORBIDDEN', code: -1, message: 'changes need content-type application/json from the console origin' } });
      return;
    }
  }
  // With SASL on, the API is a third door to the broker: it takes the same users (Basic).
  const who = await requestPrincipal(options, state, request, response);
  if (who === null) return;
  const body = method === 'POST' ? await readJsonBody(request).catch((error: unknown) => error) : undefined;
  if (body instanceof Error) {
    sendJson(response, 400, { error: { name: 'INVALID_REQUEST', code: -1, message: body.message } });
    return;
  }
  const listeners = options.readiness.report().listeners;
  const answer = await handleApi(state.broker, listeners, { method, path: path.slice('/api'.length), query, body }, who);
  sendJson(response, answer.status, answer.body);
}

/**
 * Who a request is, or null once it has been answered 401 or 403. With `--sasl`: an HTTP Basic
 * SCRAM user (checked like SASL PLAIN: the stored salt and iterations, StoredKey compared in
 * constant time, the same per-host lockout, failure delay and log line), and only over HTTPS,
 * since Basic sends the password itself (a plain HTTP port answers 403). Without SASL nothing
 * is asked: the TLS client certificate's subject, else User:ANONYMOUS (what the ACLs see, when
 * `--authorizer acl` or mTLS turned them on). Each request is checked: no session, no cookie.
 */
async function requestPrincipal(options: AdminHttpOptions, state: AdminState, request: IncomingMessage, response: ServerResponse): Promise<Principal | null> {
  const session = sessionFor(request.socket);
  const sasl = state.broker?.context.sasl ?? null;
  if (sasl === null) return { principal: session.principal, host: session.host };
  if (options.tls === undefined) {
    sendJson(response, 403, { error: { name: 'FORBIDDEN', code: -1, message: 'the admin port needs HTTPS while SASL is on (Basic authentication sends the password); see --tls-listeners' } });
    return null;
  }
  const match = /^Basic ([A-Za-z0-9+/=]{1,2048})$/i.exec(request.headers.authorization ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) {
    unauthorized(response, 'log in with a spool user (HTTP Basic)');
    return null;
  }
  try {
    const principal = await sasl.authenticatePassword(session.host, decoded.slice(0, colon), decoded.slice(colon + 1), 'HTTP Basic');
    return { principal, host: session.host };
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    unauthorized(response, error.message);
    return null;
  }
}

/**
 * `--metrics-auth basic`: the scrape names every topic, group and listener, so besides the login
 * it needs Describe on the cluster (Kafka's DescribeCluster), as a super user has. Answers and
 * returns false when refused.
 */
async function metricsAllowed(options: AdminHttpOptions, state: AdminState, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  // Until the broker has opened it is not known whether SASL is on: no scrape rather than an open one.
  if (state.broker === null) {
    sendJson(response, 503, { error: { name: 'NOT_READY', code: -1, message: 'the broker is still opening' } });
    return false;
  }
  const who = await requestPrincipal(options, state, request, response);
  if (who === null) return false;
  const broker = state.broker;
  if (mayCluster(broker.context, who, Operation.Describe)) return true;
  const { name, code } = Errors.CLUSTER_AUTHORIZATION_FAILED;
  sendJson(response, 403, { error: { name, code, message: `${who.principal} may not Describe the cluster (needed for /metrics with --metrics-auth basic)` } });
  return false;
}

function unauthorized(response: ServerResponse, message: string): void {
  const { name, code } = Errors.SASL_AUTHENTICATION_FAILED;
  response.setHeader('www-authenticate', 'Basic realm="spool", charset="UTF-8"');
  sendJson(response, 401, { error: { name, code, message } });
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
