// Admin calls: thin wrappers over the protocol. Per-item errors become SpoolErrors
// (the first failing item is thrown, naming it); results keep the wire shapes.

import {
  ApiKey,
  OffsetSpec,
  type AlterConfigsResponse,
  type CreatePartitionsResponse,
  type DeleteRecordsResponse,
  type DescribeClusterResponse,
  type CreateTopicsResponse,
  type DeleteGroupsResponse,
  type DeleteTopicsResponse,
  type DescribeGroupsResponse,
  type DescribeTopicsResponse,
  type GroupDescription,
  type ListGroupsResponse,
  type ListOffsetsResponse,
  type MetadataResponse,
  type OffsetFetchResponse,
  type PartitionDescription,
  type ResetOffsetsRequest,
  type ResetOffsetsResponse,
  type GroupState,
} from '../protocol/index.js';
import type {
  AclBindingWire,
  AclFilterWire,
  AlterClientQuotasResponse,
  CreateAclsResponse,
  DeleteAclsResponse,
  DescribeAclsResponse,
  DescribeClientQuotasResponse,
  DescribeShareGroupsResponse,
  ShareGroupDescription,
} from '../protocol/messages.js';
import type { Client } from './client.js';
import { mergeShareDescriptions } from './share-describe.js';
import { errorFromCode } from './errors.js';
import { Errors, SpoolError } from '../util/errors.js';
import { CREATE_TOPICS_OPTIONS, CREATE_TOPIC_SPEC, checkOptions } from './options.js';
import { requireOffset, requireTimestamp } from './offset-input.js';
import { alterUserScramCredentials, describeUserScramCredentials, type UserScramCredentialAlteration, type UserScramCredentials } from './admin-users.js';

export interface CreateTopicSpec {
  topic: string;
  numPartitions?: number;
  /** Kafka config names: retention.ms, retention.bytes, segment.bytes, segment.ms, cleanup.policy, max.message.bytes, ... */
  config?: Record<string, string | number>;
  /** kafkajs's form of `config`: [{ name, value }]; merged with `config`. */
  configEntries?: Array<{ name: string; value: string | number }>;
  /** Copies of each partition in a cluster (-1 or absent: the cluster's default, min(3, live brokers)); a single broker takes only 1. */
  replicationFactor?: number;
}

export interface TopicDescription {
  name: string;
  config: Record<string, string | number>;
  partitions: PartitionDescription[];
}

export interface PartitionOffset {
  partition: number;
  offset: number;
}

export type OffsetTarget = 'earliest' | 'latest' | number | bigint | (string & {}) | Date | { offset: number | string | bigint } | { timestamp: number | string | bigint } | ResetOffsetsRequest['to'];

export interface ClusterDescription {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  /** The node id of the controller: spool runs one broker, always that one (kafkajs's field). */
  controller: number;
  brokerVersion: string;
  /** Non-internal topics, their partitions, and consumer groups on the broker. */
  topics: number;
  partitions: number;
  groups: number;
}

/** An ACL (src/security/README.md "ACLs"): who, from where, which operation on which resource, allowed or denied. */
export interface Acl {
  /** `User:alice`, or `User:*` for every principal. */
  principal: string;
  /** The client's address, or `*` (default). */
  host?: string;
  resourceType: 'Topic' | 'Group' | 'Cluster' | 'TransactionalId';
  /** The Cluster resource is `kafka-cluster` (default for Cluster); a literal `*` names every resource of the type. */
  resourceName?: string;
  /** Default literal. */
  patternType?: 'literal' | 'prefixed';
  operation: 'All' | 'Read' | 'Write' | 'Create' | 'Delete' | 'Alter' | 'Describe' | 'DescribeConfigs' | 'AlterConfigs' | 'IdempotentWrite';
  /** Default allow. */
  permission?: 'allow' | 'deny';
}

/** Matches ACLs: an absent field matches any value. */
export type AclFilter = Partial<Acl>;

/** A client quota: bytes per second for a user (principal name without `User:`), a client id, or both. */
export interface ClientQuota {
  user?: string;
  clientId?: string;
  /** Bytes per second; null removes the rate; absent keeps it. */
  producerByteRate?: number | null;
  consumerByteRate?: number | null;
}

