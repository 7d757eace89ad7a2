// The control path, protocol-neutral: topic metadata, topic creation and deletion, and
// offset lookups (earliest, latest, by time). Fronts call these per item and put a thrown
// SpoolError into the item's answer.
//
// Authorisation: each function takes the requester (`who`, the connection's Session) and
// checks its ACLs first (core/authorize.ts); a denied item throws the named
// *_AUTHORIZATION_FAILED error before anything changes (the admin HTTP port's console API
// passes its request's principal too). Callers without a requester (the broker itself,
// tests) are trusted and pass none.

import { parseTopicConfig, topicConfigToRecord } from '../../storage/index.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { Principal } from '../../security/authorizer.js';
import type { BrokerContext } from '../context.js';
import { authorizationOn, mayTopic, Operation, requireCreateTopic, requireTopic, topicDenied } from './authorize.js';

export interface TopicMetadata {
  name: string;
  /** Null when the topic exists. */
  error: SpoolError | null;
  partitions: number;
  internal: boolean;
}

/**
 * The named topics (an unknown one carries UNKNOWN_TOPIC), or every non-internal topic for
 * null. A topic `who` may not Describe is left out of the listing, and a named one carries
 * TOPIC_AUTHORIZATION_FAILED whether it exists or not (its existence is not told). In a
 * cluster the topics come from the cluster state: a broker with no replica of a topic still
 * names it.
 */
export function topicsMetadata(ctx: BrokerContext, names: readonly string[] | null, who?: Principal): TopicMetadata[] {
  const check = who !== undefined && authorizationOn(ctx);
  const clusterTopics = ctx.clusterMetadata.topics?.();
  if (names === null) {
    const listed = clusterTopics !== undefined ? clusterListing(ctx, clusterTopics) : localListing(ctx);
    return check ? listed.filter((topic) => mayTopic(ctx, who, Operation.Describe, topic.name)) : listed;
  }
  return names.map((name) => {
    if (check && !mayTopic(ctx, who, Operation.Describe, name)) return { name, error: topicDenied(who, Operation.Describe, name), partitions: 0, internal: false };
    return clusterTopics !== undefined ? clusterTopic(ctx, clusterTopics, name) : localTopic(ctx, name);
  });
}

function localListing(ctx: BrokerContext): TopicMetadata[] {
  return ctx.logs
    .listTopics()
    .filter((info) => !info.internal)
    .map((info) => ({ name: info.name, error: null, partitions: info.partitions, internal: false }));
}

function localTopic(ctx: BrokerContext, name: string): TopicMetadata {
  const info = ctx.logs.getTopic(name);
  if (!info) return { name, error: new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`), partitions: 0, internal: false };
  return { name, error: null, partitions: info.partitions, internal: info.internal };
}

function clusterListing(ctx: BrokerContext, topics: ReadonlyMap<string, number>): TopicMetadata[] {
  const listed: TopicMetadata[] = [];
  for (const [name, partitions] of topics) if (!isInternal(ctx, name)) listed.push({ name, error: null, partitions, internal: false });
  return listed;
}

function clusterTopic(ctx: BrokerContext, topics: ReadonlyMap<string, number>, name: string): TopicMetadata {
  const partitions = topics.get(name);
  if (partitions !== undefined) return { name, error: null, partitions, internal: isInternal(ctx, name) };
  // An internal topic this broker keeps for itself (not placed through etcd).
  const local = ctx.logs.getTopic(name);
  if (local?.internal) return { name, error: null, partitions: local.partitions, internal: true };
  return { name, error: new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`), partitions: 0, internal: false };
}

function isInternal(ctx: BrokerContext, name: string): boolean {
  return ctx.logs.getTopic(name)?.internal ?? name.startsWith('__');
}

/** Creates a topic; `config` is the string map of topic configs (storage parses it). */
export async function createTopic(ctx: BrokerContext, name: string, partitions: number, config?: Record<string, string | number>, who?: Principal, replicationFactor?: number): Promise<void> {
  if (who !== undefined) requireCreateTopic(ctx, who, name);
  if (name.startsWith('__')) throw new SpoolError(Errors.INVALID_TOPIC, `topic names starting with '__' are reserved for internal topics`);
  // A cluster: the controller places it (replication factor absent or -1: the default).
  if (ctx.clusterAdmin) {
    await ctx.clusterAdmin.createTopic(name, partitions, { ...(replicationFactor !== undefined && replicationFactor !== -1 ? { replicationFactor } : {}), ...(config ? { config } : {}) });
    return;
  }
  if (replicationFactor !== undefined && replicationFactor !== -1 && replicationFactor !== 1) {
    throw new SpoolError(Errors.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor}: this broker is not in a cluster`);
  }
  const parsed = config === undefined ? undefined : parseTopicConfig(config);
  await ctx.logs.createTopic(name, partitions, parsed);
}

/** A topic's effective configs by their Kafka names (retention.ms...); throws UNKNOWN_TOPIC. */
export function topicConfigRecord(ctx: BrokerContext, name: string, who?: Principal): Record<string, string | number> {
  if (who !== undefined) requireTopic(ctx, who, Operation.DescribeConfigs, name);
  const info = ctx.logs.getTopic(name);
  if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`);
  return topicConfigToRecord(info.config);
}

