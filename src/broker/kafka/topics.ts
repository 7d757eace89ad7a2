// Kafka CreateTopics, DeleteTopics, DescribeConfigs and CreatePartitions over the core's
// topic admin (core/admin.ts) and storage. One broker: a replication factor other than 1
// (or -1, "the broker default") is INVALID_REPLICATION_FACTOR, and explicit replica
// assignments may name only broker 0. Topics are handled one at a time, yielding between
// them (slices.ts): creating a topic does synchronous file work.

import {
  KafkaErrors,
  ZERO_UUID,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  type DescribeConfigsResult,
} from '../../kafka/index.js';
import { RequestLimits } from '../../protocol/validate.js';
import { parseTopicConfig, topicConfigToRecord } from '../../storage/index.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import { createPartitions, createTopic, deleteTopic } from '../core/admin.js';
import { mapSequentially } from '../slices.js';
import { Operation, requireCluster, requireCreateTopic, requireTopic } from '../core/authorize.js';
import { answer, itemError, type KafkaAnswer, type KafkaScope } from './answer.js';
import { NODE_ID } from './metadata.js';

/** DescribeConfigs resource types. */
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
/** DescribeConfigs config sources. */
const SOURCE_DYNAMIC_TOPIC = 1;

function limitError(what: string, limit: number): SpoolError {
  return new SpoolError(Errors.INVALID_REQUEST, `a request may name at most ${limit} ${what}`);
}

/** The partitions a CreateTopics entry asks for (explicit assignments, numPartitions, or the broker default for -1). */
function requestedPartitions(ctx: BrokerContext, topic: CreateTopicsRequest['topics'][number]): number {
  return topic.assignments.length > 0 ? topic.assignments.length : topic.numPartitions === -1 ? ctx.options.defaultPartitions : topic.numPartitions;
}

/**
 * Names given more than once in one request. As in Kafka, every mention of such a topic in
 * CreateTopics or CreatePartitions is answered INVALID_REQUEST and none is acted on (acting
 * on one would make the answer depend on which mention came first).
 */
function duplicatesOf(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const name of names) (seen.has(name) ? duplicates : seen).add(name);
  return duplicates;
}

function duplicateError(name: string): SpoolError {
  return new SpoolError(Errors.INVALID_REQUEST, `topic '${name}' is named more than once in this request`);
}

export async function handleCreateTopics(ctx: BrokerContext, request: CreateTopicsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const tooMany = request.topics.length > RequestLimits.maxTopicsPerRequest;
  // As the native front (validate.ts): all topics' partitions together, counts below 1 left to the topic's own error.
  const partitionsToCreate = request.topics.reduce((sum, topic) => sum + Math.max(0, requestedPartitions(ctx, topic)), 0);
  const tooManyPartitions = partitionsToCreate > RequestLimits.maxPartitionsPerCreateTopics;
  const duplicates = duplicatesOf(request.topics.map((topic) => topic.name));
  const topics = await mapSequentially(request.topics, async (topic) => {
    const base = { name: topic.name, topicId: ZERO_UUID, numPartitions: -1, replicationFactor: -1, configs: [] as never[] };
    try {
      if (tooMany) throw limitError('topics', RequestLimits.maxTopicsPerRequest);
      if (tooManyPartitions) {
        throw new SpoolError(
          Errors.INVALID_REQUEST,
          `a CreateTopics may create at most ${RequestLimits.maxPartitionsPerCreateTopics} partitions, all topics together; this one asks for ${partitionsToCreate} (maxPartitionsPerCreateTopics)`,
        );
      }
      if (duplicates.has(topic.name)) throw duplicateError(topic.name);
      if (!ctx.clusterAdmin && topic.replicationFactor !== -1 && topic.replicationFactor !== 1) {
        return { ...base, errorCode: KafkaErrors.INVALID_REPLICATION_FACTOR, errorMessage: `replication factor ${topic.replicationFactor}: this cluster has one broker` };
      }
      if (topic.assignments.some((assignment) => assignment.brokerIds.some((id) => id !== NODE_ID))) {
        return { ...base, errorCode: KafkaErrors.INVALID_REPLICA_ASSIGNMENT, errorMessage: `replicas may only be on broker ${NODE_ID}` };
      }
      const partitions = requestedPartitions(ctx, topic);
      const config: Record<string, string> = {};
      for (const entry of topic.configs) if (entry.value !== null) config[entry.name] = entry.value;
      if (request.validateOnly) {
        requireCreateTopic(ctx, scope.session, topic.name);
        if (ctx.logs.getTopic(topic.name)) throw new SpoolError(Errors.TOPIC_ALREADY_EXISTS, `topic '${topic.name}' already exists`);
        parseTopicConfig(config);
      } else {
        await createTopic(ctx, topic.name, partitions, config, scope.session, topic.replicationFactor);
      }
      return { ...base, errorCode: KafkaErrors.NONE, errorMessage: null, numPartitions: partitions, replicationFactor: ctx.clusterAdmin ? topic.replicationFactor : 1 };
    } catch (error) {
      return { ...base, ...itemError(ctx, 'topics', error) };
    }
  });
  return answer({ throttleTimeMs: 0, topics } satisfies CreateTopicsResponse);
}