function aclWire(acl: Acl): AclBindingWire {
  return {
    principal: acl.principal,
    host: acl.host ?? '*',
    resourceType: acl.resourceType,
    resourceName: acl.resourceName ?? (acl.resourceType === 'Cluster' ? 'kafka-cluster' : ''),
    patternType: acl.patternType ?? 'literal',
    operation: acl.operation,
    permission: acl.permission ?? 'allow',
  };
}

function filterWire(filter: AclFilter): AclFilterWire {
  return {
    principal: filter.principal ?? null,
    host: filter.host ?? null,
    resourceType: filter.resourceType ?? null,
    resourceName: filter.resourceName ?? null,
    patternType: filter.patternType ?? null,
    operation: filter.operation ?? null,
    permission: filter.permission ?? null,
  };
}

export class Admin {
  constructor(private readonly client: Client) {}

  /** The ACLs matching `filter` (all without one). Needs Describe on the cluster. */
  async describeAcls(filter: AclFilter = {}): Promise<Required<Acl>[]> {
    const response = await this.client.request(ApiKey.DescribeAcls, { filter: filterWire(filter) });
    const header = response.header as unknown as DescribeAclsResponse;
    throwItem(header.errorCode, header.errorMessage, 'describe ACLs');
    return header.acls as Array<Required<Acl>>;
  }

  /** Adds ACLs (stored durably before this resolves). Needs Alter on the cluster. */
  async createAcls(acls: Acl[]): Promise<void> {
    const response = await this.client.request(ApiKey.CreateAcls, { acls: acls.map(aclWire) });
    const header = response.header as unknown as CreateAclsResponse;
    throwItem(header.errorCode, header.errorMessage, 'create ACLs');
    header.results.forEach((result, i) => throwItem(result.errorCode, result.errorMessage, `create ACL ${acls[i]!.principal} ${acls[i]!.operation}`));
  }

  /** Removes every ACL each filter matches; returns those removed. Needs Alter on the cluster. */
  async deleteAcls(filters: AclFilter[]): Promise<Required<Acl>[]> {
    const response = await this.client.request(ApiKey.DeleteAcls, { filters: filters.map(filterWire) });
    const header = response.header as unknown as DeleteAclsResponse;
    throwItem(header.errorCode, header.errorMessage, 'delete ACLs');
    return header.results.flatMap((result) => {
      throwItem(result.errorCode, result.errorMessage, 'delete ACLs');
      return result.deleted as Array<Required<Acl>>;
    });
  }

  /** Every client quota. Needs DescribeConfigs on the cluster. */
  async describeClientQuotas(): Promise<ClientQuota[]> {
    const response = await this.client.request(ApiKey.DescribeClientQuotas, {});
    const header = response.header as unknown as DescribeClientQuotasResponse;
    throwItem(header.errorCode, header.errorMessage, 'describe client quotas');
    return header.quotas.map((quota) => ({
      ...(quota.user !== null ? { user: quota.user } : {}),
      ...(quota.clientId !== null ? { clientId: quota.clientId } : {}),
      ...(quota.rates.producer_byte_rate !== undefined ? { producerByteRate: quota.rates.producer_byte_rate } : {}),
      ...(quota.rates.consumer_byte_rate !== undefined ? { consumerByteRate: quota.rates.consumer_byte_rate } : {}),
    }));
  }

  /** Sets (or with null removes) byte rates of users and client ids. Needs AlterConfigs on the cluster. */
  async alterClientQuotas(quotas: ClientQuota[]): Promise<void> {
    const entries = quotas.map((quota) => ({
      user: quota.user ?? null,
      clientId: quota.clientId ?? null,
      rates: {
        ...(quota.producerByteRate !== undefined ? { producer_byte_rate: quota.producerByteRate } : {}),
        ...(quota.consumerByteRate !== undefined ? { consumer_byte_rate: quota.consumerByteRate } : {}),
      },
    }));
    const response = await this.client.request(ApiKey.AlterClientQuotas, { entries });
    const header = response.header as unknown as AlterClientQuotasResponse;
    throwItem(header.errorCode, header.errorMessage, 'alter client quotas');
    header.results.forEach((result, i) => throwItem(result.errorCode, result.errorMessage, `alter quota of ${quotas[i]!.user ?? quotas[i]!.clientId}`));
  }

