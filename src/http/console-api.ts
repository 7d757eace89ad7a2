// The web console's JSON API under /api/, on the admin HTTP port. Every route calls the
// same broker core the native and Kafka fronts call (broker/core/admin.ts, the group
// coordinator, storage reads): topic create/delete go through core createTopic/deleteTopic
// (same name, partition and config validation and errors as `spool topic create`), a
// group reset through GroupCoordinator.resetOffsets (with dryRun for the preview). This
// file only turns JSON into those calls and their results (or SpoolErrors) into JSON.
// The shapes are in console-types.ts, shared with the console's browser code.
//
// Authorisation: every route runs as the request's principal (`who`: the HTTP Basic user
// with SASL on, else a TLS client certificate's subject, else User:ANONYMOUS) and asks the
// same ACL checks as the native and Kafka fronts for the same work (table in README.md
// "Authorisation"): the core functions that take a requester get it, the rest is checked
// here before anything is read or changed. Listings leave out what `who` may not Describe
// (as Metadata and ListGroups do); a named topic or group it may not use answers 403
// whether it exists or not. With authorisation off every check passes.

import type { IncomingMessage } from 'node:http';
import {
  alterTopicConfig,
  browseMessages,
  createPartitions,
  createTopic,
  deleteTopic,
  describeShareGroup,
  listOffset,
  listShareGroupIds,
  mayTopic,
  Operation,
  produceTestMessage,
  requireGroup,
  requireTopic,
  topicConfigRecord,
  visibleGroups,
  visibleTopicEntries,
  type Broker,
  type BrokerContext,
  type Principal,
  type ShareGroupView,
} from '../broker/index.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import type * as T from './console-types.js';

/** A request body larger than this is refused (the API's bodies are a few hundred bytes). */
export const MAX_API_BODY_BYTES = 64 * 1024;
/** A key or value longer than this is cut in the messages page (`truncated: true`). */
export const MAX_SHOWN_VALUE_BYTES = 64 * 1024;

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ApiRequest {
  method: string;
  /** The path after /api (e.g. "/topics/orders"). */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body for POST; undefined otherwise. */
  body: unknown;
}

/** Answers one API request as `who`; `broker` is null while the broker opens (503). */
export async function handleApi(broker: Broker | null, listeners: string[], request: ApiRequest, who: Principal): Promise<ApiAnswer> {
  if (broker === null) return { status: 503, body: { error: { name: 'NOT_READY', code: -1, message: 'the broker is still opening' } } };
  const ctx = broker.context;
  const parts = request.path.split('/').filter((part) => part !== '').map(decodeURIComponent);
  try {
    const body = await route(ctx, listeners, request, parts, who);
    if (body === undefined) return { status: 404, body: { error: { name: 'NOT_FOUND', code: -1, message: `no API ${request.method} /api${request.path}` } } };
    return { status: request.method === 'POST' && parts.length === 1 ? 201 : 200, body };
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    return failure(statusOf(error), error);
  }
}

async function route(ctx: BrokerContext, listeners: string[], request: ApiRequest, parts: string[], who: Principal): Promise<unknown> {
  const [collection, name, sub] = parts;
  const { method } = request;
  if (collection === 'overview' && parts.length === 1 && method === 'GET') return overview(ctx, listeners, who);
  if (collection === 'topics') {
    if (name === undefined && method === 'GET') return { topics: visibleTopicNames(ctx, who).map((topic) => topicSummary(ctx, topic)) };
    if (name === undefined && method === 'POST') return createTopicFrom(ctx, request.body, who);
    if (name !== undefined && sub === undefined && method === 'GET') return topicDetail(ctx, name, who);
    if (name !== undefined && sub === undefined && method === 'DELETE') {
      await deleteTopic(ctx, name, who);
      return { deleted: name };
    }
    if (name !== undefined && sub === 'messages' && method === 'GET') return messages(ctx, name, request.query, who);
    if (name !== undefined && sub === 'partitions' && method === 'POST') return addPartitions(ctx, name, request.body, who);
    if (name !== undefined && sub === 'config' && method === 'POST') return alterConfigFrom(ctx, name, request.body, who);
    if (name !== undefined && sub === 'messages' && method === 'POST') return produceFrom(ctx, name, request.body, who);
    if (name !== undefined && sub === 'offsets' && method === 'GET') {
      // The same lookup as ListOffsets (Describe on the topic): -1 latest, -2 earliest, else the first offset at or after the time.
      return listOffset(ctx, name, integerParam(request.query, 'partition', 0), integerParam(request.query, 'timestamp', -1), who);
    }
  }
  if (collection === 'groups') {
    // Share groups have their own page (share-groups below).
    if (name === undefined && method === 'GET') {
      const listed = await ctx.coordinator.listGroups();
      return { ...listed, groups: visibleGroups(ctx, who, listed.groups.filter((group) => group.kind !== 'share')) };
    }
    if (name !== undefined && sub === undefined && method === 'GET') return describeGroup(ctx, name, who);
    if (name !== undefined && sub === 'reset' && method === 'POST') return resetGroup(ctx, name, request.body, who);
  }
  if (collection === 'share-groups' && method === 'GET') {
    if (name === undefined) return { groups: visibleGroups(ctx, who, listShareGroupIds(ctx).map((groupId) => ({ groupId }))).map(({ groupId }) => shareGroupListing(ctx, groupId)) };
    if (sub === undefined) return shareGroupDetail(ctx, name, who);
  }
  return undefined;
}

