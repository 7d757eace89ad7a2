// A broker's membership: its registration <root>/brokers/<nodeId> under its own lease. The key
// is written by create-if-absent, so two live processes can never hold one node id: a broker
// restarted after kill -9 waits (logging why) until its old incarnation's lease runs out.
// The key's createRevision is the broker's registration epoch (Kafka's broker epoch): the
// leader puts it in the compare of its ISR writes, so a broker that lost its lease and
// registered again cannot write with the authority of its previous life.
//
// Events (the replica manager listens to both):
//   'lost'      the lease may have expired: stop acknowledging writes and leading
//   'regained'  registered again, or the lease turned out to be alive after all

import { EventEmitter } from 'node:events';
import { SpoolError, Errors } from '../util/errors.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { KeyLayout } from './layout.js';
import type { ClusterLogger } from './logger.js';
import type { ClusterStore } from './store.js';
import { encodeValue, type BrokerRegistration } from './values.js';
import type { Clock } from '../util/clock.js';

export interface MembershipOptions {
  readonly leaseTtlMs: number;
  /** Wait between registration attempts while the node id is taken or etcd is down. Default 250. */
  readonly retryMs?: number;
  readonly clock?: Clock;
}

export class Membership extends EventEmitter<{ lost: []; regained: [] }> {
  readonly lease: LeaseKeeper;
  /** createRevision of our broker key: the registration epoch. 0 while unregistered. */
  registrationRevision = 0;
  private closed = false;
  private reregistering = false;

  constructor(
    private readonly store: ClusterStore,
    private readonly layout: KeyLayout,
    readonly registration: BrokerRegistration,
    private readonly logger: ClusterLogger,
    private readonly options: MembershipOptions,
  ) {
    super();
    this.lease = new LeaseKeeper(store, { ttlMs: options.leaseTtlMs, ...(options.clock ? { clock: options.clock } : {}) });
    this.lease.on('lost', () => {
      this.logger.warn('cluster: membership lease lost; not leading until it is back', { nodeId: registration.nodeId });
      this.emit('lost');
    });
    this.lease.on('renewed', () => {
      this.logger.info('cluster: membership lease renewed after a loss', { nodeId: registration.nodeId });
      this.emit('regained');
    });
    this.lease.on('expired', () => void this.reregister());
  }

  get nodeId(): number {
    return this.registration.nodeId;
  }

  /** Whether this broker surely still holds its membership (and so may lead). */
  isValid(): boolean {
    return this.registrationRevision > 0 && this.lease.isValid();
  }

  /** Registers, retrying until the node id is free and etcd answers, or `signal` aborts. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.registerUntilDone(signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.lease.revoke();
    } catch (error) {
      // etcd unreachable at shutdown: the lease expires by itself within its TTL.
      this.lease.stop();
      this.logger.warn('cluster: could not revoke the lease at shutdown; it expires by itself', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async reregister(): Promise<void> {
    if (this.closed || this.reregistering) return;
    this.reregistering = true;
    this.registrationRevision = 0;
    this.logger.warn('cluster: membership lease expired; registering again', { nodeId: this.nodeId });
    try {
      await this.registerUntilDone();
      if (!this.closed) this.emit('regained');
    } finally {
      this.reregistering = false;
    }
  }

  private async registerUntilDone(signal?: AbortSignal): Promise<void> {
    let warned = false;
    let warnedUnreachable = false;
    for (;;) {
      if (this.closed) return;
      if (signal?.aborted) throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, 'registration aborted');
      try {
        if (await this.registerOnce()) return;
        if (!warned) {
          warned = true;
          this.logger.warn('cluster: node id is registered by another live broker; waiting for its lease to expire', { nodeId: this.nodeId });
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!warnedUnreachable) this.logger.warn('cluster: cannot register yet (etcd unreachable?); retrying', { nodeId: this.nodeId, error: message });
        else this.logger.debug?.('cluster: registration failed, retrying', { error: message });
        warnedUnreachable = true;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 250));
    }
  }

  /** One attempt: a fresh lease if needed, then create-if-absent. False when the id is taken. */
  private async registerOnce(): Promise<boolean> {
    if (this.lease.leaseId === null || !this.lease.isValid()) await this.lease.grant();
    const key = this.layout.broker(this.nodeId);
    const result = await this.store.transaction(
      [{ key, kind: 'absent' }],
      [{ kind: 'put', key, value: encodeValue(this.registration), leaseId: this.lease.leaseId! }],
    );
    let revision = result.revision;
    if (!result.succeeded) {
      // Ours already when an earlier attempt succeeded but its answer was lost on the way.
      const existing = await this.store.get(key);
      if (existing === null || existing.leaseId !== this.lease.leaseId) return false;
      revision = existing.createRevision;
    }
    this.registrationRevision = revision;
    this.logger.info('cluster: registered', { nodeId: this.nodeId, registrationRevision: revision, leaseTtlMs: this.options.leaseTtlMs });
    return true;
  }
}
