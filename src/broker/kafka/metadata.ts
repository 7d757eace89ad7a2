// Kafka ApiVersions, Metadata and FindCoordinator. Metadata lists the brokers and partition
// leaders of ctx.clusterMetadata (core/cluster-metadata.ts) at their Kafka addresses: on a
// single node this broker is the whole cluster (node 0, the controller, the leader of every
// partition with itself as the only replica); in a cluster, every live broker with a Kafka
// listener and each partition's leader, epoch, replicas and ISR, so Kafka clients follow
// leaders. FindCoordinator still names this broker for every group.

import {
  apiVersionsResponse,
  findCoordinatorKeys,
  KafkaErrors,
  kafkaErrorOf,
  metadataWantsAllTopics,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type MetadataRequest,
  type MetadataResponse,
  type MetadataResponseTopic,
} from '../../kafka/index.js';
import { RequestLimits } from '../../protocol/validate.js';
import type { BrokerContext } from '../context.js';
import { topicsMetadata } from '../core/admin.js';
import { NO_LEADER_ID } from '../core/cluster-metadata.js';
import { autoCreateTopics } from '../core/produce.js';
import { mayCreateTopic, mayGroup, mayTopic, Operation } from '../core/authorize.js';
import type { Outcome } from '../front.js';
import { answer, type KafkaAnswer, type KafkaScope } from './answer.js';

export const NODE_ID = 0;
/** Kafka cluster ids are 22-character base64 UUIDs; clients only compare them. */
export const CLUSTER_ID = 'spool-single-node-0000';
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export function handleApiVersions(): KafkaAnswer {
  return answer(apiVersionsResponse());
}

/** The Kafka listener's address as clients should dial it. */
export function advertisedKafka(ctx: BrokerContext, scope: KafkaScope): { host: string; port: number } {
  const advertised = ctx.kafkaAdvertised ?? { host: ctx.options.host, port: scope.localPort ?? 0 };
  // Listening on every interface: tell the client the address it reached us on.
  const host = WILDCARD_HOSTS.has(advertised.host) && scope.localAddress ? scope.localAddress.replace(/^::ffff:/, '') : advertised.host;
  return { host, port: advertised.port };
}

export function handleMetadata(ctx: BrokerContext, request: MetadataRequest, scope: KafkaScope): Outcome<KafkaAnswer> {
  const all = metadataWantsAllTopics(scope.apiVersion, request);
  const names = all ? null : (request.topics ?? []).map((topic) => topic.name);
  if (names !== null && names.length > RequestLimits.maxTopicsPerRequest) {
    return respond(ctx, scope, names.map((name) => ({ errorCode: KafkaErrors.INVALID_REQUEST, name, isInternal: false, partitions: [] })));
  }
  // v0-3 have no allowAutoTopicCreation field: Kafka treats them as allowing it.
  const allowCreate = ctx.options.autoCreateTopics && (scope.apiVersion < 4 || request.allowAutoTopicCreation);
  const unknown = names?.filter((name) => !ctx.logs.getTopic(name)) ?? [];
  if (allowCreate && unknown.length > 0) {
    // A name that cannot be created (invalid, reserved) is told why, as Kafka does
    // (INVALID_TOPIC_EXCEPTION, not retried), instead of UNKNOWN_TOPIC_OR_PARTITION, which
    // clients retry until they time out.
    // Only topics the requester may Create (on the cluster or the topic) and Describe: a
    // denied name is answered TOPIC_AUTHORIZATION_FAILED by topicsMetadata, uncreated.
    const creatable = unknown.filter((name) => mayTopic(ctx, scope.session, Operation.Describe, name) && mayCreateTopic(ctx, scope.session, name));
    if (creatable.length > 0) return autoCreateTopics(ctx, creatable).then((creationErrors) => respond(ctx, scope, topicsOf(ctx, scope, names, creationErrors)));
  }
  return respond(ctx, scope, topicsOf(ctx, scope, names));
}

