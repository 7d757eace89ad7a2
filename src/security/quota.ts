// Client quotas in Kafka's model (KIP-13, KIP-55): a produce and a fetch byte rate per user
// (the principal's name), per client id, or per (user, client id). The most specific quota
// that is set applies, in Kafka's order: (user, client id), then user, then client id.
// Quotas work without authentication: an anonymous connection is only matched by client id.
//
// Enforcement, Kafka's way: the request is served, its bytes are recorded against the
// quota's owner, and when the owner is over its rate the answer carries a throttle time
// and the connection is muted (not read) for that long, so a client that ignores the
// throttle time is slowed all the same.
//
// The rate is measured as a "virtual clock" per owner and direction (a leaky bucket): each
// request pushes the owner's clock forward by bytes / rate; the owner is throttled by how
// far that clock runs ahead of now beyond a burst of BURST_MS. Over any long window the
// owner gets at most rate bytes per second plus one burst, and an idle owner starts fresh.

export const QuotaKind = { Produce: 'producer_byte_rate', Fetch: 'consumer_byte_rate' } as const;
export type QuotaKind = (typeof QuotaKind)[keyof typeof QuotaKind];

/** Who a quota is for: a user name (without `User:`), a client id, or both. At least one is set. */
export interface QuotaEntity {
  user: string | null;
  clientId: string | null;
}

export interface QuotaEntry {
  entity: QuotaEntity;
  /** Bytes per second by kind; an absent kind is unlimited. */
  rates: Partial<Record<QuotaKind, number>>;
}

/** Bytes a quota owner may send ahead of its rate before it is throttled (Kafka's sample window, ~1 s). */
export const BURST_MS = 1000;
/** The longest throttle of one request (Kafka caps it at the quota window size times samples). */
export const MAX_THROTTLE_MS = 30_000;

export function entityKey(entity: QuotaEntity): string {
  return `${entity.user ?? ''}\u0000${entity.clientId ?? ''}\u0000${entity.user === null ? 0 : 1}${entity.clientId === null ? 0 : 1}`;
}

/** The user name of a principal (`User:alice` -> alice); null for anything but a User principal. */
export function userOf(principal: string): string | null {
  return principal.startsWith('User:') ? principal.slice('User:'.length) : null;
}

/** The quotas and the rate each owner used. */
export class QuotaManager {
  private readonly entries = new Map<string, QuotaEntry>();
  /** Virtual clock (ms) per owner key and kind. */
  private readonly clocks = new Map<string, number>();

  constructor(entries: Iterable<QuotaEntry> = []) {
    for (const entry of entries) this.set(entry.entity, entry.rates);
  }

  get size(): number {
    return this.entries.size;
  }

  list(): QuotaEntry[] {
    return [...this.entries.values()].map((entry) => ({ entity: { ...entry.entity }, rates: { ...entry.rates } }));
  }

  /** Sets (a rate), keeps (absent kind) or removes (null) each kind's rate; an entity left with no rate is removed. */
  set(entity: QuotaEntity, rates: Partial<Record<QuotaKind, number | null>>): void {
    const key = entityKey(entity);
    const merged: Partial<Record<QuotaKind, number>> = { ...this.entries.get(key)?.rates };
    for (const kind of Object.values(QuotaKind)) {
      const rate = rates[kind];
      if (rate === null) delete merged[kind];
      else if (rate !== undefined) merged[kind] = rate;
    }
    if (Object.keys(merged).length === 0) this.entries.delete(key);
    else this.entries.set(key, { entity: { ...entity }, rates: merged });
  }

  /** The quota that applies to (principal, client id) for `kind`, most specific first; null when unlimited. */
  quotaFor(principal: string, clientId: string, kind: QuotaKind): { key: string; bytesPerSecond: number } | null {
    if (this.entries.size === 0) return null;
    const user = userOf(principal);
    const candidates: QuotaEntity[] = [];
    if (user !== null && principal !== 'User:ANONYMOUS') candidates.push({ user, clientId }, { user, clientId: null });
    candidates.push({ user: null, clientId });
    for (const entity of candidates) {
      const key = entityKey(entity);
      const rate = this.entries.get(key)?.rates[kind];
      if (rate !== undefined) return { key, bytesPerSecond: rate };
    }
    return null;
  }

  /**
   * Records `bytes` against the quota that applies and returns how long (ms) the request's
   * connection should be throttled: 0 when within the quota or unlimited.
   */
  record(principal: string, clientId: string, kind: QuotaKind, bytes: number, nowMs: number): number {
    const quota = this.quotaFor(principal, clientId, kind);
    if (quota === null) return 0;
    const clockKey = `${kind}\u0000${quota.key}`;
    const start = Math.max(nowMs, this.clocks.get(clockKey) ?? nowMs);
    const clockMs = start + (bytes * 1000) / Math.max(1, quota.bytesPerSecond);
    this.clocks.set(clockKey, clockMs);
    const aheadMs = clockMs - nowMs - BURST_MS;
    return aheadMs <= 0 ? 0 : Math.min(MAX_THROTTLE_MS, Math.ceil(aheadMs));
  }
}
