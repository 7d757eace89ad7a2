// The native control-path APIs: ApiVersions, Metadata, CreateTopics, DeleteTopics,
// DescribeTopics, ListOffsets, AlterConfigs, CreatePartitions, DeleteRecords, DescribeCluster, over the core's admin functions (core/admin.ts). Per-item
// errors travel in the item; a SpoolError thrown out of a handler fails the whole request
// (dispatch.ts).

import { readFileSync } from 'node:fs';
import { ApiKey, SupportedVersions } from '../../protocol/apis.js';
import { errorFields } from '../../protocol/errors.js';
import type * as M from '../../protocol/messages.js';
import type { ShareGroupConfig } from '../../groups/share-groups.js';
import { topicConfigToRecord } from '../../storage/index.js';
import { Errors, SpoolError, isSpoolError } from '../../util/errors.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { NO_LEADER_ID } from '../core/cluster-metadata.js';
import { alterTopicConfig, createPartitions, createTopic, deleteRecords, deleteTopic, listOffset, topicsMetadata } from '../core/admin.js';
import { Operation, requireTopic } from '../core/authorize.js';
import { quoted } from '../logger.js';
import { mapInSlices, mapSequentially, thenMaybe } from '../slices.js';

export const BROKER_VERSION = readBrokerVersion();

function readBrokerVersion(): string {
  try {
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    // Safe: the version is informational (ApiVersions); a missing package.json changes nothing else.
    return '0.0.0';
  }
}

function ok(header: object): HandlerResponse {
  return { header: { errorCode: 0, ...header } };
}

/** Runs `fn`, turning a thrown error into the item's error fields (a non-SpoolError is logged as a bug). */
function itemErrors(ctx: BrokerContext, what: string, error: unknown): M.ErrorFields {
  if (!isSpoolError(error)) ctx.logger.error(`${what} failed with a bug`, error);
  return errorFields(error);
}