function topicsOf(ctx: BrokerContext, scope: KafkaScope, names: string[] | null, creationErrors?: ReadonlyMap<string, unknown>): MetadataResponseTopic[] {
  const cluster = ctx.clusterMetadata;
  return topicsMetadata(ctx, names, scope.session).map((topic) => ({
    errorCode: topic.error === null ? KafkaErrors.NONE : kafkaErrorOf(creationErrors?.get(topic.name) ?? topic.error).errorCode,
    name: topic.name,
    isInternal: topic.internal,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => {
      const leadership = cluster.partition(topic.name, partitionIndex);
      if (leadership === undefined || leadership.leader === NO_LEADER_ID) {
        // Kafka's answer while a partition has no leader: clients refresh and retry.
        return {
          errorCode: KafkaErrors.LEADER_NOT_AVAILABLE,
          partitionIndex,
          leaderId: NO_LEADER_ID,
          leaderEpoch: leadership?.leaderEpoch ?? -1,
          replicaNodes: [...(leadership?.replicas ?? [])],
          isrNodes: [...(leadership?.isr ?? [])],
          offlineReplicas: [],
        };
      }
      return {
        errorCode: KafkaErrors.NONE,
        partitionIndex,
        leaderId: leadership.leader,
        leaderEpoch: leadership.leaderEpoch,
        replicaNodes: [...leadership.replicas],
        isrNodes: [...leadership.isr],
        offlineReplicas: [],
      };
    }),
    topicAuthorizedOperations: -2147483648,
  }));
}

/**
 * Every live broker that has a Kafka listener, at its Kafka address; this broker's own entry
 * is the address the client reached (a wildcard listener) as advertisedKafka() says.
 */
function kafkaBrokers(ctx: BrokerContext, scope: KafkaScope): MetadataResponse['brokers'] {
  const cluster = ctx.clusterMetadata;
  const brokers: MetadataResponse['brokers'] = [];
  for (const broker of cluster.brokers()) {
    if (broker.nodeId === cluster.nodeId) {
      const { host, port } = advertisedKafka(ctx, scope);
      brokers.push({ nodeId: broker.nodeId, host, port, rack: null });
    } else if (broker.kafkaHost !== undefined && broker.kafkaPort !== undefined) {
      brokers.push({ nodeId: broker.nodeId, host: broker.kafkaHost, port: broker.kafkaPort, rack: null });
    }
  }
  return brokers;
}

function respond(ctx: BrokerContext, scope: KafkaScope, topics: MetadataResponseTopic[]): KafkaAnswer {
  return answer({
    throttleTimeMs: 0,
    brokers: kafkaBrokers(ctx, scope),
    clusterId: CLUSTER_ID,
    controllerId: ctx.clusterMetadata.controllerId(),
    topics,
    clusterAuthorizedOperations: -2147483648,
  } satisfies MetadataResponse);
}

interface FoundCoordinator {
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

/**
 * keyType 0 is a group: this broker on a single node; in a cluster the leader of the
 * group's __consumer_offsets partition (at its Kafka listener). 1 (transactions) is not served.
 */
function findOne(ctx: BrokerContext, keyType: number, key: string, scope: KafkaScope): FoundCoordinator {
  const none = (errorMessage: string): FoundCoordinator => ({ nodeId: -1, host: '', port: -1, errorCode: KafkaErrors.COORDINATOR_NOT_AVAILABLE, errorMessage });
  if (keyType !== 0) return none('transactions are not served');
  // Finding a group's coordinator needs Describe on the group (Kafka).
  if (!mayGroup(ctx, scope.session, Operation.Describe, key)) {
    return { nodeId: -1, host: '', port: -1, errorCode: KafkaErrors.GROUP_AUTHORIZATION_FAILED, errorMessage: `${scope.session.principal} may not Describe group '${key}'` };
  }
  const found = ctx.coordinator.findCoordinator(key);
  if (found === 'here') return { ...advertisedKafka(ctx, scope), nodeId: ctx.clusterMetadata.nodeId, errorCode: KafkaErrors.NONE, errorMessage: null };
  if (found === null) return none('the group\'s coordinator partition has no leader now');
  if (found.kafka === null) return none(`broker ${found.nodeId} has no Kafka listener`);
  return { nodeId: found.nodeId, host: found.kafka.host, port: found.kafka.port, errorCode: KafkaErrors.NONE, errorMessage: null };
}

export function handleFindCoordinator(ctx: BrokerContext, request: FindCoordinatorRequest, scope: KafkaScope): KafkaAnswer {
  if (scope.apiVersion >= 4) {
    const coordinators = findCoordinatorKeys(scope.apiVersion, request).map((key) => ({ key, ...findOne(ctx, request.keyType, key, scope) }));
    return answer({ throttleTimeMs: 0, coordinators } satisfies FindCoordinatorResponse);
  }
  return answer({ throttleTimeMs: 0, ...findOne(ctx, request.keyType, request.key, scope) } satisfies FindCoordinatorResponse);
}