  /** Creates topics (numPartitions default 1). Throws TOPIC_ALREADY_EXISTS, INVALID_CONFIG, ... */
  async createTopics(given: { topics: CreateTopicSpec[] }): Promise<void> {
    const options = checkOptions(given, { where: 'createTopics()', ...CREATE_TOPICS_OPTIONS });
    if (!Array.isArray(options.topics)) throw new SpoolError(Errors.INVALID_REQUEST, 'createTopics() needs { topics: [{ topic, numPartitions?, config? }] }');
    const topics = options.topics.map((spec) => {
      const config = topicConfig(checkOptions(spec, { where: `createTopics() topic ${String(spec?.topic)}`, ...CREATE_TOPIC_SPEC }));
      const replicationFactor = spec.replicationFactor;
      return { name: spec.topic, partitions: spec.numPartitions ?? 1, ...(replicationFactor !== undefined && replicationFactor !== -1 ? { replicationFactor } : {}), ...(config ? { config } : {}) };
    });
    const response = await this.client.request(ApiKey.CreateTopics, { topics });
    for (const topic of (response.header as unknown as CreateTopicsResponse).topics ?? []) {
      throwItem(topic.errorCode, topic.errorMessage, `create topic ${topic.name}`);
    }
  }

  async deleteTopics(options: { topics: string[] }): Promise<void> {
    const response = await this.client.request(ApiKey.DeleteTopics, { names: options.topics });
    for (const topic of (response.header as unknown as DeleteTopicsResponse).topics ?? []) {
      throwItem(topic.errorCode, topic.errorMessage, `delete topic ${topic.name}`);
      this.client.metadata.invalidate(topic.name);
    }
  }

  /**
   * Sets topic configs (Kafka names); configs not named keep their values (Kafka's
   * IncrementalAlterConfigs SET). `configEntries` ([{ name, value }], kafkajs) is merged
   * with `config`. Throws UNKNOWN_TOPIC, INVALID_CONFIG, INVALID_TOPIC (internal).
   */
  async alterConfigs(given: { topics: Array<{ topic: string; config?: Record<string, string | number>; configEntries?: Array<{ name: string; value: string | number }> }> }): Promise<void> {
    const options = checkOptions(given, { where: 'alterConfigs()', known: ['topics'], hints: { resources: 'give { topics: [{ topic, config }] }', validateOnly: 'not supported' } });
    if (!Array.isArray(options.topics)) throw new SpoolError(Errors.INVALID_REQUEST, 'alterConfigs() needs { topics: [{ topic, config }] }');
    const topics = options.topics.map((spec) => {
      checkOptions(spec, { where: `alterConfigs() topic ${String(spec?.topic)}`, known: ['topic', 'config', 'configEntries'], hints: {} });
      return { name: spec.topic, config: topicConfig(spec, `alterConfigs() topic ${spec.topic}`) ?? {} };
    });
    const response = await this.client.request(ApiKey.AlterConfigs, { topics });
    for (const topic of (response.header as unknown as AlterConfigsResponse).topics ?? []) {
      throwItem(topic.errorCode, topic.errorMessage, `alter config of topic ${topic.name}`);
    }
  }

  /**
   * Sets a share group's lock duration (1,000..3,600,000 ms) and/or delivery limit (2..10);
   * the field not given keeps its value. Kafka's group configs share.record.lock.duration.ms
   * and share.delivery.count.limit, through AlterConfigs `groups`.
   */
  async alterShareGroupConfig(options: { groupId: string; lockDurationMs?: number; deliveryLimit?: number }): Promise<void> {
    const config: Record<string, number> = {};
    if (options.lockDurationMs !== undefined) config['share.record.lock.duration.ms'] = options.lockDurationMs;
    if (options.deliveryLimit !== undefined) config['share.delivery.count.limit'] = options.deliveryLimit;
    const response = await this.client.request(ApiKey.AlterConfigs, { topics: [], groups: [{ name: options.groupId, config }] });
    for (const group of (response.header as unknown as AlterConfigsResponse).groups ?? []) {
      throwItem(group.errorCode, group.errorMessage, `alter config of share group ${group.name}`);
    }
  }