/** The non-internal topics `who` may Describe (Metadata's listing). */
function visibleTopicNames(ctx: BrokerContext, who: Principal): string[] {
  return ctx.logs
    .listTopics()
    .filter((topic) => !topic.internal && mayTopic(ctx, who, Operation.Describe, topic.name))
    .map((topic) => topic.name);
}

function shareGroupOf(ctx: BrokerContext, groupId: string): ShareGroupView {
  const group = describeShareGroup(ctx, groupId);
  if (group === undefined) throw new SpoolError(Errors.GROUP_ID_NOT_FOUND, `share group ${groupId} does not exist`);
  return group;
}

function shareGroupListing(ctx: BrokerContext, groupId: string): T.ShareGroupListing {
  const group = shareGroupOf(ctx, groupId);
  const inFlight = group.partitions.reduce((sum, p) => sum + p.inFlight, 0);
  return { groupId, members: group.members.length, partitions: group.partitions.length, inFlight, deadLetterTopic: group.deadLetterTopic, deadLetters: group.deadLetters };
}

/** DescribeShareGroups: Describe on the group; share-partitions of topics `who` may not Describe are left out. */
function shareGroupDetail(ctx: BrokerContext, groupId: string, who: Principal): T.ShareGroupDetail {
  requireGroup(ctx, who, Operation.Describe, groupId);
  const group = shareGroupOf(ctx, groupId);
  const partitions = visibleTopicEntries(ctx, who, group.partitions).map((p) => {
    // A share-partition can outlive its topic (deleted since): its log end is then unknown (-1).
    const logEndOffset = ctx.logs.getTopic(p.topic) === undefined ? -1 : ctx.logs.getPartition(p.topic, p.partition).logEndOffset;
    return { ...p, logEndOffset };
  });
  partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return {
    groupId,
    members: group.members,
    deadLetterTopic: group.deadLetterTopic,
    deadLetters: group.deadLetters,
    deadLetterTopicExists: ctx.logs.getTopic(group.deadLetterTopic) !== undefined,
    partitions,
  };
}

/** The totals over what `who` may Describe (topics as Metadata lists them, groups as ListGroups). */
async function overview(ctx: BrokerContext, listeners: string[], who: Principal): Promise<T.Overview> {
  const topics = visibleTopicNames(ctx, who).map((topic) => topicSummary(ctx, topic));
  const sum = (pick: (topic: T.TopicSummary) => number): number => topics.reduce((total, topic) => total + pick(topic), 0);
  return {
    brokers: [{ nodeId: 0, host: ctx.advertised.host, port: ctx.advertised.port, listeners, dataDir: ctx.logs.dataDir }],
    topics: topics.length,
    partitions: sum((t) => t.partitions),
    sizeBytes: sum((t) => t.sizeBytes),
    messages: sum((t) => t.messages),
    groups: visibleGroups(ctx, who, (await ctx.coordinator.listGroups()).groups).length,
    nowMs: Date.now(),
  };
}

function partitionsOf(ctx: BrokerContext, name: string): T.PartitionDetail[] {
  const info = ctx.logs.getTopic(name);
  if (info === undefined) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${name}' does not exist`);
  const partitions: T.PartitionDetail[] = [];
  for (let partition = 0; partition < info.partitions; partition++) {
    const log = ctx.logs.getPartition(name, partition);
    partitions.push({ partition, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, sizeBytes: log.sizeBytes, segments: log.segmentCount });
  }
  return partitions;
}

function topicSummary(ctx: BrokerContext, name: string): T.TopicSummary {
  const partitions = partitionsOf(ctx, name);
  return {
    name,
    partitions: partitions.length,
    sizeBytes: partitions.reduce((total, p) => total + p.sizeBytes, 0),
    messages: partitions.reduce((total, p) => total + (p.logEndOffset - p.logStartOffset), 0),
  };
}