/**
 * Grows a topic to `count` partitions (never shrinks): INVALID_PARTITIONS unless `count` is
 * greater than now. With `validateOnly`, every check runs and nothing changes.
 */
export async function createPartitions(ctx: BrokerContext, name: string, count: number, validateOnly = false, who?: Principal): Promise<void> {
  if (who !== undefined) requireTopic(ctx, who, Operation.Alter, name);
  if (ctx.clusterAdmin && !name.startsWith('__')) return ctx.clusterAdmin.createPartitions(name, count, validateOnly);
  const info = ctx.logs.getTopic(name);
  if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`);
  if (info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${name}' is internal`);
  if (count <= info.partitions) {
    throw new SpoolError(Errors.INVALID_PARTITIONS, `topic '${name}' has ${info.partitions} partitions; the new count must be greater, got ${count}`);
  }
  if (!validateOnly) await ctx.logs.createPartitions(name, count);
}

/** Sets some of a topic's configs by their Kafka names (storage parses and validates them as on create). */
export async function alterTopicConfig(ctx: BrokerContext, name: string, config: Record<string, string | number>, who?: Principal): Promise<void> {
  if (who !== undefined) requireTopic(ctx, who, Operation.AlterConfigs, name);
  if (ctx.logs.getTopic(name)?.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${name}' is internal`);
  if (ctx.clusterAdmin && !name.startsWith('__')) return ctx.clusterAdmin.alterTopicConfig(name, config);
  await ctx.logs.alterTopicConfig(name, parseTopicConfig(config));
}

export async function deleteTopic(ctx: BrokerContext, name: string, who?: Principal): Promise<void> {
  if (who !== undefined) requireTopic(ctx, who, Operation.Delete, name);
  if (ctx.logs.getTopic(name)?.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${name}' is internal and cannot be deleted`);
  // A cluster: every broker with a replica deletes its log when the topic leaves etcd.
  if (ctx.clusterAdmin && !name.startsWith('__')) await ctx.clusterAdmin.deleteTopic(name);
  else await ctx.logs.deleteTopic(name);
  ctx.waiters.notifyTopic(name);
}

/** The DeleteRecords offset that means "up to the log end". */
export const DELETE_TO_END = -1;

/** Moves a partition's log start offset up to `offset` (-1: the log end); returns the new log start offset. */
export function deleteRecords(ctx: BrokerContext, topic: string, partition: number, offset: number, who?: Principal): number {
  if (who !== undefined) requireTopic(ctx, who, Operation.Delete, topic);
  if (ctx.logs.getTopic(topic)?.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${topic}' is internal`);
  const log = ctx.logs.getPartition(topic, partition);
  return log.deleteRecordsBefore(offset === DELETE_TO_END ? log.highWatermark : offset);
}

/** The two special timestamps of an offset lookup (the same numbers on both wires). */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface OffsetAnswer {
  offset: number;
  /** The found record's timestamp for a time lookup; -1 otherwise. */
  timestamp: number;
}

/** -1 latest (log end), -2 earliest (log start), otherwise the first offset with a timestamp >= it (log end if none). */
export function listOffset(ctx: BrokerContext, topic: string, partition: number, timestamp: number, who?: Principal): OffsetAnswer {
  if (who !== undefined) requireTopic(ctx, who, Operation.Describe, topic);
  const log = ctx.logs.getPartition(topic, partition);
  // 'latest' is the high watermark: what a consumer can read (the log end on a single node).
  const highWatermark = log.highWatermark;
  if (timestamp === LATEST_TIMESTAMP) return { offset: highWatermark, timestamp: -1 };
  if (timestamp === EARLIEST_TIMESTAMP) return { offset: log.logStartOffset, timestamp: -1 };
  if (timestamp < 0) throw new SpoolError(Errors.INVALID_TIMESTAMP, `timestamp ${timestamp} is neither -1, -2 nor a time`);
  const offset = log.offsetForTimestamp(timestamp);
  if (offset === null || offset >= highWatermark) return { offset: highWatermark, timestamp: -1 };
  return { offset, timestamp };
}
