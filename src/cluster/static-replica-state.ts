// A ReplicaState held in memory instead of etcd: the roles are whatever the owner sets. For
// the replica manager's tests (drive roles, epochs, ISR and lease loss by hand, no etcd), and
// for a single broker that wants the same code path (every partition led by itself, epoch 0).
// alterIsr keeps etcd's rules: a compare on the state revision, leader only, lease required.

import { assert } from '../util/assert.js';
import { SpoolError, Errors } from '../util/errors.js';
import { partitionId } from './layout.js';
import { RoleTable, type AlterIsrResult, type PartitionRole, type ReplicaState } from './replica-roles.js';

export class StaticReplicaState extends RoleTable implements ReplicaState {
  private readonly leaseListeners = new Set<(event: 'lost' | 'regained') => void>();
  private valid = true;
  private revision = 0;

  constructor(readonly nodeId: number) {
    super();
  }

  /** Sets (or replaces) a partition's role; its stateRevision is assigned here. Returns it. */
  set(role: Omit<PartitionRole, 'stateRevision'>): PartitionRole {
    assert(role.replicas.includes(this.nodeId), 'a role is only for a partition this broker replicates');
    const id = partitionId(role.topic, role.partition);
    const previous = this.roles.get(id);
    const current: PartitionRole = { ...role, stateRevision: ++this.revision };
    this.roles.set(id, current);
    this.emit([previous ? { topic: role.topic, partition: role.partition, previous, current } : { topic: role.topic, partition: role.partition, current }]);
    return current;
  }

  remove(topic: string, partition: number): void {
    const id = partitionId(topic, partition);
    const previous = this.roles.get(id);
    if (!previous) return;
    this.roles.delete(id);
    this.emit([{ topic, partition, previous }]);
  }

  /** Simulates lease loss (false) and its return (true). */
  setLeaseValid(valid: boolean): void {
    if (valid === this.valid) return;
    this.valid = valid;
    for (const listener of this.leaseListeners) listener(valid ? 'regained' : 'lost');
  }

  leaseValid(): boolean {
    return this.valid;
  }

  onLease(listener: (event: 'lost' | 'regained') => void): () => void {
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  async alterIsr(topic: string, partition: number, isr: readonly number[], stateRevision: number): Promise<AlterIsrResult> {
    const role = this.get(topic, partition);
    assert(role !== undefined && role.role === 'leader', `alterIsr on ${topic}/${partition}, which this broker does not lead`);
    assert(isr.includes(this.nodeId) && isr.every((id) => role.replicas.includes(id)) && new Set(isr).size === isr.length, `alterIsr: ISR [${isr.join(',')}] must hold the leader and only replicas`);
    if (!this.valid) return { ok: false, error: new SpoolError(Errors.LEASE_LOST) };
    if (role.stateRevision !== stateRevision) return { ok: false, error: new SpoolError(Errors.STATE_CHANGED) };
    const { stateRevision: _old, ...rest } = role;
    const current = this.set({ ...rest, isr: [...isr] });
    return { ok: true, stateRevision: current.stateRevision };
  }
}
