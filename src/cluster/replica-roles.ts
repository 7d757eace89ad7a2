// The seam between the cluster module and the broker core's replica manager: for each partition
// this broker holds a replica of, its role as etcd says (leader or follower), the leader epoch,
// the ISR, min.insync.replicas and the leader's address; a change listener; the lease check a
// leader makes before acknowledging; and the ISR write a leader makes (Kafka's AlterPartition,
// as a compare-and-swap in etcd). README.md "The replica roles interface" is the contract.

import { SpoolError, Errors } from '../util/errors.js';
import { assert } from '../util/assert.js';
import type { ClusterView, ViewChange } from './cluster-view.js';
import { partitionId, type KeyLayout } from './layout.js';
import type { Membership } from './membership.js';
import type { ClusterStore } from './store.js';
import { encodeValue, NO_LEADER, type PartitionState } from './values.js';

export interface ReplicaAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface PartitionRole {
  readonly topic: string;
  readonly partition: number;
  /** 'follower' also when the partition has no leader (leaderId NO_LEADER, leader null). */
  readonly role: 'leader' | 'follower';
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly replicas: readonly number[];
  readonly minInsyncReplicas: number;
  /** Native address of the leader, null when it has none or the leader is not registered. */
  readonly leader: ReplicaAddress | null;
  /** modRevision of the partition state: pass it back to alterIsr. */
  readonly stateRevision: number;
}

export interface RoleChange {
  readonly topic: string;
  readonly partition: number;
  /** Absent: this broker just got a replica. */
  readonly previous?: PartitionRole;
  /** Absent: this broker no longer holds a replica (topic deleted or replica moved). */
  readonly current?: PartitionRole;
}

export type AlterIsrResult = { readonly ok: true; readonly stateRevision: number } | { readonly ok: false; readonly error: SpoolError };

/** What the replica manager consumes (implemented by ReplicaRoles). */
export interface ReplicaState {
  readonly nodeId: number;
  get(topic: string, partition: number): PartitionRole | undefined;
  all(): IterableIterator<PartitionRole>;
  /** Called synchronously with every change, after the view has applied it. */
  onChange(listener: (changes: readonly RoleChange[]) => void): () => void;
  /** False from the moment this broker may have lost its lease: a leader must not acknowledge. */
  leaseValid(): boolean;
  /** Registered listeners for 'lost' (stop acknowledging) and 'regained'. */
  onLease(listener: (event: 'lost' | 'regained') => void): () => void;
  /** The leader's ISR change: a compare-and-swap on the partition state. */
  alterIsr(topic: string, partition: number, isr: readonly number[], stateRevision: number): Promise<AlterIsrResult>;
}

function sameRole(a: PartitionRole, b: PartitionRole): boolean {
  return a.role === b.role && a.leaderId === b.leaderId && a.leaderEpoch === b.leaderEpoch && a.stateRevision === b.stateRevision
    && a.minInsyncReplicas === b.minInsyncReplicas && a.leader?.host === b.leader?.host && a.leader?.port === b.leader?.port
    && a.isr.join(',') === b.isr.join(',') && a.replicas.join(',') === b.replicas.join(',');
}

/**
 * The part both ReplicaState implementations share (ReplicaRoles from etcd,
 * StaticReplicaState by hand): the role of each partition by id, and the change listeners.
 */
export abstract class RoleTable {
  protected readonly roles = new Map<string, PartitionRole>();
  private readonly listeners = new Set<(changes: readonly RoleChange[]) => void>();

  get(topic: string, partition: number): PartitionRole | undefined {
    return this.roles.get(partitionId(topic, partition));
  }

  all(): IterableIterator<PartitionRole> {
    return this.roles.values();
  }

