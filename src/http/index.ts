// The admin HTTP port: /metrics, /healthz, /readyz. See README.md.

export { startAdminHttp, DEFAULT_HTTP_PORT, MAX_HTTP_CONNECTIONS, type AdminHttp, type AdminHttpOptions } from './server.js';
export { Readiness, type ReadinessReport, type ReadinessStatus } from './readiness.js';
export { serveWithHttp, type ServedBroker, type ServeWithHttpOptions } from './serve.js';
