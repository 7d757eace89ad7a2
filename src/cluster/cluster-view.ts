// Every broker's decoded copy of the cluster state in etcd: live brokers, the controller,
// topic specs, assignments and partition states. One list-then-watch over the whole key root
// (prefix-mirror.ts), so the changes of one transaction (a topic's assignment and its partition
// states) arrive together and the view is never half a transaction. The controller reads it,
// the replica roles are derived from it, and Metadata answers would come from it.
//
// A value that does not decode is skipped with a warning (values.ts says why).

import { KeyLayout, partitionId } from './layout.js';
import type { ClusterLogger } from './logger.js';
import { PrefixMirror, type MirrorChange } from './prefix-mirror.js';
import type { ClusterStore, KeyValue } from './store.js';
import {
  decodeBrokerRegistration,
  decodeControllerRecord,
  decodeElectionRequest,
  decodeReassignmentRequest,
  decodePartitionState,
  decodeTopicAssignment,
  decodeTopicSpec,
  type BrokerRegistration,
  type ControllerRecord,
  type ElectionRequest,
  type ReassignmentRequest,
  type PartitionState,
  type TopicAssignment,
  type TopicSpec,
} from './values.js';

export interface LiveBroker {
  readonly registration: BrokerRegistration;
  /** Registration epoch: createRevision of the broker key. */
  readonly registrationRevision: number;
  readonly leaseId: string;
}

export interface CurrentController {
  readonly record: ControllerRecord;
  /** The controller epoch: createRevision of the controller key. */
  readonly epoch: number;
  readonly leaseId: string;
}

export interface PartitionEntry {
  readonly topic: string;
  readonly partition: number;
  readonly state: PartitionState;
  /** The compare-and-swap token of the partition key (Kafka's partition epoch). */
  readonly modRevision: number;
}

export interface ViewChange {
  readonly brokers: boolean;
  readonly controller: boolean;
  /** Topics whose spec or assignment changed. */
  readonly topics: ReadonlySet<string>;
  /** Partition ids ('topic/partition') whose state changed or vanished. */
  readonly partitions: ReadonlySet<string>;
}

export class ClusterView {
  readonly brokers = new Map<number, LiveBroker>();
  controller: CurrentController | null = null;
  readonly topics = new Map<string, TopicSpec>();
  readonly assignments = new Map<string, TopicAssignment>();
  readonly partitions = new Map<string, PartitionEntry>();
  /** Pending reassignments by partition id ('topic/partition'). */
  readonly reassignments = new Map<string, ReassignmentRequest & { readonly topic: string; readonly partition: number }>();
  /** Pending preferred-leader elections by request id. */
  readonly elections = new Map<string, ElectionRequest>();
  private readonly mirror: PrefixMirror;
  private readonly listeners = new Set<(change: ViewChange) => void>();

  constructor(
    store: ClusterStore,
    readonly layout: KeyLayout,
    private readonly logger: ClusterLogger,
  ) {
    this.mirror = new PrefixMirror(store, `${layout.root}/`, logger);
    this.mirror.onChange((changes) => this.apply(changes));
  }

  start(): Promise<void> {
    return this.mirror.start();
  }

  close(): Promise<void> {
    return this.mirror.close();
  }

  /** Whether the view is being kept current (false while etcd is unreachable). */
  get live(): boolean {
    return this.mirror.live;
  }

  get revision(): number {
    return this.mirror.revision;
  }

  onChange(listener: (change: ViewChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  partition(topic: string, partition: number): PartitionEntry | undefined {
    return this.partitions.get(partitionId(topic, partition));
  }

  private apply(changes: readonly MirrorChange[]): void {
    let brokers = false;
    let controller = false;
    const topics = new Set<string>();
    const partitions = new Set<string>();
    for (const change of changes) {
      const key = change.key;
      const current = change.current;
      const brokerId = this.layout.brokerIdOf(key);
      if (brokerId !== null) {
        brokers = true;
        this.applyBroker(brokerId, current);
        continue;
      }
      if (key === this.layout.controller) {
        controller = true;
        this.applyController(current);
        continue;
      }
      const topic = this.layout.topicOf(key, this.layout.topics);
      if (topic !== null) {
        topics.add(topic);
        this.applyDecoded(this.topics, topic, current, decodeTopicSpec);
        continue;
      }
      const assigned = this.layout.topicOf(key, this.layout.assignments);
      if (assigned !== null) {
        topics.add(assigned);
        this.applyDecoded(this.assignments, assigned, current, decodeTopicAssignment);
        continue;
      }
      const reassigned = this.layout.partitionOf(key, this.layout.reassignments);
      if (reassigned !== null) {
        const request = current ? this.decoded(current, decodeReassignmentRequest) : null;
        const id = partitionId(reassigned.topic, reassigned.partition);
        if (request) this.reassignments.set(id, { ...request, ...reassigned });
        else this.reassignments.delete(id);
        continue;
      }
      const electionId = this.layout.topicOf(key, this.layout.elections);
      if (electionId !== null) {
        this.applyDecoded(this.elections, electionId, current, decodeElectionRequest);
        continue;
      }
      const partitionKey = this.layout.partitionOf(key);
      if (partitionKey !== null) {
        const id = partitionId(partitionKey.topic, partitionKey.partition);
        partitions.add(id);
        const state = current ? this.decoded(current, decodePartitionState) : null;
        if (state) this.partitions.set(id, { ...partitionKey, state, modRevision: current!.modRevision });
        else this.partitions.delete(id);
      }
    }
    const change: ViewChange = { brokers, controller, topics, partitions };
    for (const listener of this.listeners) listener(change);
  }

  private applyBroker(nodeId: number, current: KeyValue | undefined): void {
    const registration = current ? this.decoded(current, decodeBrokerRegistration) : null;
    if (registration && registration.nodeId === nodeId) {
      this.brokers.set(nodeId, { registration, registrationRevision: current!.createRevision, leaseId: current!.leaseId });
    } else {
      this.brokers.delete(nodeId);
    }
  }

  private applyController(current: KeyValue | undefined): void {
    const record = current ? this.decoded(current, decodeControllerRecord) : null;
    this.controller = record ? { record, epoch: current!.createRevision, leaseId: current!.leaseId } : null;
  }

  private applyDecoded<T>(map: Map<string, T>, name: string, current: KeyValue | undefined, decode: (bytes: Buffer) => T | null): void {
    const value = current ? this.decoded(current, decode) : null;
    if (value) map.set(name, value);
    else map.delete(name);
  }

  private decoded<T>(kv: KeyValue, decode: (bytes: Buffer) => T | null): T | null {
    const value = decode(kv.value);
    if (value === null) this.logger.warn('cluster: skipping a key whose value does not decode', { key: kv.key, modRevision: kv.modRevision });
    return value;
  }
}