  /** Grows each topic to `count` partitions in total (kafkajs's shape). Throws INVALID_PARTITIONS when not more than now. */
  async createPartitions(given: { topicPartitions: Array<{ topic: string; count: number }> }): Promise<void> {
    const options = checkOptions(given, { where: 'createPartitions()', known: ['topicPartitions'], hints: { validateOnly: 'not supported', timeout: 'use the Client requestTimeoutMs' } });
    if (!Array.isArray(options.topicPartitions)) throw new SpoolError(Errors.INVALID_REQUEST, 'createPartitions() needs { topicPartitions: [{ topic, count }] }');
    const topics = options.topicPartitions.map((entry) => {
      if (!Number.isSafeInteger(entry?.count) || entry.count < 1) {
        throw new SpoolError(Errors.INVALID_PARTITIONS, `createPartitions() topic ${String(entry?.topic)}: count must be an integer >= 1 (the new total)`);
      }
      return { name: entry.topic, count: entry.count };
    });
    const response = await this.client.request(ApiKey.CreatePartitions, { topics });
    for (const topic of (response.header as unknown as CreatePartitionsResponse).topics ?? []) {
      throwItem(topic.errorCode, topic.errorMessage, `add partitions to topic ${topic.name}`);
      this.client.metadata.invalidate(topic.name);
    }
  }

  /**
   * Deletes the records of each partition below `offset` (-1: all of them) by moving its
   * log start offset (Kafka's DeleteRecords; kafkajs's deleteTopicRecords).
   * Returns each partition's new log start offset.
   */
  async deleteRecords(options: { topic: string; partitions: Array<{ partition: number; offset: number | string | bigint }> }): Promise<Array<{ partition: number; lowWatermark: number }>> {
    if (!Array.isArray(options?.partitions)) throw new SpoolError(Errors.INVALID_REQUEST, 'deleteRecords() needs { topic, partitions: [{ partition, offset }] }');
    const partitions = options.partitions.map((entry) => ({
      topic: options.topic,
      partition: entry.partition,
      offset: entry.offset === -1 || entry.offset === '-1' ? -1 : requireOffset(entry.offset, 'deleteRecords'),
    }));
    const response = await this.client.request(ApiKey.DeleteRecords, { partitions });
    return ((response.header as unknown as DeleteRecordsResponse).partitions ?? []).map((entry) => {
      throwItem(entry.errorCode, entry.errorMessage, `delete records of ${entry.topic}/${entry.partition}`);
      return { partition: entry.partition, lowWatermark: entry.lowWatermark };
    });
  }

  /** The broker, its version and how much it holds. */
  async describeCluster(): Promise<ClusterDescription> {
    const response = await this.client.request(ApiKey.DescribeCluster, {});
    const header = response.header as unknown as DescribeClusterResponse;
    return {
      brokers: header.brokers,
      controller: header.brokers[0]?.nodeId ?? 0,
      brokerVersion: header.brokerVersion,
      topics: header.topics,
      partitions: header.partitions,
      groups: header.groups,
    };
  }

  /** SCRAM users and their mechanisms (every user without names): admin-users.ts. */
  describeUserScramCredentials(users?: string[]): Promise<UserScramCredentials[]> {
    return describeUserScramCredentials(this.client, users);
  }

  /** Sets or deletes SCRAM credentials; the password is salted here and never sent: admin-users.ts. */
  alterUserScramCredentials(alterations: UserScramCredentialAlteration[]): Promise<void> {
    return alterUserScramCredentials(this.client, alterations);
  }

  /** Names of the (non-internal) topics. */
  async listTopics(): Promise<string[]> {
    const response = await this.client.request(ApiKey.Metadata, { topics: null });
    return ((response.header as unknown as MetadataResponse).topics ?? []).filter((topic) => topic.errorCode === 0).map((topic) => topic.name);
  }