  onChange(listener: (changes: readonly RoleChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener, synchronously, after the roles were changed. */
  protected emit(changes: readonly RoleChange[]): void {
    for (const listener of this.listeners) listener(changes);
  }
}

export class ReplicaRoles extends RoleTable implements ReplicaState {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: ClusterStore,
    private readonly view: ClusterView,
    private readonly layout: KeyLayout,
    private readonly membership: Membership,
  ) {
    super();
  }

  get nodeId(): number {
    return this.membership.nodeId;
  }

  start(): void {
    this.unsubscribe = this.view.onChange((change) => this.refresh(change));
    this.refresh(null);
  }

  close(): void {
    this.unsubscribe?.();
  }

  leaseValid(): boolean {
    return this.membership.isValid();
  }

  onLease(listener: (event: 'lost' | 'regained') => void): () => void {
    const lost = (): void => listener('lost');
    const regained = (): void => listener('regained');
    this.membership.on('lost', lost);
    this.membership.on('regained', regained);
    return () => {
      this.membership.off('lost', lost);
      this.membership.off('regained', regained);
    };
  }

  async alterIsr(topic: string, partition: number, isr: readonly number[], stateRevision: number): Promise<AlterIsrResult> {
    const role = this.get(topic, partition);
    assert(role !== undefined && role.role === 'leader', `alterIsr on ${topic}/${partition}, which this broker does not lead`);
    assert(isr.includes(this.nodeId) && isr.every((id) => role.replicas.includes(id)) && new Set(isr).size === isr.length, `alterIsr: ISR [${isr.join(',')}] must hold the leader and only replicas`);
    if (!this.leaseValid()) return { ok: false, error: new SpoolError(Errors.LEASE_LOST) };
    const key = this.layout.partition(topic, partition);
    const state: PartitionState = { leader: this.nodeId, leaderEpoch: role.leaderEpoch, isr: [...isr], controllerEpoch: this.view.partition(topic, partition)?.state.controllerEpoch ?? 0 };
    try {
      const result = await this.store.transaction(
        [
          { key, kind: 'modRevision', modRevision: stateRevision },
          // Fencing: only this registration of the broker may write as the leader.
          { key: this.layout.broker(this.nodeId), kind: 'createRevision', createRevision: this.membership.registrationRevision },
        ],
        [{ kind: 'put', key, value: encodeValue(state) }],
      );
      if (!result.succeeded) return { ok: false, error: new SpoolError(Errors.STATE_CHANGED, `${topic}/${partition}: the partition state changed since revision ${stateRevision}`) };
      return { ok: true, stateRevision: result.revision };
    } catch (error) {
      return { ok: false, error: error instanceof SpoolError ? error : new SpoolError(Errors.CLUSTER_UNAVAILABLE, String(error)) };
    }
  }

  /** Recomputes the roles of the partitions the change touched (all of them on broker or topic changes). */
  private refresh(change: ViewChange | null): void {
    const everything = change === null || change.brokers || change.topics.size > 0;
    const ids = everything ? new Set([...this.view.partitions.keys(), ...this.roles.keys()]) : new Set(change.partitions);
    const changes: RoleChange[] = [];
    for (const id of ids) {
      const previous = this.roles.get(id);
      const current = this.roleOf(id);
      if (current === undefined) {
        if (previous === undefined) continue;
        this.roles.delete(id);
        changes.push({ topic: previous.topic, partition: previous.partition, previous });
        continue;
      }
      if (previous !== undefined && sameRole(previous, current)) continue;
      this.roles.set(id, current);
      changes.push(previous ? { topic: current.topic, partition: current.partition, previous, current } : { topic: current.topic, partition: current.partition, current });
    }
    if (changes.length === 0) return;
    this.emit(changes);
  }

  private roleOf(id: string): PartitionRole | undefined {
    const entry = this.view.partitions.get(id);
    if (!entry) return undefined;
    const replicas = this.view.assignments.get(entry.topic)?.replicas[entry.partition];
    const spec = this.view.topics.get(entry.topic);
    if (!replicas || !spec || !replicas.includes(this.nodeId)) return undefined;
    const leaderBroker = entry.state.leader === NO_LEADER ? undefined : this.view.brokers.get(entry.state.leader);
    return {
      topic: entry.topic,
      partition: entry.partition,
      role: entry.state.leader === this.nodeId ? 'leader' : 'follower',
      leaderId: entry.state.leader,
      leaderEpoch: entry.state.leaderEpoch,
      isr: entry.state.isr,
      replicas,
      minInsyncReplicas: spec.minInsyncReplicas,
      leader: leaderBroker ? { nodeId: leaderBroker.registration.nodeId, host: leaderBroker.registration.host, port: leaderBroker.registration.port } : null,
      stateRevision: entry.modRevision,
    };
  }
}
