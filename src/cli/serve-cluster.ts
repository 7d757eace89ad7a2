// `spool serve --cluster etcd://...`: the serve flags of cluster mode and the start of the
// broker's ClusterNode (src/cluster) once the listeners are up, so the registration carries
// the real ports. Without --cluster nothing here runs and etcd is never needed.

import { type Command, InvalidArgumentError, Option } from 'commander';
// Light modules only at load time: the etcd client (etcd3, gRPC) costs ~0.5 s to load and is
// imported on demand, so a single broker starts as fast as before.
import { parseClusterUrl } from '../cluster/etcd-url.js';
import { DEFAULT_LEASE_TTL_MS } from '../cluster/lease-keeper.js';
import {
  DEFAULT_AUTO_LEADER_REBALANCE,
  DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_MS,
  DEFAULT_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE,
  MAX_LEADER_IMBALANCE_CHECK_INTERVAL_MS,
  MIN_LEADER_IMBALANCE_CHECK_INTERVAL_MS,
} from '../cluster/controller.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { ClusterLogger } from '../cluster/logger.js';
import { viewMetadataSource, type BrokerContext, type HostPort } from '../broker/index.js';
import { attachCluster, ClusterPartitionStates, DEFAULT_REPLICA_LAG_TIME_MAX_MS } from '../broker/cluster-replication.js';
import type { ReplicationSettings } from '../broker/core/replica-fetch.js';
import { ClusterCoordinatorRoles, DEFAULT_CLUSTER_INTERNAL_PARTITIONS, MAX_INTERNAL_PARTITIONS } from '../broker/cluster-coordinator-roles.js';
import type { Logger } from '../broker/logger.js';
import type { BootstrapUser } from '../broker/authentication.js';
import { attachClusterSecurity } from '../broker/cluster-security.js';
import { ClusterReplicaRecord } from '../broker/cluster-replica-record.js';
import { PeerLoginBackoff } from '../broker/peer-login-backoff.js';
import type { PeerLogin, PeerSecurity } from '../broker/peer-connection.js';
import type { TlsContext } from '../broker/index.js';

export interface ClusterServeOptions {
  cluster?: string;
  nodeId?: number;
  advertise?: HostPort;
  clusterLeaseTtlMs: number;
  replicaLagTimeMaxMs: number;
  offsetsTopicPartitions: number;
  autoLeaderRebalance: boolean;
  leaderImbalanceCheckIntervalMs: number;
  leaderImbalancePerBrokerPercentage: number;
  interBrokerUser?: string;
  interBrokerMechanism?: 'scram-sha-256' | 'scram-sha-512';
}

function booleanOption(flag: string): (value: string) => boolean {
  return (value) => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new InvalidArgumentError(`${flag} must be true or false, got '${value}'`);
  };
}

function imbalanceIntervalOption(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < MIN_LEADER_IMBALANCE_CHECK_INTERVAL_MS || number > MAX_LEADER_IMBALANCE_CHECK_INTERVAL_MS) {
    throw new InvalidArgumentError(`--leader-imbalance-check-interval-ms must be an integer in [${MIN_LEADER_IMBALANCE_CHECK_INTERVAL_MS}, ${MAX_LEADER_IMBALANCE_CHECK_INTERVAL_MS}], got '${value}'`);
  }
  return number;
}

function imbalancePercentageOption(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 100) throw new InvalidArgumentError(`--leader-imbalance-per-broker-percentage must be an integer in [0, 100], got '${value}'`);
  return number;
}

/** The environment variable that holds the inter-broker user's password (never a flag: it would show in ps and --print-config). */
export const INTER_BROKER_PASSWORD_ENV = 'SPOOL_INTER_BROKER_PASSWORD';
const INTER_BROKER_MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;

function offsetsPartitionsOption(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > MAX_INTERNAL_PARTITIONS) throw new InvalidArgumentError(`--offsets-topic-partitions must be an integer in [1, ${MAX_INTERNAL_PARTITIONS}], got '${value}'`);
  return number;
}

function clusterUrlOption(value: string): string {
  try {
    parseClusterUrl(value);
    return value;
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function leaseTtlOption(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1000 || number > 600_000 || number % 1000 !== 0) {
    throw new InvalidArgumentError(`--cluster-lease-ttl-ms must be whole seconds in [1000, 600000] ms, got '${value}'`);
  }
  return number;
}

function lagTimeOption(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 100 || number > 3_600_000) throw new InvalidArgumentError(`--replica-lag-time-max-ms must be an integer in [100, 3600000], got '${value}'`);
  return number;
}

function nodeIdOption(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number > 2_147_483_647) throw new InvalidArgumentError(`--node-id must be an integer in [0, 2147483647], got '${value}'`);
  return number;
}

