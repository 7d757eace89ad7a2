// Controller election: every broker campaigns with one transaction, "if <root>/controller does
// not exist, create it under my lease". The winner's key has createRevision = the revision of
// that transaction, a number no earlier controller can have had: the controller epoch. The
// key lives as long as the winner's lease, so when the controller dies (or is cut off from
// etcd past its TTL) etcd deletes it, every broker sees the delete in its view and campaigns
// again, and the next winner's epoch is higher.
//
// A controller that loses its lease stops acting at once (Membership 'lost'); when the lease
// turns out to have survived (etcd restarted and refreshed it) and the key is still ours, it
// resumes with the same epoch.

import { EventEmitter } from 'node:events';
import type { ClusterView } from './cluster-view.js';
import type { KeyLayout } from './layout.js';
import type { ClusterLogger } from './logger.js';
import type { Membership } from './membership.js';
import type { ClusterStore } from './store.js';
import { encodeValue } from './values.js';

export class ControllerElection extends EventEmitter<{ elected: [epoch: number]; resigned: [] }> {
  /** Our epoch while we act as controller, else null. */
  epoch: number | null = null;
  private campaigning = false;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: ClusterStore,
    private readonly view: ClusterView,
    private readonly layout: KeyLayout,
    private readonly membership: Membership,
    private readonly logger: ClusterLogger,
  ) {
    super();
  }

  start(): void {
    this.unsubscribe = this.view.onChange((change) => {
      if (change.controller || change.brokers) this.evaluate();
    });
    this.membership.on('lost', this.onLost);
    this.membership.on('regained', this.onRegained);
    this.evaluate();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.membership.off('lost', this.onLost);
    this.membership.off('regained', this.onRegained);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.resign();
  }

  private readonly onLost = (): void => this.resign();
  private readonly onRegained = (): void => this.evaluate();

  private resign(): void {
    if (this.epoch === null) return;
    this.logger.warn('cluster: no longer acting as controller', { epoch: this.epoch });
    this.epoch = null;
    this.emit('resigned');
  }

  /** Act on the view: take up the role if the key is ours, campaign if nobody holds it. */
  private evaluate(): void {
    if (this.closed) return;
    const controller = this.view.controller;
    const ours = controller !== null && controller.record.incarnation === this.membership.registration.incarnation && controller.leaseId === this.membership.lease.leaseId;
    if (ours && this.membership.isValid()) {
      if (this.epoch === controller.epoch) return;
      this.resign();
      this.epoch = controller.epoch;
      this.logger.info('cluster: elected controller', { nodeId: this.membership.nodeId, epoch: controller.epoch });
      this.emit('elected', controller.epoch);
      return;
    }
    if (!ours) this.resign();
    if (controller === null) void this.campaign();
  }

  private async campaign(): Promise<void> {
    if (this.campaigning || this.closed || !this.membership.isValid()) return;
    this.campaigning = true;
    try {
      const key = this.layout.controller;
      const record = { nodeId: this.membership.nodeId, incarnation: this.membership.registration.incarnation };
      await this.store.transaction([{ key, kind: 'absent' }], [{ kind: 'put', key, value: encodeValue(record), leaseId: this.membership.lease.leaseId! }]);
      // Won or lost, the view's watch brings the controller key and evaluate() acts on it.
    } catch (error) {
      this.logger.debug?.('cluster: controller campaign failed; retrying', { error: error instanceof Error ? error.message : String(error) });
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        this.evaluate();
      }, 250);
    } finally {
      this.campaigning = false;
    }
  }
}