export function handleApiVersions(): HandlerResponse {
  const apis = Object.values(ApiKey).map((apiKey) => {
    const [minVersion, maxVersion] = SupportedVersions[apiKey];
    return { apiKey, minVersion, maxVersion };
  });
  return ok({ apis, brokerVersion: BROKER_VERSION } satisfies Omit<M.ApiVersionsResponse, 'errorCode'>);
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export function handleMetadata(ctx: BrokerContext, request: M.MetadataRequest, scope: RequestScope): HandlerResponse {
  const cluster = ctx.clusterMetadata;
  const brokers = cluster.brokers().map((broker) => {
    // Listening on every interface: tell the client the address it reached us on.
    const host = broker.nodeId === cluster.nodeId && WILDCARD_HOSTS.has(broker.host) && scope.localAddress ? scope.localAddress.replace(/^::ffff:/, '') : broker.host;
    return { nodeId: broker.nodeId, host, port: broker.port };
  });
  const topics = topicsMetadata(ctx, request.topics ?? null, scope.session).map((topic): M.TopicMetadata => {
    if (topic.error) return { ...errorFields(topic.error), name: topic.name, partitions: topic.partitions, internal: topic.internal };
    if (cluster.singleNode === true) return { errorCode: 0, name: topic.name, partitions: topic.partitions, internal: topic.internal };
    return { errorCode: 0, name: topic.name, partitions: topic.partitions, internal: topic.internal, partitionInfo: partitionInfoOf(ctx, topic.name, topic.partitions) };
  });
  // A single node answers as before clusters (no controller id, no partition leaders).
  return ok(cluster.singleNode === true ? { brokers, topics } : { brokers, controllerId: cluster.controllerId(), topics });
}

function partitionInfoOf(ctx: BrokerContext, topic: string, count: number): M.PartitionInfo[] {
  const info = new Array<M.PartitionInfo>(count);
  for (let partition = 0; partition < count; partition++) {
    const leadership = ctx.clusterMetadata.partition(topic, partition);
    info[partition] = leadership
      ? { partition, leader: leadership.leader, leaderEpoch: leadership.leaderEpoch, replicas: [...leadership.replicas], isr: [...leadership.isr] }
      : { partition, leader: NO_LEADER_ID, leaderEpoch: -1, replicas: [], isr: [] };
  }
  return info;
}

/** One topic at a time (slices.ts): creating one does synchronous file work (~5 ms). */
export async function handleCreateTopics(ctx: BrokerContext, request: M.CreateTopicsRequest, scope: RequestScope): Promise<HandlerResponse> {
  const topics = await mapSequentially(
    request.topics, async (entry): Promise<M.CreateTopicsResponse['topics'][number]> => {
      try {
        await createTopic(ctx, entry.name, entry.partitions, entry.config, scope.session, entry.replicationFactor);
        return { name: entry.name, errorCode: 0 };
      } catch (error) {
        return { name: entry.name, ...itemErrors(ctx, `creating topic ${quoted(entry.name)}`, error) };
      }
    },
  );
  return ok({ topics });
}

/** One topic at a time (slices.ts), like CreateTopics. */
export async function handleDeleteTopics(ctx: BrokerContext, request: M.DeleteTopicsRequest, scope: RequestScope): Promise<HandlerResponse> {
  const topics = await mapSequentially(
    request.names, async (name): Promise<M.DeleteTopicsResponse['topics'][number]> => {
      try {
        await deleteTopic(ctx, name, scope.session);
        return { name, errorCode: 0 };
      } catch (error) {
        return { name, ...itemErrors(ctx, `deleting topic ${quoted(name)}`, error) };
      }
    },
  );
  return ok({ topics });
}

/** Sliced (slices.ts): up to maxTopicsPerRequest names, or every topic of the broker. */
export function handleDescribeTopics(ctx: BrokerContext, request: M.DescribeTopicsRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse> {
  // Every topic: those the requester may Describe (topicsMetadata filters the listing).
  const names = request.names.length > 0 ? request.names : topicsMetadata(ctx, null, scope.session).map((t) => t.name);
  const topics = mapInSlices(names, (name): M.DescribeTopicsResponse['topics'][number] => {
    try {
      requireTopic(ctx, scope.session, Operation.Describe, name);
      const info = ctx.logs.getTopic(name);
      if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`);
      const partitions: M.PartitionDescription[] = [];
      for (let partition = 0; partition < info.partitions; partition++) {
        const log = ctx.logs.getPartition(name, partition);
        partitions.push({
          partition,
          logStartOffset: log.logStartOffset,
          logEndOffset: log.logEndOffset,
          sizeBytes: log.sizeBytes,
          segments: log.segmentCount,
        });
      }
      return { errorCode: 0, name, config: topicConfigToRecord(info.config), partitions };
    } catch (error) {
      return { name, config: {}, partitions: [], ...itemErrors(ctx, `describing topic ${quoted(name)}`, error) };
    }
  });
  return thenMaybe(topics, (done) => ok({ topics: done }));
}

/** Sliced (slices.ts): a timestamp lookup decodes a batch, ~0.1 ms each. */
export function handleListOffsets(ctx: BrokerContext, request: M.ListOffsetsRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse> {
  const partitions = mapInSlices(request.partitions, (entry): M.ListOffsetsResponse['partitions'][number] => {
    const { topic, partition, timestamp } = entry;
    try {
      return { errorCode: 0, topic, partition, ...listOffset(ctx, topic, partition, timestamp, scope.session) };
    } catch (error) {
      return { topic, partition, offset: -1, timestamp: -1, ...itemErrors(ctx, `listing offsets of ${quoted(topic)} partition ${partition}`, error) };
    }
  });
  return thenMaybe(partitions, (done) => ok({ partitions: done }));
}

/** One topic at a time (slices.ts): each rewrites the topic's metadata file. */
export async function handleAlterConfigs(ctx: BrokerContext, request: M.AlterConfigsRequest, scope: RequestScope): Promise<HandlerResponse> {
  const topics = await mapSequentially(request.topics, async (entry): Promise<M.AlterConfigsResponse['topics'][number]> => {
    try {
      await alterTopicConfig(ctx, entry.name, entry.config, scope.session);
      return { name: entry.name, errorCode: 0 };
    } catch (error) {
      return { name: entry.name, ...itemErrors(ctx, `altering the config of topic ${quoted(entry.name)}`, error) };
    }
  });
  if (request.groups === undefined) return ok({ topics });
  const groups = await mapSequentially(request.groups, async (entry): Promise<NonNullable<M.AlterConfigsResponse['groups']>[number]> => {
    try {
      await ctx.coordinator.shares.configure(entry.name, shareGroupConfig(entry.config));
      return { name: entry.name, errorCode: 0 };
    } catch (error) {
      return { name: entry.name, ...itemErrors(ctx, `altering the config of group ${quoted(entry.name)}`, error) };
    }
  });
  return ok({ topics, groups });
}

/** A share group's config from Kafka's names (src/groups/README.md "Per-group config"). */
function shareGroupConfig(config: Record<string, string | number>): ShareGroupConfig {
  const result: ShareGroupConfig = {};
  for (const [name, value] of Object.entries(config)) {
    const number = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number)) throw new SpoolError(Errors.INVALID_CONFIG, `group config ${name} must be an integer, got '${value}'`);
    if (name === 'share.record.lock.duration.ms') result.lockDurationMs = number;
    else if (name === 'share.delivery.count.limit') result.deliveryLimit = number;
    else throw new SpoolError(Errors.INVALID_CONFIG, `unknown group config ${name} (share.record.lock.duration.ms, share.delivery.count.limit)`);
  }
  return result;
}

/** One topic at a time (slices.ts): adding partitions does file work like CreateTopics. */
export async function handleCreatePartitions(ctx: BrokerContext, request: M.CreatePartitionsRequest, scope: RequestScope): Promise<HandlerResponse> {
  const topics = await mapSequentially(request.topics, async (entry): Promise<M.CreatePartitionsResponse['topics'][number]> => {
    try {
      await createPartitions(ctx, entry.name, entry.count, false, scope.session);
      return { name: entry.name, errorCode: 0 };
    } catch (error) {
      return { name: entry.name, ...itemErrors(ctx, `adding partitions to topic ${quoted(entry.name)}`, error) };
    }
  });
  return ok({ topics });
}

/** Sliced (slices.ts): each partition writes a checkpoint and may delete segment files. */
export function handleDeleteRecords(ctx: BrokerContext, request: M.DeleteRecordsRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse> {
  const partitions = mapInSlices(request.partitions, (entry): M.DeleteRecordsResponse['partitions'][number] => {
    const { topic, partition, offset } = entry;
    try {
      return { errorCode: 0, topic, partition, lowWatermark: deleteRecords(ctx, topic, partition, offset, scope.session) };
    } catch (error) {
      return { topic, partition, lowWatermark: -1, ...itemErrors(ctx, `deleting records of ${quoted(topic)} partition ${partition}`, error) };
    }
  });
  return thenMaybe(partitions, (done) => ok({ partitions: done }));
}

export async function handleDescribeCluster(ctx: BrokerContext, scope: RequestScope): Promise<HandlerResponse> {
  const metadata = handleMetadata(ctx, { topics: [] }, scope).header as unknown as M.MetadataResponse;
  const topics = ctx.logs.listTopics().filter((info) => !info.internal);
  const groups = await ctx.coordinator.listGroups();
  return ok({
    brokers: metadata.brokers,
    brokerVersion: BROKER_VERSION,
    topics: topics.length,
    partitions: topics.reduce((sum, info) => sum + info.partitions, 0),
    groups: groups.groups.length,
  } satisfies Omit<M.DescribeClusterResponse, 'errorCode'>);
}
