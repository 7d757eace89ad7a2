// Options of startBroker, their defaults and limits. Every limit is checked before the
// broker allocates for it (see README.md "Limits").

import type { CoordinatorRoles } from '../groups/coordinator-placement.js';
import type { TlsContext } from '../security/tls.js';
import type { StorageFs } from '../storage/fs.js';
import type { ReplicationSettings } from './core/replica-fetch.js';
import type { ClusterMetadataSource } from './core/cluster-metadata.js';
import type { ProducerIdSource } from './core/producer-ids.js';
import type { FsyncPolicy, TopicConfig } from '../storage/types.js';
import type { SaslOptions } from '../security/sasl.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port` (`[v6]:port` for IPv6); throws a RangeError naming `what`. */
export function parseHostPort(value: string, what: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isSafeInteger(port) || port > 65535) throw new RangeError(`${what} must be host:port, got '${value}'`);
  return { host: (match[1] ?? match[2])!, port };
}

export interface BrokerOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9400; 0 picks a free port (Broker.port tells which). */
  port?: number;
  /** Default { kind: 'interval', intervalMs: 1000 } (see README.md "Flush modes"). */
  fsync?: FsyncPolicy;
  /** Create unknown topics on produce, with defaultPartitions. Default false. */
  autoCreateTopics?: boolean;
  /** Partitions of auto-created topics. Default 1. */
  defaultPartitions?: number;
  /** Largest request frame accepted; a larger one closes the connection. Default 100 MiB. */
  maxRequestBytes?: number;
  /** Requests read but not yet answered per connection before the broker stops reading it. Default 1000. */
  maxInFlightPerConnection?: number;
  /** Response bytes held per connection (answered, not yet taken by the kernel) before dispatch pauses. Default 64 MiB. */
  maxBufferedBytesPerConnection?: number;
  /** Fetches parked (long-poll) across the broker; beyond it a fetch is answered at once. Default 10000. */
  maxParkedFetches?: number;
  /** Cap on a fetch's bytes, whatever the request asks (per request, and so per partition); at least one batch. Default 50 MiB. */
  fetchMaxBytes?: number;
  /** Serve the Kafka wire protocol on this address too (off when absent; port 0 picks one). */
  kafkaListener?: HostPort;
  /** The address Kafka Metadata and FindCoordinator hand out (NAT, containers); default: the Kafka listener's. */
  kafkaAdvertised?: HostPort;
  /** Open connections; beyond it new ones are refused. Default 10000. */
  maxConnections?: number;
  /** How long close() waits for in-flight requests before dropping connections. Default 10000 ms. */
  shutdownTimeoutMs?: number;
  /** Request bytes held across the broker (partial frames plus frames read, not yet dispatched) before connections stop reading (Kafka's queued.max.request.bytes). Default 256 MiB. */
  queuedMaxRequestBytes?: number;
  /** A request frame not completed this long after its first byte closes the connection. Default 30000 ms. */
  requestReadTimeoutMs?: number;
  /** A connection with no request being handled and no bytes read or written this long is closed (Kafka's connections.max.idle.ms). Default 600000 ms. */
  connectionsMaxIdleMs?: number;
  /** Permission bits of the data files (default 0o600; directories 0o700). See src/storage/README.md. */
  fileMode?: number;
  /** Share groups: how long an acquired record stays locked to its member. Default 30000 ms. See src/groups/README.md. */
  shareLockDurationMs?: number;
  /** Share groups: deliveries before a record goes to the dead-letter topic. Default 5 (2..10). */
  shareDeliveryLimit?: number;
  /** Share groups: records in flight per share-partition at most. Default 4000 (100..4000). */
  shareMaxInFlightRecords?: number;
  /** Segment files storage keeps open (default: half the soft RLIMIT_NOFILE). See src/storage/README.md. */
  maxOpenFiles?: number;
  /** SASL authentication on both listeners (off when absent): see src/security/README.md "SASL". */
  sasl?: SaslOptions;
  /** A user created with both SCRAM mechanisms at start if it has no credential (serve: SPOOL_BOOTSTRAP_USER). */
  bootstrapUser?: { name: string; password: string };
  /** Defaults for topics created without a value. */
  topicDefaults?: Partial<TopicConfig>;
  /** 'acl': every request is checked against the ACLs (no matching ACL: denied); 'none': nothing is. Default: 'acl' when authentication is configured, else 'none'. See src/security/README.md "ACLs". */
  authorizer?: 'acl' | 'none';
  /** Principals that bypass the ACLs (`User:admin`). */
  superUsers?: string[];
  /** TLS per listener (src/security/README.md "TLS"): a listener with a context accepts only TLS. Default: none. */
  tls?: ListenerTls;
  logger?: Logger;
  /** The registry the broker counts into (serve passes one it also serves over HTTP). Default: a fresh one. */
  metrics?: BrokerMetrics;
  clock?: Clock;
  /** The storage's file-system calls (tests inject faults here). Default: node:fs. */
  storageFs?: StorageFs;
  /**
   * A cluster member: this broker's id and the replication state the cluster layer keeps
   * (who leads each partition, at which epoch, the ISR). Storage then runs `replicated`
   * (a high watermark of its own) and the replica data path is on (core/replica-fetch.ts).
   * Absent: a single node, as before.
   */
  replication?: ReplicationSettings;
  /**
   * Cluster mode of the group coordinator (needs `replication`): who leads each partition
   * of __consumer_offsets / __share_group_state. This broker then coordinates only the
   * groups of the partitions it leads (src/groups/coordinator-placement.ts).
   */
  coordinatorRoles?: CoordinatorRoles;
  /** Partitions of __consumer_offsets when cluster mode creates it (default 16; an existing topic keeps its count). */
  offsetsTopicPartitions?: number;
  /**
   * The brokers and partition leaders Metadata answers with (core/cluster-metadata.ts): a
   * cluster member's comes from etcd (view-metadata.ts), a test may supply one. Default:
   * this broker alone, leader of everything.
   */
  clusterMetadata?: ClusterMetadataSource;
  /** InitProducerId's ids (cluster mode: notJoinedProducerIds until joined, then etcd blocks); default the data dir's counter. */
  producerIds?: ProducerIdSource;
}