  /** Configs and per-partition start/end offsets, sizes and segment counts. */
  async describeTopics(options: { topics: string[] }): Promise<TopicDescription[]> {
    const response = await this.client.request(ApiKey.DescribeTopics, { names: options.topics });
    return ((response.header as unknown as DescribeTopicsResponse).topics ?? []).map((topic) => {
      throwItem(topic.errorCode, topic.errorMessage, `describe topic ${topic.name}`);
      return { name: topic.name, config: topic.config, partitions: topic.partitions };
    });
  }

  /**
   * The offset of every partition of a topic: 'latest' (default: the log end offset),
   * 'earliest' (the log start offset), or the first offset with a timestamp >= the given
   * one (ms), the log end when there is none.
   */
  async listOffsets(options: { topic: string; timestamp?: 'earliest' | 'latest' | number }): Promise<PartitionOffset[]> {
    const spec = options.timestamp ?? 'latest';
    const timestamp = spec === 'earliest' ? OffsetSpec.Earliest : spec === 'latest' ? OffsetSpec.Latest : spec;
    const partitions = await this.client.metadata.fetch([options.topic]);
    const count = partitions.get(options.topic) ?? 0;
    const response = await this.client.request(ApiKey.ListOffsets, {
      partitions: Array.from({ length: count }, (_, partition) => ({ topic: options.topic, partition, timestamp })),
    });
    return ((response.header as unknown as ListOffsetsResponse).partitions ?? []).map((entry) => {
      throwItem(entry.errorCode, entry.errorMessage, `offsets of ${entry.topic}/${entry.partition}`);
      return { partition: entry.partition, offset: entry.offset };
    });
  }

  // Group admin (the broker side arrives with consumer groups).

  /** Every group; `kind` is 'classic' or 'share' for those kinds, absent for consumer groups. */
  async listGroups(): Promise<Array<{ groupId: string; state: GroupState; members: number; kind?: 'classic' | 'share' }>> {
    const response = await this.client.request(ApiKey.ListGroups, {});
    return (response.header as unknown as ListGroupsResponse).groups ?? [];
  }

  /** Share groups (src/groups/README.md "Share groups"): members, per partition start offset / in flight / acquired / delivery counts, DLQ depth. */
  async describeShareGroups(options: { groupIds: string[] }): Promise<ShareGroupDescription[]> {
    const metadata = this.client.metadata;
    if (!metadata.known) await metadata.fetch([]);
    let groups: ShareGroupDescription[];
    if (!metadata.routed) {
      const response = await this.client.request(ApiKey.DescribeShareGroups, { groupIds: options.groupIds });
      groups = (response.header as unknown as DescribeShareGroupsResponse).groups ?? [];
    } else {
      // A cluster: every broker knows part of a share group (share-describe.ts).
      // A broker that does not answer (down) is left out: what it led has moved to another.
      const outcomes = await Promise.allSettled(
        [...metadata.brokers.keys()].map(async (nodeId) => {
          const response = await this.client.request(ApiKey.DescribeShareGroups, { groupIds: options.groupIds }, undefined, { connection: this.client.leaderConnection(nodeId) });
          return (response.header as unknown as DescribeShareGroupsResponse).groups ?? [];
        }),
      );
      const answers = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      if (answers.length === 0) throw (outcomes[0] as PromiseRejectedResult).reason;
      groups = mergeShareDescriptions(options.groupIds, answers);
    }
    return groups.map((group) => {
      throwItem(group.errorCode, group.errorMessage, `describe share group ${group.groupId}`);
      return group;
    });
  }

  async describeGroups(options: { groupIds: string[] }): Promise<GroupDescription[]> {
    const response = await this.client.request(ApiKey.DescribeGroups, { groupIds: options.groupIds });
    return ((response.header as unknown as DescribeGroupsResponse).groups ?? []).map((group) => {
      throwItem(group.errorCode, group.errorMessage, `describe group ${group.groupId}`);
      return group;
    });
  }

  async deleteGroups(options: { groupIds: string[] }): Promise<void> {
    const response = await this.client.request(ApiKey.DeleteGroups, { groupIds: options.groupIds });
    for (const group of (response.header as unknown as DeleteGroupsResponse).groups ?? []) {
      throwItem(group.errorCode, group.errorMessage, `delete group ${group.groupId}`);
    }
  }