export async function handleDeleteTopics(ctx: BrokerContext, request: DeleteTopicsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  // v0-5 name topics in topicNames; v6 in topics (by name; topic ids are not kept).
  const names: Array<string | null> = scope.apiVersion >= 6 ? request.topics.map((topic) => topic.name) : request.topicNames;
  const tooMany = names.length > RequestLimits.maxTopicsPerRequest;
  const responses = await mapSequentially(names, async (name) => {
    try {
      if (tooMany) throw limitError('topics', RequestLimits.maxTopicsPerRequest);
      if (name === null) throw new SpoolError(Errors.UNKNOWN_TOPIC, 'topics are deleted by name: topic ids are not kept');
      await deleteTopic(ctx, name, scope.session);
      return { name, topicId: ZERO_UUID, errorCode: KafkaErrors.NONE, errorMessage: null };
    } catch (error) {
      return { name, topicId: ZERO_UUID, ...itemError(ctx, 'topics', error) };
    }
  });
  return answer({ throttleTimeMs: 0, responses } satisfies DeleteTopicsResponse);
}

export function handleDescribeConfigs(ctx: BrokerContext, request: DescribeConfigsRequest, scope: KafkaScope): KafkaAnswer {
  const tooMany = request.resources.length > RequestLimits.maxTopicsPerRequest;
  const results = request.resources.map((resource): DescribeConfigsResult => {
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] };
    try {
      if (tooMany) throw limitError('resources', RequestLimits.maxTopicsPerRequest);
      if (resource.resourceType === RESOURCE_BROKER) {
        requireCluster(ctx, scope.session, Operation.DescribeConfigs);
        return { ...base, errorCode: KafkaErrors.NONE, errorMessage: null };
      }
      if (resource.resourceType !== RESOURCE_TOPIC) throw new SpoolError(Errors.INVALID_REQUEST, `resource type ${resource.resourceType} is not served (topics: 2, brokers: 4)`);
      requireTopic(ctx, scope.session, Operation.DescribeConfigs, resource.resourceName);
      const info = ctx.logs.getTopic(resource.resourceName);
      if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${resource.resourceName}' does not exist`);
      const wanted = resource.configurationKeys === null ? null : new Set(resource.configurationKeys);
      const configs = Object.entries(topicConfigToRecord(info.config))
        .filter(([name]) => wanted === null || wanted.has(name))
        .map(([name, value]) => ({
          name,
          value: String(value),
          readOnly: false,
          isDefault: false,
          configSource: SOURCE_DYNAMIC_TOPIC,
          isSensitive: false,
          synonyms: [],
          configType: 0,
          documentation: null,
        }));
      return { ...base, errorCode: KafkaErrors.NONE, errorMessage: null, configs };
    } catch (error) {
      return { ...base, ...itemError(ctx, 'topics', error) };
    }
  });
  return answer({ throttleTimeMs: 0, results } satisfies DescribeConfigsResponse);
}

export async function handleCreatePartitions(ctx: BrokerContext, request: CreatePartitionsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const tooMany = request.topics.length > RequestLimits.maxTopicsPerRequest;
  const duplicates = duplicatesOf(request.topics.map((topic) => topic.name));
  const results = await mapSequentially(request.topics, async (topic) => {
    try {
      if (tooMany) throw limitError('topics', RequestLimits.maxTopicsPerRequest);
      if (duplicates.has(topic.name)) throw duplicateError(topic.name);
      if (topic.assignments?.some((assignment) => assignment.brokerIds.some((id) => id !== NODE_ID))) {
        return { name: topic.name, errorCode: KafkaErrors.INVALID_REPLICA_ASSIGNMENT, errorMessage: `replicas may only be on broker ${NODE_ID}` };
      }
      await createPartitions(ctx, topic.name, topic.count, request.validateOnly, scope.session);
      return { name: topic.name, errorCode: KafkaErrors.NONE, errorMessage: null };
    } catch (error) {
      return { name: topic.name, ...itemError(ctx, 'topics', error) };
    }
  });
  return answer({ throttleTimeMs: 0, results } satisfies CreatePartitionsResponse);
}