/**
 * Describe on the topic (Metadata); its configs only with DescribeConfigs (DescribeConfigs),
 * else `config` is empty and `configAuthorized` false, so a reader still sees its partitions.
 */
function topicDetail(ctx: BrokerContext, name: string, who: Principal): T.TopicDetail {
  requireTopic(ctx, who, Operation.Describe, name);
  const partitions = partitionsOf(ctx, name);
  const configAuthorized = mayTopic(ctx, who, Operation.DescribeConfigs, name);
  return { name, config: configAuthorized ? topicConfigRecord(ctx, name) : {}, configAuthorized, partitions };
}

async function createTopicFrom(ctx: BrokerContext, body: unknown, who: Principal): Promise<{ created: string }> {
  const input = objectBody(body);
  if (typeof input.name !== 'string') throw invalid('name must be a string');
  if (typeof input.partitions !== 'number') throw invalid('partitions must be a number');
  const entries = configOf(input.config ?? {});
  await createTopic(ctx, input.name, input.partitions, Object.keys(entries).length > 0 ? entries : undefined, who);
  return { created: input.name };
}

/** AlterConfigs on the topic; answers the configs after the change (AlterConfigs allows DescribeConfigs). */
async function alterConfigFrom(ctx: BrokerContext, name: string, body: unknown, who: Principal): Promise<T.TopicConfig> {
  const config = configOf(objectBody(body).config);
  if (Object.keys(config).length === 0) throw invalid('config names no topic config to set');
  await alterTopicConfig(ctx, name, config, who);
  return { name, config: topicConfigRecord(ctx, name) };
}

async function addPartitions(ctx: BrokerContext, name: string, body: unknown, who: Principal): Promise<{ partitions: number }> {
  const input = objectBody(body);
  if (typeof input.count !== 'number' || !Number.isInteger(input.count)) throw invalid('count must be an integer');
  await createPartitions(ctx, name, input.count, false, who);
  return { partitions: input.count };
}

/** Produce: Write on the topic, checked before the topic's existence is. */
async function produceFrom(ctx: BrokerContext, topic: string, body: unknown, who: Principal): Promise<{ partition: number; offset: number }> {
  requireTopic(ctx, who, Operation.Write, topic);
  const input = objectBody(body);
  if (typeof input.partition !== 'number' || !Number.isInteger(input.partition)) throw invalid('partition must be an integer');
  const text = (name: string, value: unknown): string | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw invalid(`${name} must be a string or null`);
    return value;
  };
  const headers = objectBody(input.headers ?? {});
  const headerPairs = Object.entries(headers).map(([key, value]): [string, string] => [key, text(`header ${key}`, value) ?? '']);
  const partition = input.partition;
  // Bounded like any produce: storage checks max.message.bytes; the body itself is at most MAX_API_BODY_BYTES.
  const { offset } = await produceTestMessage(ctx, { topic, partition, key: text('key', input.key), value: text('value', input.value), headers: headerPairs });
  return { partition, offset };
}

/** A map of topic configs by Kafka name; storage parses and validates the values. */
function configOf(value: unknown): Record<string, string | number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('config must be an object of topic configs');
  for (const entry of Object.values(value)) if (typeof entry !== 'string' && typeof entry !== 'number') throw invalid('each config value must be a string or a number');
  return value as Record<string, string | number>;
}

/** Browsing reads records: Read on the topic, as Fetch. */
function messages(ctx: BrokerContext, topic: string, query: URLSearchParams, who: Principal): T.MessagesPage {
  requireTopic(ctx, who, Operation.Read, topic);
  const partition = integerParam(query, 'partition', 0);
  const limit = integerParam(query, 'limit', 50);
  const before = query.get('before');
  const beforeOffset = before === null || before === '' ? null : integerParam(query, 'before', 0);
  const page = browseMessages(ctx, { topic, partition, beforeOffset, limit });
  return {
    topic,
    partition,
    logStartOffset: page.logStartOffset,
    logEndOffset: page.logEndOffset,
    olderBeforeOffset: page.olderBeforeOffset,
    records: page.records.map((record) => ({
      offset: record.offset,
      timestamp: record.timestamp,
      key: shownBytes(record.key),
      value: shownBytes(record.value),
      headers: record.headers.map(([key, value]) => ({ key, value: shownBytes(value) })),
    })),
  };
}

