// Keeps one etcd lease alive and knows, on its own clock, until when the lease is surely
// alive. etcd expires a lease TTL after the last keep-alive it *processed*; we measure from
// when we *sent* the last keep-alive that was answered, which is never later, so
// `validUntilMs` is a conservative bound: while monotonic now < validUntilMs the lease has not
// expired on the server, and no controller can have given our partitions to another broker.
// A leader checks isValid() before acknowledging a write (README.md "Lease loss").
//
// Renewals go out every ttl/4, one at a time (a renewal still in flight skips the tick), each
// with a deadline, so a lease survives up to three lost renewals. Events:
//   'lost'     validUntilMs passed without a renewal: treat the lease as gone (stop leading)
//   'renewed'  a renewal succeeded after 'lost': the lease survived (etcd restarts refresh leases)
//   'expired'  etcd answered that the lease no longer exists: the owner needs a new one

import { EventEmitter } from 'node:events';
import { assert } from '../util/assert.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { ClusterStore } from './store.js';

/** Default membership lease TTL: a few seconds, renewed every TTL/4. */
export const DEFAULT_LEASE_TTL_MS = 6_000;

export interface LeaseKeeperOptions {
  /** Lease TTL; a whole number of seconds >= 1, in ms. */
  readonly ttlMs: number;
  /** Default ttlMs / 4. */
  readonly renewIntervalMs?: number;
  readonly clock?: Clock;
}

export class LeaseKeeper extends EventEmitter<{ lost: []; renewed: []; expired: [] }> {
  leaseId: string | null = null;
  /** Monotonic ms until which the lease is surely alive on the server. */
  validUntilMs = 0;
  private readonly clock: Clock;
  private readonly renewIntervalMs: number;
  private renewTimer: NodeJS.Timeout | null = null;
  private lossTimer: NodeJS.Timeout | null = null;
  private renewing = false;
  private lost = false;
  private stopped = false;
  private renewsStopped = false;

  constructor(
    private readonly store: ClusterStore,
    private readonly options: LeaseKeeperOptions,
  ) {
    super();
    assert(options.ttlMs >= 1000 && options.ttlMs % 1000 === 0, `lease TTL must be whole seconds >= 1 s, got ${options.ttlMs} ms`);
    this.clock = options.clock ?? systemClock;
    this.renewIntervalMs = options.renewIntervalMs ?? options.ttlMs / 4;
  }

  isValid(): boolean {
    return this.leaseId !== null && !this.lost && this.clock.monotonicMs() < this.validUntilMs;
  }

  /** Grants a new lease (replacing any old one) and starts renewing it. */
  async grant(): Promise<string> {
    const sentMs = this.clock.monotonicMs();
    const leaseId = await this.store.grantLease(this.options.ttlMs / 1000);
    this.leaseId = leaseId;
    this.lost = false;
    this.extend(sentMs, this.options.ttlMs);
    this.scheduleRenewal();
    return leaseId;
  }

  /**
   * Stops renewing but keeps the deadline: 'lost' still fires when the lease runs out. What a
   * hung broker looks like to the rest of the cluster (tests use it for exactly that).
   */
  stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    this.renewsStopped = true;
  }

  /** Stops renewing and watching; the lease runs out on the server unless revoked. */
  stop(): void {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.lossTimer) clearTimeout(this.lossTimer);
    this.renewTimer = null;
    this.lossTimer = null;
  }

  /** Stops and revokes: etcd deletes every key under the lease now (a clean shutdown). */
  async revoke(): Promise<void> {
    this.stop();
    const leaseId = this.leaseId;
    this.leaseId = null;
    if (leaseId !== null) await this.store.revokeLease(leaseId);
  }

  private scheduleRenewal(): void {
    if (this.renewTimer || this.stopped || this.renewsStopped) return;
    this.renewTimer = setInterval(() => void this.renew(), this.renewIntervalMs);
  }

  private async renew(): Promise<void> {
    const leaseId = this.leaseId;
    if (this.renewing || leaseId === null || this.stopped) return;
    this.renewing = true;
    const sentMs = this.clock.monotonicMs();
    try {
      const ttlSeconds = await this.store.keepAliveOnce(leaseId);
      if (this.stopped || leaseId !== this.leaseId) return;
      if (ttlSeconds <= 0) {
        this.leaseId = null;
        this.validUntilMs = 0;
        this.markLost();
        this.emit('expired');
        return;
      }
      this.extend(sentMs, ttlSeconds * 1000);
      if (this.lost) {
        this.lost = false;
        this.emit('renewed');
      }
    } catch {
      // etcd unreachable: the loss timer, not this error, decides when the lease counts as
      // lost; the next tick tries again.
    } finally {
      this.renewing = false;
    }
  }

  private extend(sentMs: number, ttlMs: number): void {
    this.validUntilMs = Math.max(this.validUntilMs, sentMs + ttlMs);
    if (this.lossTimer) clearTimeout(this.lossTimer);
    this.lossTimer = setTimeout(() => this.checkLoss(), Math.max(0, this.validUntilMs - this.clock.monotonicMs()));
  }

  private checkLoss(): void {
    this.lossTimer = null;
    if (this.stopped || this.lost) return;
    const leftMs = this.validUntilMs - this.clock.monotonicMs();
    if (leftMs > 0) {
      this.lossTimer = setTimeout(() => this.checkLoss(), leftMs);
      return;
    }
    this.markLost();
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.emit('lost');
  }
}
