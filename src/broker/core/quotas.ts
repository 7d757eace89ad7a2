// Client quotas on the request path, protocol-neutral: after a Produce or a Fetch is
// served, its bytes are recorded against the quota that applies to the connection's
// principal and client id (security/quota.ts); when the owner is over its rate the answer
// carries throttleTimeMs and the connection is muted for that long (RequestScope.throttle:
// the connection neither reads nor dispatches), as Kafka does (KIP-219). With no quota set
// this is one map-size check per request.

import { performance } from 'node:perf_hooks';
import { QuotaKind } from '../../security/quota.js';
import type { Session } from '../../security/session.js';
import type { BrokerContext, RequestScope } from '../context.js';

export { QuotaKind };

/** Native connections name their client id in ApiVersions (the Kafka wire has it in every request header). */
const nativeClientIds = new WeakMap<Session, string>();

export function setClientId(session: Session, clientId: string): void {
  nativeClientIds.set(session, clientId);
}

export function clientIdOf(session: Session): string {
  return nativeClientIds.get(session) ?? '';
}

/** Records `bytes` of a served request; returns the throttle time (ms) to answer, and mutes the connection for it. */
export function recordQuota(ctx: BrokerContext, scope: RequestScope, clientId: string, kind: QuotaKind, bytes: number): number {
  const quotas = ctx.security.quotas;
  if (quotas.size === 0) return 0;
  const throttleMs = quotas.record(scope.session.principal, clientId, kind, bytes, performance.now());
  if (throttleMs > 0) scope.throttle?.(throttleMs);
  return throttleMs;
}