/** The TLS context of each listener that speaks TLS (one context may serve several). */
export interface ListenerTls {
  native?: TlsContext;
  kafka?: TlsContext;
}

export interface ResolvedBrokerOptions {
  dataDir: string;
  host: string;
  port: number;
  fsync: FsyncPolicy;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  maxRequestBytes: number;
  maxInFlightPerConnection: number;
  maxBufferedBytesPerConnection: number;
  maxParkedFetches: number;
  fetchMaxBytes: number;
  kafkaListener: HostPort | null;
  kafkaAdvertised: HostPort | null;
  maxConnections: number;
  shutdownTimeoutMs: number;
  queuedMaxRequestBytes: number;
  requestReadTimeoutMs: number;
  connectionsMaxIdleMs: number;
  /** ACLs enforced (see BrokerOptions.authorizer). */
  authorizerEnabled: boolean;
  superUsers: string[];
  tls: ListenerTls;
}

export const DEFAULT_FSYNC: FsyncPolicy = { kind: 'interval', intervalMs: 1000 };
export const DEFAULT_PORT = 9400;
export const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;
/** See README.md "Limits" for why 256 MiB (Kafka's default is unbounded). */
export const DEFAULT_QUEUED_MAX_REQUEST_BYTES = 256 * 1024 * 1024;
export const DEFAULT_REQUEST_READ_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECTIONS_MAX_IDLE_MS = 600_000;
/** Kafka's fetch.max.bytes default. */
export const DEFAULT_FETCH_MAX_BYTES = 50 * 1024 * 1024;

