// Which broker coordinates a group, in a cluster. The internal topics (__consumer_offsets,
// __share_group_state) have several partitions; a group's records all go to one partition,
// chosen by a stable hash of the group id, and the group's coordinator is that partition's
// leader (Kafka's design). On a single node there is no placement: this broker coordinates
// every group and the topics keep the partition count they were created with.
//
// The hash is Kafka's: Java's String.hashCode over the UTF-16 code units, made non-negative
// with `& 0x7fffffff` (Kafka's Utils.abs), modulo the partition count. So the same group id
// lands on the same partition number as in Kafka for the same count.

import { assert } from '../util/assert.js';
import type { ShareCoordinatorState } from './share-coordinator-state.js';
import type { DeadLetterSink, ShareLeadership, SharePersister } from './share-persister.js';

/** Java's String.hashCode: h = 31 * h + c over UTF-16 code units, in 32-bit signed arithmetic. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) hash = (Math.imul(31, hash) + text.charCodeAt(index)) | 0;
  return hash;
}

/** The internal-topic partition holding a group's records (Kafka's partitionFor). */
export function coordinatorPartitionOf(groupId: string, partitionCount: number): number {
  assert(Number.isInteger(partitionCount) && partitionCount >= 1, `partition count ${partitionCount} must be a positive integer`);
  return (javaStringHash(groupId) & 0x7fffffff) % partitionCount;
}

/** Where clients reach a coordinator: its native address and, when it has one, its Kafka listener's. */
export interface CoordinatorAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly kafka: { readonly host: string; readonly port: number } | null;
}

/**
 * What the coordinator needs of the cluster: who leads each partition of its internal
 * topics. The broker builds it from the cluster's replica roles; a test supplies its own.
 */
export interface CoordinatorRoles {
  /** True when this broker leads the partition now (its coordinator may serve the partition's groups). */
  leads(topic: string, partition: number): boolean;
  /** The partition's leader, null when it has none (or is not known here). */
  leader(topic: string, partition: number): CoordinatorAddress | null;
  /** Called (synchronously) after the role or leader of a partition may have changed. */
  onChange(listener: (topic: string, partition: number) => void): () => void;
}

/**
 * Appends to a replicated internal-topic partition: `beforeAppend` throws (NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE) before anything is written when this broker may not write;
 * `afterAppend` resolves once the in-sync replicas hold everything below `endOffset`
 * (acks=all), so an acknowledged commit survives the loss of this broker.
 */
export interface InternalReplication {
  beforeAppend(topic: string, partition: number): void;
  afterAppend(topic: string, partition: number, endOffset: number): Promise<void>;
}

/** Cluster mode of the coordinator (GroupCoordinatorOptions.cluster). */
export interface CoordinatorCluster {
  roles: CoordinatorRoles;
  /**
   * Share groups over the cluster's partitions (README.md "Share groups in a cluster"): which
   * data partitions this broker leads, where dead letters go, and the persister that
   * reaches each group's share coordinator. Absent: this broker's logs and coordinator only.
   */
  shares?: {
    leadership: ShareLeadership;
    deadLetters: DeadLetterSink;
    persister(state: ShareCoordinatorState): SharePersister;
  };
  replication: InternalReplication;
  /** Partitions of __consumer_offsets when this broker creates it (an existing topic keeps its count). */
  offsetsTopicPartitions: number;
  /** Partitions of __share_group_state when this broker creates it. */
  shareStateTopicPartitions: number;
}

/** Cluster-mode default for both internal topics (Kafka's offsets.topic.num.partitions is 50; 16 suits spool's smaller clusters). */
export const DEFAULT_CLUSTER_INTERNAL_PARTITIONS = 16;
/** Upper bound on --offsets-topic-partitions (checked before the topic is created). */
export const MAX_INTERNAL_PARTITIONS = 1_000;