export function addClusterServeOptions(command: Command, hostPortOption: (what: string) => (value: string) => HostPort): Command {
  return command
    .option('--cluster <etcd-url>', 'join a cluster whose membership and partition state live in etcd: etcd://host:port[,host:port...][/root]; off unless given', clusterUrlOption)
    .option('--node-id <n>', 'this broker\'s node id in the cluster (required with --cluster)', nodeIdOption)
    .option('--advertise <host:port>', 'native address other brokers and clients reach this broker at (default: --host and the bound port)', hostPortOption('--advertise'))
    .option('--cluster-lease-ttl-ms <ms>', 'membership lease TTL in etcd (whole seconds); renewed every TTL/4', leaseTtlOption, DEFAULT_LEASE_TTL_MS)
    .option('--replica-lag-time-max-ms <ms>', 'a leader drops a follower from the ISR after this long not caught up (Kafka\'s replica.lag.time.max.ms)', lagTimeOption, DEFAULT_REPLICA_LAG_TIME_MAX_MS)
    .option('--inter-broker-user <name>', `cluster mode with --sasl: the user this broker logs in as to the other brokers (replication; password from env ${INTER_BROKER_PASSWORD_ENV}); it needs Alter on the cluster or to be a super user`)
    .addOption(new Option('--inter-broker-mechanism <mechanism>', 'the SASL mechanism of the inter-broker login (one of --sasl)').choices([...INTER_BROKER_MECHANISMS]))
    .option('--offsets-topic-partitions <n>', 'cluster mode: partitions of __consumer_offsets and __share_group_state when created (a group is coordinated by the leader of its partition; an existing topic keeps its count)', offsetsPartitionsOption, DEFAULT_CLUSTER_INTERNAL_PARTITIONS)
    .option('--auto-leader-rebalance <true|false>', 'cluster mode: the controller moves leadership back to preferred replicas on its own (Kafka\'s auto.leader.rebalance.enable)', booleanOption('--auto-leader-rebalance'), DEFAULT_AUTO_LEADER_REBALANCE)
    .option('--leader-imbalance-check-interval-ms <ms>', 'cluster mode: how often the controller checks the leader imbalance (Kafka\'s leader.imbalance.check.interval.seconds)', imbalanceIntervalOption, DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_MS)
    .option('--leader-imbalance-per-broker-percentage <n>', 'cluster mode: a broker\'s share (%) of preferred partitions led by others above which the controller rebalances (Kafka\'s leader.imbalance.per.broker.percentage)', imbalancePercentageOption, DEFAULT_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE);
}

/** Flag combinations, checked before the broker opens anything. */
export function checkClusterOptions(options: ClusterServeOptions): void {
  if (options.cluster !== undefined && options.nodeId === undefined) throw new InvalidArgumentError('--cluster needs --node-id');
  if (options.cluster === undefined && (options.nodeId !== undefined || options.advertise !== undefined)) {
    throw new InvalidArgumentError('--node-id and --advertise need --cluster');
  }
}

/**
 * The inter-broker login (Kafka's sasl.mechanism.inter.broker.protocol and the broker's own
 * JAAS user), or null without SASL. Every broker of a cluster uses the same --sasl, so a
 * broker with SASL logs in to its peers and one without does not; a broker with --sasl in
 * cluster mode and no --inter-broker-user could not replicate, so it does not start.
 */
export function interBrokerLogin(options: ClusterServeOptions & { sasl?: readonly string[] }, env: NodeJS.ProcessEnv = process.env): PeerLogin | null {
  const { interBrokerUser: user, interBrokerMechanism } = options;
  if (options.cluster === undefined) {
    if (user !== undefined || interBrokerMechanism !== undefined) throw new InvalidArgumentError('--inter-broker-user and --inter-broker-mechanism need --cluster');
    return null;
  }
  if (options.sasl === undefined) {
    if (user !== undefined || interBrokerMechanism !== undefined) throw new InvalidArgumentError('--inter-broker-user and --inter-broker-mechanism need --sasl (the brokers of a cluster share one --sasl setting; without it they do not log in to each other)');
    return null;
  }
  if (user === undefined || user === '') {
    throw new InvalidArgumentError(
      `--sasl in cluster mode needs --inter-broker-user <name> and its password in env ${INTER_BROKER_PASSWORD_ENV}: the brokers log in to each other to replicate (see "Running a cluster" in README.md)`,
    );
  }
  const password = env[INTER_BROKER_PASSWORD_ENV];
  if (password === undefined || password === '') throw new InvalidArgumentError(`--inter-broker-user ${user} needs its password in env ${INTER_BROKER_PASSWORD_ENV}`);
  const mechanism = interBrokerMechanism ?? 'scram-sha-512';
  const enabled = options.sasl.map((name) => name.toLowerCase());
  if (!enabled.includes(mechanism)) {
    throw new InvalidArgumentError(`--inter-broker-mechanism ${mechanism} is not one of --sasl ${enabled.join(',')}: the peers would refuse it${interBrokerMechanism === undefined ? ' (scram-sha-512 is the default)' : ''}`);
  }
  return { mechanism: mechanism.toUpperCase() as PeerLogin['mechanism'], username: user, password };
}

