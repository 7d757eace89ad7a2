// The group coordinator's CoordinatorRoles in cluster mode (src/groups/coordinator-placement.ts),
// from the ClusterNode's replica roles and view. The broker opens its coordinator before
// it joins the cluster, so until attach() this broker leads nothing (every group request
// gets NOT_COORDINATOR; FindCoordinator COORDINATOR_NOT_AVAILABLE).
//
// The internal topics (__consumer_offsets, __share_group_state) are created in the cluster
// on first need, as Kafka creates its offsets topic on the first FindCoordinator: the first
// lookup of a partition of a topic the cluster does not know yet puts the topic's spec in
// etcd (compacted, the cluster's default replication factor: min(3, live brokers) at that
// moment) and answers "no leader" until the controller has placed it. Creating them when a
// broker starts instead would give them a replication factor of 1 whenever the first broker
// of a new cluster starts alone. Their local logs exist already: each broker's coordinator
// creates them with the same partition count when it opens.

import type { ClusterNode } from '../cluster/cluster-node.js';
import type { RoleChange } from '../cluster/replica-roles.js';
import type { CoordinatorAddress, CoordinatorRoles } from '../groups/coordinator-placement.js';
import { OFFSETS_TOPIC } from '../groups/offset-store.js';
import { SHARE_STATE_TOPIC } from '../groups/share-state-store.js';
import { isSpoolError, Errors } from '../util/errors.js';
import type { Logger } from './logger.js';

/** For serve's --offsets-topic-partitions (the cli does not import groups). */
export { DEFAULT_CLUSTER_INTERNAL_PARTITIONS, MAX_INTERNAL_PARTITIONS } from '../groups/coordinator-placement.js';

const INTERNAL_TOPICS = new Set([OFFSETS_TOPIC, SHARE_STATE_TOPIC]);

export class ClusterCoordinatorRoles implements CoordinatorRoles {
  private node: ClusterNode | null = null;
  private readonly listeners = new Set<(topic: string, partition: number) => void>();
  private readonly creating = new Set<string>();
  private readonly unsubscribes: Array<() => void> = [];

  constructor(
    /** Partitions of each internal topic (the coordinator's offsetsTopicPartitions). */
    private readonly partitions: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Call after the cluster's replication is attached (its role listener is registered
   * first, so a partition's replica state has changed before the coordinator hears of it).
   */
  attach(node: ClusterNode): void {
    this.node = node;
    this.unsubscribes.push(
      node.roles.onChange((changes: readonly RoleChange[]) => {
        for (const change of changes) if (INTERNAL_TOPICS.has(change.topic)) this.emit(change.topic, change.partition);
      }),
      // A broker that may have lost its lease may no longer lead: its groups are dropped at
      // once (their members go find the new coordinator) and loaded again if it comes back.
      node.roles.onLease(() => this.emitAll(node)),
    );
    this.emitAll(node);
  }

  detach(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  leads(topic: string, partition: number): boolean {
    const node = this.node;
    const role = node?.roles.get(topic, partition);
    return node !== null && role !== undefined && role.role === 'leader' && node.roles.leaseValid();
  }

  private emitAll(node: ClusterNode): void {
    for (const role of [...node.roles.all()]) if (INTERNAL_TOPICS.has(role.topic)) this.emit(role.topic, role.partition);
  }

  leader(topic: string, partition: number): CoordinatorAddress | null {
    const node = this.node;
    if (node === null) return null;
    if (!node.view.topics.has(topic)) {
      this.create(node, topic);
      return null;
    }
    const entry = node.view.partitions.get(`${topic}/${partition}`);
    const broker = entry === undefined ? undefined : node.view.brokers.get(entry.state.leader);
    if (broker === undefined) return null;
    const { nodeId, host, port, kafkaHost, kafkaPort } = broker.registration;
    return { nodeId, host, port, kafka: kafkaHost !== undefined && kafkaPort !== undefined ? { host: kafkaHost, port: kafkaPort } : null };
  }

  onChange(listener: (topic: string, partition: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(topic: string, partition: number): void {
    for (const listener of this.listeners) listener(topic, partition);
  }

  /** Puts the internal topic's spec in etcd, once at a time; another broker winning the race is fine. */
  private create(node: ClusterNode, topic: string): void {
    if (this.creating.has(topic)) return;
    this.creating.add(topic);
    node
      .createTopic(topic, { partitions: this.partitions, configs: { 'cleanup.policy': 'compact' } })
      .then(
        () => this.logger.info(`cluster: created ${topic} (${this.partitions} partitions)`, { topic, partitions: this.partitions }),
        (error: unknown) => {
          if (isSpoolError(error) && error.kind === Errors.TOPIC_ALREADY_EXISTS) return;
          this.logger.warn(`cluster: creating ${topic} failed (retried on the next lookup): ${error instanceof Error ? error.message : String(error)}`);
        },
      )
      .finally(() => this.creating.delete(topic));
  }
}