/** DescribeGroups and OffsetFetch: Describe on the group; offsets of topics `who` may not Describe are left out. */
async function describeGroup(ctx: BrokerContext, groupId: string, who: Principal): Promise<T.GroupDescription> {
  requireGroup(ctx, who, Operation.Describe, groupId);
  const answer = await ctx.coordinator.describeGroups({ groupIds: [groupId] });
  const group = answer.groups[0];
  if (group === undefined) throw new SpoolError(Errors.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`);
  throwIfFailed(group);
  const { state, groupEpoch, assignor, offsets } = group;
  // Only the named fields: a classic member's metadata and assignment bytes stay out.
  const members = group.members.map(({ memberId, clientId, memberEpoch, subscription, assignment }) => ({ memberId, clientId, memberEpoch, subscription, assignment }));
  return { groupId, state, groupEpoch, assignor, members, offsets: visibleTopicEntries(ctx, who, offsets) };
}

/** Moving a group's offsets is a commit (Kafka's AlterConsumerGroupOffsets): Read on the group and the topic, for a dry run too. */
async function resetGroup(ctx: BrokerContext, groupId: string, body: unknown, who: Principal): Promise<T.ResetResult> {
  const input = objectBody(body);
  if (typeof input.topic !== 'string') throw invalid('topic must be a string');
  requireGroup(ctx, who, Operation.Read, groupId);
  requireTopic(ctx, who, Operation.Read, input.topic);
  const to = resetTargetOf(input.to);
  const dryRun = input.dryRun === true;
  const result = await ctx.coordinator.resetOffsets({ groupId, topic: input.topic, to, dryRun });
  throwIfFailed(result);
  for (const partition of result.partitions) throwIfFailed(partition);
  return { groupId, topic: input.topic, dryRun, partitions: result.partitions.map(({ partition, offset }) => ({ partition, offset })) };
}

/** The reset target as the native ResetOffsets request carries it: {kind, offset | timestamp}. */
function resetTargetOf(value: unknown): T.ResetTarget {
  const to = objectBody(value);
  if (to.kind === 'earliest' || to.kind === 'latest') return { kind: to.kind };
  if (to.kind === 'offset' && typeof to.offset === 'number' && Number.isInteger(to.offset)) return { kind: 'offset', offset: to.offset };
  if (to.kind === 'timestamp' && typeof to.timestamp === 'number' && Number.isInteger(to.timestamp) && to.timestamp >= 0) return { kind: 'timestamp', timestamp: to.timestamp };
  throw invalid('to must be {kind: earliest|latest} or {kind: offset, offset} or {kind: timestamp, timestamp}');
}

function shownBytes(bytes: Buffer | null): T.ShownBytes | null {
  if (bytes === null) return null;
  const truncated = bytes.length > MAX_SHOWN_VALUE_BYTES;
  const shown = truncated ? bytes.subarray(0, MAX_SHOWN_VALUE_BYTES) : bytes;
  const text = shown.toString('utf8');
  // Text when it round-trips as UTF-8 and holds no control characters but tab and newlines.
  // eslint-disable-next-line no-control-regex
  const isText = Buffer.from(text, 'utf8').equals(shown) && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
  return isText ? { text, bytes: bytes.length, truncated } : { hex: shown.toString('hex'), bytes: bytes.length, truncated };
}

function throwIfFailed(result: { errorCode: number; errorMessage?: string | null }): void {
  if (result.errorCode === 0) return;
  throw new SpoolError(kindOfCode(result.errorCode), result.errorMessage ?? undefined);
}

function kindOfCode(code: number): (typeof Errors)[keyof typeof Errors] {
  return Object.values(Errors).find((kind) => kind.code === code) ?? Errors.INVALID_REQUEST;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw invalid(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

function invalid(message: string): SpoolError {
  return new SpoolError(Errors.INVALID_REQUEST, message);
}

const STATUS_BY_ERROR: Record<string, number> = {
  UNKNOWN_TOPIC: 404,
  UNKNOWN_PARTITION: 404,
  GROUP_ID_NOT_FOUND: 404,
  TOPIC_ALREADY_EXISTS: 409,
  NON_EMPTY_GROUP: 409,
  TOPIC_AUTHORIZATION_FAILED: 403,
  GROUP_AUTHORIZATION_FAILED: 403,
  CLUSTER_AUTHORIZATION_FAILED: 403,
};

function statusOf(error: SpoolError): number {
  return STATUS_BY_ERROR[error.code] ?? (error.retriable ? 503 : 400);
}

function failure(status: number, error: SpoolError): ApiAnswer {
  return { status, body: { error: { name: error.code, code: error.errorCode, message: error.message } } };
}

/** Reads a JSON body of at most MAX_API_BODY_BYTES; an empty body is undefined. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_API_BODY_BYTES) throw invalid(`the body is ${declared} bytes; at most ${MAX_API_BODY_BYTES}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_API_BODY_BYTES) throw invalid(`the body is over ${MAX_API_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (total === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    // Safe: a body that is not JSON is the client's error, answered as such.
    throw invalid('the body is not JSON');
  }
}