  /** Sets a group's committed offsets of a topic, or a share group's start offsets (only while the group has no active members). */
  async resetOffsets(options: { groupId: string; topic: string; partitions?: number[]; to: OffsetTarget }): Promise<Array<{ topic: string; partition: number; offset: number }>> {
    const request: ResetOffsetsRequest = { groupId: options.groupId, topic: options.topic, to: resetTarget(options.to) };
    if (options.partitions !== undefined) request.partitions = options.partitions;
    const response = await this.client.request(ApiKey.ResetOffsets, request);
    return ((response.header as unknown as ResetOffsetsResponse).partitions ?? []).map((entry) => {
      throwItem(entry.errorCode, entry.errorMessage, `reset offsets of ${options.groupId} on ${entry.topic}/${entry.partition}`);
      return { topic: entry.topic, partition: entry.partition, offset: entry.offset };
    });
  }

  /** A group's committed offsets (offset -1 = none), for every partition or the given ones. */
  async fetchOffsets(options: { groupId: string; partitions?: Array<{ topic: string; partition: number }> }): Promise<Array<{ topic: string; partition: number; offset: number; metadata: string }>> {
    const response = await this.client.request(ApiKey.OffsetFetch, {
      groupId: options.groupId,
      ...(options.partitions ? { partitions: options.partitions } : {}),
    });
    return ((response.header as unknown as OffsetFetchResponse).offsets ?? []).map((entry) => {
      throwItem(entry.errorCode, entry.errorMessage, `offsets of ${options.groupId} on ${entry.topic}/${entry.partition}`);
      return { topic: entry.topic, partition: entry.partition, offset: entry.offset, metadata: entry.metadata };
    });
  }
}

/** `config` and kafkajs's `configEntries` as one config map; a name given twice with two values is an error. */
function topicConfig(spec: CreateTopicSpec, where = `createTopics() topic ${spec.topic}`): Record<string, string | number> | undefined {
  const replicationFactor = spec.replicationFactor;
  // The broker decides what it can place (a single broker: 1 only; INVALID_REPLICATION_FACTOR otherwise).
  if (replicationFactor !== undefined && replicationFactor !== -1 && !(Number.isSafeInteger(replicationFactor) && replicationFactor >= 1)) {
    throw new SpoolError(Errors.INVALID_REQUEST, `${where}: replicationFactor must be an integer >= 1 (or -1: the cluster's default), got ${String(replicationFactor)}`);
  }
  if (spec.configEntries === undefined) return spec.config;
  if (!Array.isArray(spec.configEntries)) throw new SpoolError(Errors.INVALID_REQUEST, `${where}: configEntries must be an array of { name, value }`);
  const config: Record<string, string | number> = { ...spec.config };
  for (const entry of spec.configEntries) {
    if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string' || (typeof entry.value !== 'string' && typeof entry.value !== 'number')) {
      throw new SpoolError(Errors.INVALID_REQUEST, `${where}: configEntries must be an array of { name: string, value: string | number }`);
    }
    const previous = config[entry.name];
    if (previous !== undefined && String(previous) !== String(entry.value)) {
      throw new SpoolError(Errors.INVALID_REQUEST, `${where}: ${entry.name} is given twice (${String(previous)} in config, ${String(entry.value)} in configEntries)`);
    }
    config[entry.name] = entry.value;
  }
  return config;
}

function resetTarget(to: OffsetTarget): ResetOffsetsRequest['to'] {
  if (to === 'earliest') return { kind: 'earliest' };
  if (to === 'latest') return { kind: 'latest' };
  if (typeof to === 'number' || typeof to === 'bigint' || typeof to === 'string') return { kind: 'offset', offset: requireOffset(to, 'resetOffsets') };
  if (to instanceof Date) return { kind: 'timestamp', timestamp: to.getTime() };
  if ('kind' in to) return to;
  if ('offset' in to) return { kind: 'offset', offset: requireOffset(to.offset, 'resetOffsets') };
  return { kind: 'timestamp', timestamp: requireTimestamp(to.timestamp, 'resetOffsets') };
}

function throwItem(errorCode: number, errorMessage: string | undefined, context: string): void {
  const error = errorFromCode(errorCode, errorMessage, context);
  if (error) throw error;
}