/** How this broker connects to its peers: TLS when its native listener is TLS (the cluster's one setting), and the login. */
export function peerSecurityOf(nativeTls: TlsContext | undefined, login: PeerLogin | null): PeerSecurity {
  return { tls: nativeTls ? () => nativeTls.peerConnectOptions() : null, login, loginBackoff: new PeerLoginBackoff() };
}

/**
 * The broker's replication settings in cluster mode (undefined without --cluster): the
 * partition states answer "no leader" until startClusterNode attaches the cluster.
 */
export function clusterReplication(
  options: ClusterServeOptions,
  logger: Logger,
): { states: ClusterPartitionStates; settings: ReplicationSettings; coordinatorRoles: ClusterCoordinatorRoles } | undefined {
  if (options.cluster === undefined || options.nodeId === undefined) return undefined;
  const states = new ClusterPartitionStates();
  // The group coordinators follow the leaders of the internal topics' partitions (src/groups/README.md "Coordinators in a cluster").
  const coordinatorRoles = new ClusterCoordinatorRoles(options.offsetsTopicPartitions, logger);
  return { states, settings: { brokerId: options.nodeId, state: states }, coordinatorRoles };
}

/** What serve stops on shutdown: replication first, then the membership (the lease is revoked). */
export interface JoinedCluster {
  readonly node: ClusterNode;
  close(): Promise<void>;
}

/** Null without --cluster. Resolves once registered in etcd (waits while etcd is down), with replication wired. */
export async function startClusterNode(
  options: ClusterServeOptions,
  listening: { host: string; port: number; kafka: HostPort | null; context: BrokerContext; bootstrapUser?: BootstrapUser },
  logger: ClusterLogger,
  states: ClusterPartitionStates | undefined,
  coordinatorRoles?: ClusterCoordinatorRoles,
  peerSecurity?: PeerSecurity,
): Promise<JoinedCluster | null> {
  if (options.cluster === undefined) return null;
  if (options.nodeId === undefined || states === undefined) throw new InvalidArgumentError('--cluster needs --node-id');
  const { ClusterNode } = await import('../cluster/cluster-node.js');
  // The data directory's record of its cluster (meta/cluster-replicas): another cluster's or
  // node's directory stops the start before this broker registers; only what it lists is
  // ever deleted at attach (src/broker/cluster-replica-record.ts).
  const nodeId = options.nodeId;
  const record = ClusterReplicaRecord.open(listening.context.logs.dataDir, logger);
  const node = await ClusterNode.start({
    checkClusterId: (clusterId, root) => {
      record.checkIdentity({ clusterId, root, nodeId });
      if (record.storedIdentity === null) logger.info(`cluster: this data directory joins cluster ${clusterId} (etcd root ${root}) as node ${nodeId}`);
      record.adopt({ clusterId, root, nodeId });
    },
    url: options.cluster,
    nodeId: options.nodeId,
    advertised: options.advertise ?? { host: listening.host, port: listening.port },
    ...(listening.kafka ? { kafkaAdvertised: listening.kafka } : {}),
    leaseTtlMs: options.clusterLeaseTtlMs,
    logger,
    controller: {
      autoLeaderRebalance: options.autoLeaderRebalance,
      leaderImbalanceCheckIntervalMs: options.leaderImbalanceCheckIntervalMs,
      leaderImbalancePerBrokerPercentage: options.leaderImbalancePerBrokerPercentage,
    },
  });
  if (peerSecurity && (peerSecurity.tls || peerSecurity.login)) {
    const login = peerSecurity.login;
    logger.info(`inter-broker connections: ${peerSecurity.tls ? 'TLS' : 'plaintext'}${login ? `, logging in as User:${login.username} with ${login.mechanism}` : ''}`);
  }
  const replication = attachCluster(listening.context, states, node, { replicaLagTimeMaxMs: options.replicaLagTimeMaxMs, record, ...(peerSecurity ? { peerSecurity } : {}) });
  // Metadata answers (both listeners) now list every broker and partition leader from etcd.
  listening.context.clusterMetadata = viewMetadataSource(node.view, options.nodeId);
  // InitProducerId (both listeners) now hands out ids from blocks reserved in etcd, unique in the cluster.
  listening.context.producerIds = node.producerIds;
  // After the replication: its role listener runs first, so a partition is led before its groups load.
  coordinatorRoles?.attach(node);
  // Credentials, ACLs and quotas: one etcd document each, shared by every broker (src/security/README.md "In a cluster").
  const security = await attachClusterSecurity(listening.context, node.store, node.layout, logger, listening.bootstrapUser);
  return {
    node,
    close: async () => {
      await security.close();
      coordinatorRoles?.detach();
      await replication.close();
      await node.close();
    },
  };
}