export function resolveOptions(options: BrokerOptions): ResolvedBrokerOptions {
  const resolved: ResolvedBrokerOptions = {
    dataDir: options.dataDir,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? DEFAULT_PORT,
    fsync: options.fsync ?? DEFAULT_FSYNC,
    autoCreateTopics: options.autoCreateTopics ?? false,
    defaultPartitions: options.defaultPartitions ?? 1,
    maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    maxInFlightPerConnection: options.maxInFlightPerConnection ?? 1000,
    maxBufferedBytesPerConnection: options.maxBufferedBytesPerConnection ?? 64 * 1024 * 1024,
    maxParkedFetches: options.maxParkedFetches ?? 10_000,
    fetchMaxBytes: options.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES,
    kafkaListener: options.kafkaListener ?? null,
    kafkaAdvertised: options.kafkaAdvertised ?? null,
    maxConnections: options.maxConnections ?? 10_000,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    queuedMaxRequestBytes: options.queuedMaxRequestBytes ?? DEFAULT_QUEUED_MAX_REQUEST_BYTES,
    requestReadTimeoutMs: options.requestReadTimeoutMs ?? DEFAULT_REQUEST_READ_TIMEOUT_MS,
    connectionsMaxIdleMs: options.connectionsMaxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS,
    authorizerEnabled: options.authorizer === undefined ? authenticationConfigured(options) : options.authorizer === 'acl',
    superUsers: options.superUsers ?? [],
    tls: options.tls ?? {},
  };
  for (const principal of resolved.superUsers) {
    if (!/^[A-Za-z]+:.+$/.test(principal)) throw new RangeError(`superUsers: a principal is Type:name (User:admin), got '${principal}'`);
  }
  const positive = (name: string, value: number, min = 1): void => {
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  };
  positive('port', resolved.port, 0);
  if (resolved.port > 65535) throw new RangeError(`port must be <= 65535, got ${resolved.port}`);
  positive('defaultPartitions', resolved.defaultPartitions);
  positive('maxRequestBytes', resolved.maxRequestBytes, 64);
  if (resolved.maxRequestBytes > 0xffff_ffff) throw new RangeError('maxRequestBytes must fit in a u32');
  positive('maxInFlightPerConnection', resolved.maxInFlightPerConnection);
  positive('maxBufferedBytesPerConnection', resolved.maxBufferedBytesPerConnection);
  positive('maxParkedFetches', resolved.maxParkedFetches, 0);
  positive('fetchMaxBytes', resolved.fetchMaxBytes);
  positive('maxConnections', resolved.maxConnections);
  positive('shutdownTimeoutMs', resolved.shutdownTimeoutMs, 0);
  positive('queuedMaxRequestBytes', resolved.queuedMaxRequestBytes);
  positive('requestReadTimeoutMs', resolved.requestReadTimeoutMs);
  positive('connectionsMaxIdleMs', resolved.connectionsMaxIdleMs);
  return resolved;
}

/** Parses `--fsync always|never|<ms>`. */
export function parseFsyncPolicy(text: string): FsyncPolicy {
  if (text === 'always') return { kind: 'always' };
  if (text === 'never') return { kind: 'never' };
  if (/^\d+$/.test(text)) {
    const intervalMs = Number(text);
    if (intervalMs > 0 && Number.isSafeInteger(intervalMs)) return { kind: 'interval', intervalMs };
  }
  throw new RangeError(`--fsync must be always, never or a positive number of milliseconds, got '${text}'`);
}

/**
 * True when connections can name a principal (SASL, or TLS client certificates required):
 * then authorisation is on unless `authorizer: 'none'` says otherwise, since authenticating
 * without authorising would protect nothing.
 */
export function authenticationConfigured(options: BrokerOptions): boolean {
  // mTLS with required client certificates names every connection's principal too.
  const tls = options.tls ?? {};
  return options.sasl !== undefined || tls.native?.clientAuth === 'required' || tls.kafka?.clientAuth === 'required';
}
