// What every request handler sees: the storage, the group coordinator, the fetch
// waiters, the options, and the logger. One context per broker.

import type { GroupCoordinator } from '../groups/coordinator.js';
import type { ClusterMetadataSource } from './core/cluster-metadata.js';
import type { ReplicaManager } from './core/replica-fetch.js';
import type { PeerPool } from './peer-requests.js';
import type { ProducerIdSource } from './core/producer-ids.js';
import type { LogManager } from '../storage/types.js';
import type { CredentialStore } from '../security/credential-store.js';
import type { SaslAuthenticator } from '../security/sasl.js';
import type { Session } from '../security/session.js';
import type { Logger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { FetchWaiters } from './waiters.js';
import type { SecurityStore } from './security-store.js';
import type { SecurityWrites } from './security-writes.js';

export interface BrokerContext {
  readonly logs: LogManager;
  readonly coordinator: GroupCoordinator;
  readonly waiters: FetchWaiters;
  readonly options: ResolvedBrokerOptions;
  readonly logger: Logger;
  /** Counters on the request path (per request or per partition, never per message); see metrics.ts. */
  readonly metrics: BrokerMetrics;
  /** Host and port clients should use (Metadata). */
  readonly advertised: { host: string; port: number };
  /** Host and port Kafka clients should use (Kafka Metadata, FindCoordinator); null when the Kafka listener is off. */
  readonly kafkaAdvertised: { host: string; port: number } | null;
  /** Topics being auto-created, so concurrent produces share one creation. */
  readonly creatingTopics: Map<string, Promise<void>>;
  /** ACLs (the authoriser) and client quotas, with their file; see security-store.ts. */
  readonly security: SecurityStore;
  /** SCRAM credentials (meta/security/scram-credentials.json): see security/credential-store.ts. */
  readonly credentials: CredentialStore;
  /** How both change (security-writes.ts): the local stores; through etcd once the broker joined a cluster. */
  securityWrites: SecurityWrites;
  /** The SASL authenticator when authentication is on (--sasl); null: every connection may run every API. */
  readonly sasl: SaslAuthenticator | null;
  /** Connections to other brokers for requests between brokers (share-group state, dead letters); unused on a single node. */
  readonly peers: PeerPool;
  /** A cluster's replication data path (core/replica-fetch.ts); absent on a single node. */
  readonly replicas?: ReplicaManager;
  /**
   * Brokers and partition leaders for Metadata answers (core/cluster-metadata.ts): this broker
   * alone on a single node; replaced by the cluster view's once the broker has joined a cluster.
   */
  clusterMetadata: ClusterMetadataSource;
  /**
   * Cluster mode's topic creation (through the controller's placement in etcd), set once the
   * broker has joined the cluster (src/broker/cluster-replication.ts); absent on a single node.
   */
  clusterAdmin?: ClusterAdmin;
  /**
   * InitProducerId's ids in cluster mode (blocks reserved in etcd, set by serve-cluster.ts once
   * joined); absent: the data dir's counter (LogManager.allocateProducerId), a single node.
   */
  producerIds?: ProducerIdSource;
  /** Set by close(): parked fetches answer at once and do not park again. */
  shuttingDown: boolean;
}

export interface ClusterAdmin {
  /** The topic exists in the cluster (this broker may hold no replica of it). */
  hasTopic(name: string): boolean;
  /** Creates the topic through the controller; resolves once placed and, when this broker holds a replica, created locally. */
  createTopic(name: string, partitions: number, options?: { replicationFactor?: number; config?: Record<string, string | number> }): Promise<void>;
  /** Deletes the topic in etcd; resolves once this broker's local log (if any) is deleted too. */
  deleteTopic(name: string): Promise<void>;
  /** Grows the topic's spec in etcd; resolves once the controller placed the new partitions. */
  createPartitions(name: string, count: number, validateOnly: boolean): Promise<void>;
  /** Merges configs into the topic's spec in etcd; resolves once this broker applied them locally. */
  alterTopicConfig(name: string, config: Record<string, string | number>): Promise<void>;
}

/** A response to send: the msgpack header and the raw payload buffers (never copied). */
export interface HandlerResponse {
  header: object;
  payload?: Buffer[];
  /** Close the connection once this answer is written (a refused or failed authentication). */
  close?: boolean;
}

/** What a handler may use of its request's connection. */
export interface RequestScope {
  /** Aborted when the connection closes: the response will be dropped. */
  readonly signal: AbortSignal;
  /** The address the client connected to (Metadata advertises it when listening on 0.0.0.0 / ::). */
  readonly localAddress: string | undefined;
  /** What is left of the connection's response byte budget (<= 0 when spent): a fetch answered later reads no more. */
  responseBytesLeft(): number;
  /** The client's address (group members' clientHost). */
  readonly remoteAddress: string | undefined;
  /** The port the client connected to (which listener). */
  readonly localPort: number | undefined;
  /** The client's address ("host:port"), for log lines about the request. */
  readonly remote?: string;
  /** Who the connection is (principal, authenticated or not): see security/session.ts. */
  readonly session: Session;
  /** Mutes the connection (no reads, no dispatch) for `delayMs`: a client over its quota (core/quotas.ts). */
  throttle?(delayMs: number): void;
}
