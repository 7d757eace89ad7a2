// The control path, protocol-neutral: topic metadata, topic creation and deletion, and
// offset lookups (earliest, latest, by time). Fronts call these per item and put a thrown
// SpoolError into the item's answer.

import { parseTopicConfig, topicConfigToRecord } from '../../storage/index.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';

export interface TopicMetadata {
  name: string;
  /** Null when the topic exists. */
  error: SpoolError | null;
  partitions: number;
  internal: boolean;
}

/** The named topics (an unknown one carries UNKNOWN_TOPIC), or every non-internal topic for null. */
export function topicsMetadata(ctx: BrokerContext, names: readonly string[] | null): TopicMetadata[] {
  const clusterTopics = ctx.clusterMetadata.topics?.();
  if (clusterTopics !== undefined) return clusterTopicsMetadata(ctx, clusterTopics, names);
  if (names === null) {
    return ctx.logs
      .listTopics()
      .filter((info) => !info.internal)
      .map((info) => ({ name: info.name, error: null, partitions: info.partitions, internal: false }));
  }
  return names.map((name) => {
    const info = ctx.logs.getTopic(name);
    if (!info) return { name, error: new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`), partitions: 0, internal: false };
    return { name, error: null, partitions: info.partitions, internal: info.internal };
  });
}

/** A cluster's topics come from the cluster state: a broker with no replica of a topic still names it. */
function clusterTopicsMetadata(ctx: BrokerContext, topics: ReadonlyMap<string, number>, names: readonly string[] | null): TopicMetadata[] {
  const internal = (name: string): boolean => ctx.logs.getTopic(name)?.internal ?? name.startsWith('__');
  if (names === null) {
    const listed: TopicMetadata[] = [];
    for (const [name, partitions] of topics) if (!internal(name)) listed.push({ name, error: null, partitions, internal: false });
    return listed;
  }
  return names.map((name) => {
    const partitions = topics.get(name);
    if (partitions === undefined) {
      // An internal topic this broker keeps for itself (not placed through etcd).
      const local = ctx.logs.getTopic(name);
      if (local?.internal) return { name, error: null, partitions: local.partitions, internal: true };
      return { name, error: new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`), partitions: 0, internal: false };
    }
    return { name, error: null, partitions, internal: internal(name) };
  });
}

/** Creates a topic; `config` is the string map of topic configs (storage parses it). */
export async function createTopic(ctx: BrokerContext, name: string, partitions: number, config?: Record<string, string | number>, replicationFactor?: number): Promise<void> {
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
export function topicConfigRecord(ctx: BrokerContext, name: string): Record<string, string | number> {
  const info = ctx.logs.getTopic(name);
  if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`);
  return topicConfigToRecord(info.config);
}

/**
 * Grows a topic to `count` partitions (never shrinks): INVALID_PARTITIONS unless `count` is
 * greater than now. With `validateOnly`, every check runs and nothing changes.
 */
export async function createPartitions(ctx: BrokerContext, name: string, count: number, validateOnly = false): Promise<void> {
  const info = ctx.logs.getTopic(name);
  if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`);
  if (info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${name}' is internal`);
  if (count <= info.partitions) {
    throw new SpoolError(Errors.INVALID_PARTITIONS, `topic '${name}' has ${info.partitions} partitions; the new count must be greater, got ${count}`);
  }
  if (!validateOnly) await ctx.logs.createPartitions(name, count);
}

/** Sets some of a topic's configs by their Kafka names (storage parses and validates them as on create). */
export async function alterTopicConfig(ctx: BrokerContext, name: string, config: Record<string, string | number>): Promise<void> {
  if (ctx.logs.getTopic(name)?.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${name}' is internal`);
  await ctx.logs.alterTopicConfig(name, parseTopicConfig(config));
}

export async function deleteTopic(ctx: BrokerContext, name: string): Promise<void> {
  if (ctx.logs.getTopic(name)?.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${name}' is internal and cannot be deleted`);
  await ctx.logs.deleteTopic(name);
  ctx.waiters.notifyTopic(name);
}

/** The DeleteRecords offset that means "up to the log end". */
export const DELETE_TO_END = -1;

/** Moves a partition's log start offset up to `offset` (-1: the log end); returns the new log start offset. */
export function deleteRecords(ctx: BrokerContext, topic: string, partition: number, offset: number): number {
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
export function listOffset(ctx: BrokerContext, topic: string, partition: number, timestamp: number): OffsetAnswer {
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
