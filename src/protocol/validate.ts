// Shape checks of request headers (messages.ts), so a handler only ever sees the types it
// declares. A header of the wrong shape throws SpoolError INVALID_REQUEST naming the
// field ("partitions[2].offset: expected an integer >= 0"). Unknown extra fields are
// ignored (a newer client may send more). Small combinators, no schema library.

import { Errors, SpoolError } from '../util/errors.js';
import { ApiKey } from './apis.js';
import { isPlainObject } from './body.js';
import type * as M from './messages.js';

type Check<T> = (value: unknown, path: string) => T;

function fail(path: string, expected: string): never {
  throw new SpoolError(Errors.INVALID_REQUEST, `${path === '' ? 'header' : path}: expected ${expected}`);
}

const MAX_STRING_CHARS = 64 * 1024;

/**
 * Counts a request may carry, checked here at the protocol edge before a handler runs
 * (INVALID_REQUEST naming the limit), so one request cannot keep the event loop busy for
 * seconds (every other client waits meanwhile). See README.md "Request limits".
 */
export const RequestLimits = {
  /** msgpack header bytes of a request, checked before decoding it. */
  maxHeaderBytes: 1024 * 1024,
  /** Topic entries: Metadata, CreateTopics, DeleteTopics, DescribeTopics, a heartbeat's topics and ownedPartitions. */
  maxTopicsPerRequest: 1000,
  /** Topic-partition entries: ListOffsets, OffsetCommit, OffsetFetch, ResetOffsets, a heartbeat's ownedPartitions (all topics together). */
  maxPartitionsPerRequest: 2000,
  /** Partition entries of a Produce: its appends run in one turn (request order), ~10 us each. */
  maxPartitionsPerProduce: 1000,
  /** Partition entries of a Fetch: its reads run in one turn (budget accounting), ~10 us each. */
  maxPartitionsPerFetch: 1000,
  /** Group ids: DescribeGroups, DeleteGroups. */
  maxGroupsPerRequest: 1000,
  /** Entries of one topic's config (CreateTopics). */
  maxConfigEntries: 100,
  /**
   * Partitions one CreateTopics creates, all topics together (one topic has at most 10,000,
   * storage's MAX_PARTITIONS): making one costs ~1-2 ms of file work (done in slices that
   * yield), so this bounds one request to tens of seconds, within a client's request timeout.
   */
  maxPartitionsPerCreateTopics: 10_000,
  /** ACL bindings or filters of one CreateAcls / DeleteAcls, quota entries of one AlterClientQuotas. */
  maxAclsPerRequest: 1000,
  /** Acknowledgement ranges of one ShareAcknowledge partition entry (a member acks at most what it holds: 4,000 in flight per partition). */
  maxAcknowledgeRangesPerPartition: 4000,
  /** Users named by DescribeUserScramCredentials, or credentials changed by one AlterUserScramCredentials (each list). */
  maxUsersPerRequest: 1000,
  /** Runs of one share-partition's state (62, 63): at most one per offset of the in-flight window (--share-max-in-flight-records, at most 4,000). */
  maxShareStateRuns: 4000,
} as const;

export type RequestLimitName = keyof typeof RequestLimits;

function overLimit(path: string, count: number, limit: RequestLimitName): never {
  throw new SpoolError(Errors.INVALID_REQUEST, `${path}: ${count} entries, more than the limit ${limit} (${RequestLimits[limit]})`);
}

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      fail(path, `an integer in [${min}, ${max}]`);
    }
    return value;
  };
}

export const str: Check<string> = (value, path) => {
  if (typeof value !== 'string' || value.length > MAX_STRING_CHARS) fail(path, 'a string');
  return value;
};

export const bool: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') fail(path, 'a boolean');
  return value;
};

export function literal<const T extends string | number>(...choices: T[]): Check<T> {
  return (value, path) => {
    if (!choices.includes(value as T)) fail(path, `one of ${choices.join(', ')}`);
    return value as T;
  };
}

/** An array of at most RequestLimits[limit] items, checked before the items are. */
export function arrayOf<T>(item: Check<T>, limit: RequestLimitName): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, 'an array');
    if (value.length > RequestLimits[limit]) overLimit(path, value.length, limit);
    for (let i = 0; i < value.length; i++) item(value[i], `${path}[${i}]`);
    return value as T[];
  };
}

/** Bytes (msgpack bin) of at most `maxBytes`. */
export function bytes(maxBytes: number): Check<Uint8Array> {
  return (value, path) => {
    if (!(value instanceof Uint8Array) || value.length > maxBytes) fail(path, `bytes (at most ${maxBytes})`);
    return value;
  };
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? undefined : check(value, path));
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

export function record<T>(values: Check<T>, limit: RequestLimitName): Check<Record<string, T>> {
  return (value, path) => {
    if (!isPlainObject(value)) fail(path, 'a map');
    const entries = Object.entries(value);
    if (entries.length > RequestLimits[limit]) overLimit(path, entries.length, limit);
    for (const [key, entry] of entries) values(entry, `${path}.${key}`);
    return value as Record<string, T>;
  };
}

type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

export function object<S extends Shape>(shape: S): Check<FromShape<S>> {
  return (value, path) => {
    if (!isPlainObject(value)) fail(path, 'a map');
    for (const [field, check] of Object.entries(shape)) check(value[field], path === '' ? field : `${path}.${field}`);
    return value as FromShape<S>;
  };
}

/** `check`, then refuses two items with the same key (INVALID_REQUEST naming the second). */
function unique<T>(check: Check<T[]>, keyOf: (item: T) => string, what: (item: T) => string): Check<T[]> {
  return (value, path) => {
    const items = check(value, path);
    const seen = new Set<string>();
    for (let i = 0; i < items.length; i++) {
      const key = keyOf(items[i]!);
      if (seen.has(key)) fail(`${path}[${i}]`, `${what(items[i]!)} only once per request, but it is named again`);
      seen.add(key);
    }
    return items;
  };
}

function oneOf<T>(...checks: Array<Check<T>>): Check<T> {
  return (value, path) => {
    let last: unknown;
    for (const check of checks) {
      try {
        return check(value, path);
      } catch (error) {
        // Safe: each alternative only reports a shape mismatch; the last one is rethrown.
        last = error;
      }
    }
    throw last;
  };
}

const u32 = int(0, 0xffff_ffff);
const i32 = int(-0x8000_0000, 0x7fff_ffff);
const offset = int(-1, Number.MAX_SAFE_INTEGER);
const timestamp = int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
/** [length >= 1, state 0/2/4, deliveryCount 0..127]: one run of a share-partition's state. */
const shareStateRun: Check<M.ShareStateRunTriple> = (value, path) => {
  if (!Array.isArray(value) || value.length !== 3) fail(path, 'a [length, state, deliveryCount] triple');
  int(1, 0x7fff_ffff)(value[0], `${path}[0]`);
  literal(0, 2, 4)(value[1], `${path}[1]`);
  int(0, 127)(value[2], `${path}[2]`);
  return value as M.ShareStateRunTriple;
};
const topicPartitions = object({ topic: str, partitions: arrayOf(i32, 'maxPartitionsPerRequest') });
/** ShareAcknowledge's partitions, also ShareFetch's piggybacked `acknowledgements`. */
const shareAcknowledgements = unique(
  arrayOf(
    object({
      topic: str,
      partition: i32,
      ranges: arrayOf(
        object({ firstOffset: int(0), lastOffset: int(0), type: literal(1, 2, 3, 4), delayMs: optional(int(0, 0x7fff_ffff)), error: optional(str) }),
        'maxAcknowledgeRangesPerPartition',
      ),
    }),
    'maxPartitionsPerFetch',
  ),
  (entry) => `${entry.topic}\u0000${entry.partition}`,
  (entry) => `partition ${entry.topic}-${entry.partition}`,
);

/**
 * `check`, then the partitions to create, all topics together, at most
 * maxPartitionsPerCreateTopics. A count that is no valid partition count (< 1) is left to
 * the topic's own INVALID_PARTITIONS answer.
 */
function totalCreatedPartitions<T extends { partitions: number }>(check: Check<T[]>): Check<T[]> {
  return (value, path) => {
    const topics = check(value, path);
    let count = 0;
    for (const entry of topics) count += Math.max(0, entry.partitions);
    if (count > RequestLimits.maxPartitionsPerCreateTopics) {
      throw new SpoolError(Errors.INVALID_REQUEST, `${path}: ${count} partitions to create, more than the limit maxPartitionsPerCreateTopics (${RequestLimits.maxPartitionsPerCreateTopics})`);
    }
    return topics;
  };
}

/** `check`, then the partitions of every topic together at most maxPartitionsPerRequest. */
function totalPartitions(check: Check<M.TopicPartitions[]>): Check<M.TopicPartitions[]> {
  return (value, path) => {
    const topics = check(value, path);
    let count = 0;
    for (const entry of topics) count += entry.partitions.length;
    if (count > RequestLimits.maxPartitionsPerRequest) overLimit(path, count, 'maxPartitionsPerRequest');
    return topics;
  };
}

/** CreatePartitions: the new totals of every topic together at most maxPartitionsPerCreateTopics (each new one costs file work, as in CreateTopics). */
function totalPartitionCounts<T extends { count: number }>(check: Check<T[]>): Check<T[]> {
  return (value, path) => {
    const topics = check(value, path);
    let count = 0;
    for (const entry of topics) count += Math.max(0, entry.count);
    if (count > RequestLimits.maxPartitionsPerCreateTopics) {
      throw new SpoolError(Errors.INVALID_REQUEST, `${path}: ${count} partitions in total, more than the limit maxPartitionsPerCreateTopics (${RequestLimits.maxPartitionsPerCreateTopics})`);
    }
    return topics;
  };
}

const RESOURCE_TYPES = ['Topic', 'Group', 'Cluster', 'TransactionalId'] as const;
const PATTERN_TYPES = ['literal', 'prefixed'] as const;
const OPERATIONS = ['All', 'Read', 'Write', 'Create', 'Delete', 'Alter', 'Describe', 'DescribeConfigs', 'AlterConfigs', 'IdempotentWrite'] as const;
const PERMISSIONS = ['allow', 'deny'] as const;
const aclBinding = object({
  principal: str,
  host: str,
  resourceType: literal(...RESOURCE_TYPES),
  resourceName: str,
  patternType: literal(...PATTERN_TYPES),
  operation: literal(...OPERATIONS),
  permission: literal(...PERMISSIONS),
});
const aclFilter = object({
  principal: nullable(str),
  host: nullable(str),
  resourceType: nullable(literal(...RESOURCE_TYPES)),
  resourceName: nullable(str),
  patternType: nullable(literal(...PATTERN_TYPES)),
  operation: nullable(literal(...OPERATIONS)),
  permission: nullable(literal(...PERMISSIONS)),
});
const byteRate = optional(nullable(int(1)));

const requestChecks: Record<ApiKey, Check<unknown>> = {
  [ApiKey.ApiVersions]: object({ clientSoftwareName: optional(str), clientSoftwareVersion: optional(str), clientId: optional(str) }),
  [ApiKey.Metadata]: object({ topics: optional(nullable(arrayOf(str, 'maxTopicsPerRequest'))) }),
  [ApiKey.CreateTopics]: object({
    topics: totalCreatedPartitions(arrayOf(object({ name: str, partitions: i32, replicationFactor: optional(i32), config: optional(record(oneOf<string | number>(str, timestamp), 'maxConfigEntries')) }), 'maxTopicsPerRequest')),
  }),
  [ApiKey.DeleteTopics]: object({ names: arrayOf(str, 'maxTopicsPerRequest') }),
  [ApiKey.DescribeTopics]: object({ names: arrayOf(str, 'maxTopicsPerRequest') }),
  [ApiKey.Produce]: object({
    acks: literal(0, 1, -1),
    timeoutMs: int(0),
    partitions: arrayOf(object({ topic: str, partition: i32, size: u32 }), 'maxPartitionsPerProduce'),
  }),
  [ApiKey.Fetch]: object({
    maxWaitMs: int(0, 0x7fff_ffff),
    minBytes: int(0),
    maxBytes: int(0),
    // Each partition once: naming one partition N times would read its bytes N times.
    partitions: unique(
      arrayOf(object({ topic: str, partition: i32, offset: int(0), maxBytes: int(0) }), 'maxPartitionsPerFetch'),
      (entry) => `${entry.topic}\u0000${entry.partition}`,
      (entry) => `partition ${entry.topic}-${entry.partition}`,
    ),
  }),
  [ApiKey.ListOffsets]: object({ partitions: arrayOf(object({ topic: str, partition: i32, timestamp }), 'maxPartitionsPerRequest') }),
  [ApiKey.ConsumerGroupHeartbeat]: object({
    groupId: str,
    memberId: str,
    memberEpoch: i32,
    clientId: optional(str),
    topics: optional(arrayOf(str, 'maxTopicsPerRequest')),
    ownedPartitions: optional(totalPartitions(arrayOf(topicPartitions, 'maxTopicsPerRequest'))),
    sessionTimeoutMs: optional(int(0, 0x7fff_ffff)),
    assignor: optional(literal('uniform', 'range')),
  }),
  [ApiKey.OffsetCommit]: object({
    groupId: str,
    memberId: str,
    memberEpoch: i32,
    offsets: arrayOf(object({ topic: str, partition: i32, offset, metadata: optional(str) }), 'maxPartitionsPerRequest'),
  }),
  [ApiKey.OffsetFetch]: object({ groupId: str, partitions: optional(arrayOf(object({ topic: str, partition: i32 }), 'maxPartitionsPerRequest')) }),
  [ApiKey.ListGroups]: object({}),
  [ApiKey.DescribeGroups]: object({ groupIds: arrayOf(str, 'maxGroupsPerRequest') }),
  [ApiKey.DeleteGroups]: object({ groupIds: arrayOf(str, 'maxGroupsPerRequest') }),
  [ApiKey.ResetOffsets]: object({
    groupId: str,
    topic: str,
    partitions: optional(arrayOf(i32, 'maxPartitionsPerRequest')),
    to: oneOf<unknown>(
      object({ kind: literal('earliest', 'latest') }),
      object({ kind: literal('offset'), offset: int(0) }),
      object({ kind: literal('timestamp'), timestamp }),
    ),
  }),
  // Each topic once: two entries for one topic would race on its metadata file.
  [ApiKey.AlterConfigs]: object({
    topics: unique(
      arrayOf(object({ name: str, config: record(oneOf<string | number>(str, timestamp), 'maxConfigEntries') }), 'maxTopicsPerRequest'),
      (entry) => entry.name,
      (entry) => `topic ${entry.name}`,
    ),
    groups: optional(
      unique(
        arrayOf(object({ name: str, config: record(oneOf<string | number>(str, timestamp), 'maxConfigEntries') }), 'maxGroupsPerRequest'),
        (entry) => entry.name,
        (entry) => `group ${entry.name}`,
      ),
    ),
  }),
  [ApiKey.CreatePartitions]: object({
    topics: totalPartitionCounts(
      unique(arrayOf(object({ name: str, count: i32 }), 'maxTopicsPerRequest'), (entry) => entry.name, (entry) => `topic ${entry.name}`),
    ),
  }),
  [ApiKey.DeleteRecords]: object({
    partitions: unique(
      arrayOf(object({ topic: str, partition: i32, offset }), 'maxPartitionsPerRequest'),
      (entry) => `${entry.topic}\u0000${entry.partition}`,
      (entry) => `partition ${entry.topic}-${entry.partition}`,
    ),
  }),
  [ApiKey.ShareFetch]: object({
    groupId: str,
    memberId: str,
    maxWaitMs: int(0, 0x7fff_ffff),
    maxRecords: int(1, 10_000),
    maxBytes: int(1),
    partitions: unique(
      arrayOf(object({ topic: str, partition: i32 }), 'maxPartitionsPerFetch'),
      (entry) => `${entry.topic}\u0000${entry.partition}`,
      (entry) => `partition ${entry.topic}-${entry.partition}`,
    ),
    groupConfig: optional(object({ lockDurationMs: optional(int(1_000, 3_600_000)), deliveryLimit: optional(int(2, 10)) })),
    acknowledgements: optional(shareAcknowledgements),
  }),
  [ApiKey.DescribeShareGroups]: object({ groupIds: arrayOf(str, 'maxGroupsPerRequest') }),
  [ApiKey.ShareAcknowledge]: object({
    groupId: str,
    memberId: str,
    leave: optional(bool),
    partitions: shareAcknowledgements,
  }),
  [ApiKey.DescribeCluster]: object({}),
  [ApiKey.InitProducerId]: object({
    transactionalId: optional(nullable(str)),
    producerId: optional(int(-1)),
    producerEpoch: optional(int(-1, 0x7fff)),
  }),
  [ApiKey.DescribeAcls]: object({ filter: aclFilter }),
  [ApiKey.CreateAcls]: object({ acls: arrayOf(aclBinding, 'maxAclsPerRequest') }),
  [ApiKey.DeleteAcls]: object({ filters: arrayOf(aclFilter, 'maxAclsPerRequest') }),
  [ApiKey.DescribeClientQuotas]: object({}),
  [ApiKey.AlterClientQuotas]: object({
    entries: arrayOf(
      object({ user: nullable(str), clientId: nullable(str), rates: object({ producer_byte_rate: byteRate, consumer_byte_rate: byteRate }) }),
      'maxAclsPerRequest',
    ),
  }),
  [ApiKey.SaslHandshake]: object({ mechanism: str }),
  // The SASL limit is checked again (and answered as an authentication failure) by security/.
  [ApiKey.SaslAuthenticate]: object({ authBytes: bytes(64 * 1024) }),
  [ApiKey.DescribeUserScramCredentials]: object({ users: optional(nullable(arrayOf(str, 'maxUsersPerRequest'))) }),
  [ApiKey.AlterUserScramCredentials]: object({
    deletions: optional(arrayOf(object({ user: str, mechanism: str }), 'maxUsersPerRequest')),
    upsertions: optional(arrayOf(object({ user: str, mechanism: str, iterations: i32, salt: bytes(1024), saltedPassword: bytes(1024) }), 'maxUsersPerRequest')),
  }),
  [ApiKey.ReplicaFetch]: object({
    replicaId: int(0, 0x7fff_ffff),
    maxWaitMs: int(0, 0x7fff_ffff),
    minBytes: int(0),
    maxBytes: int(0),
    partitions: unique(
      arrayOf(object({ topic: str, partition: i32, leaderEpoch: int(0, 0x7fff_ffff), fetchOffset: int(0), maxBytes: int(0) }), 'maxPartitionsPerFetch'),
      (entry) => `${entry.topic}\u0000${entry.partition}`,
      (entry) => `partition ${entry.topic}-${entry.partition}`,
    ),
  }),
  [ApiKey.OffsetForLeaderEpoch]: object({
    replicaId: int(0, 0x7fff_ffff),
    partitions: arrayOf(object({ topic: str, partition: i32, currentLeaderEpoch: int(-1, 0x7fff_ffff), leaderEpoch: int(-1, 0x7fff_ffff) }), 'maxPartitionsPerRequest'),
  }),
  [ApiKey.FindCoordinator]: object({ groupId: str, share: optional(bool) }),
  [ApiKey.ReadShareGroupState]: object({ groupId: str, topic: str, partition: i32, leaderEpoch: int(-1, 0x7fff_ffff) }),
  [ApiKey.WriteShareGroupState]: object({
    groupId: str,
    partitions: arrayOf(
      object({ topic: str, partition: i32, leaderEpoch: int(-1, 0x7fff_ffff), stateEpoch: int(0, 0x7fff_ffff), startOffset: int(0), runs: arrayOf(shareStateRun, 'maxShareStateRuns') }),
      'maxPartitionsPerRequest',
    ),
  }),
  [ApiKey.ConfigureShareGroup]: object({ groupId: str, onlyIfUnset: bool, lockDurationMs: optional(int(1_000, 3_600_000)), deliveryLimit: optional(int(2, 10)) }),
  [ApiKey.AppendDeadLetters]: object({ groupId: str, size: int(1, 0x7fff_ffff) }),
  [ApiKey.ResetShareGroupState]: object({ groupId: str, topic: str, partitions: arrayOf(object({ partition: i32, offset: int(0) }), 'maxPartitionsPerRequest') }),
};

/** The request type of each api key. */
export interface RequestTypes {
  [ApiKey.ApiVersions]: M.ApiVersionsRequest;
  [ApiKey.Metadata]: M.MetadataRequest;
  [ApiKey.CreateTopics]: M.CreateTopicsRequest;
  [ApiKey.DeleteTopics]: M.DeleteTopicsRequest;
  [ApiKey.DescribeTopics]: M.DescribeTopicsRequest;
  [ApiKey.Produce]: M.ProduceRequest;
  [ApiKey.Fetch]: M.FetchRequest;
  [ApiKey.ListOffsets]: M.ListOffsetsRequest;
  [ApiKey.ConsumerGroupHeartbeat]: M.ConsumerGroupHeartbeatRequest;
  [ApiKey.OffsetCommit]: M.OffsetCommitRequest;
  [ApiKey.OffsetFetch]: M.OffsetFetchRequest;
  [ApiKey.ListGroups]: M.ListGroupsRequest;
  [ApiKey.DescribeGroups]: M.DescribeGroupsRequest;
  [ApiKey.DeleteGroups]: M.DeleteGroupsRequest;
  [ApiKey.ResetOffsets]: M.ResetOffsetsRequest;
  [ApiKey.AlterConfigs]: M.AlterConfigsRequest;
  [ApiKey.CreatePartitions]: M.CreatePartitionsRequest;
  [ApiKey.DeleteRecords]: M.DeleteRecordsRequest;
  [ApiKey.DescribeCluster]: M.DescribeClusterRequest;
  [ApiKey.ShareFetch]: M.ShareFetchRequest;
  [ApiKey.ShareAcknowledge]: M.ShareAcknowledgeRequest;
  [ApiKey.DescribeShareGroups]: M.DescribeShareGroupsRequest;
  [ApiKey.InitProducerId]: M.InitProducerIdRequest;
  [ApiKey.DescribeAcls]: M.DescribeAclsRequest;
  [ApiKey.CreateAcls]: M.CreateAclsRequest;
  [ApiKey.DeleteAcls]: M.DeleteAclsRequest;
  [ApiKey.DescribeClientQuotas]: M.DescribeClientQuotasRequest;
  [ApiKey.AlterClientQuotas]: M.AlterClientQuotasRequest;
  [ApiKey.SaslHandshake]: M.SaslHandshakeRequest;
  [ApiKey.SaslAuthenticate]: M.SaslAuthenticateRequest;
  [ApiKey.DescribeUserScramCredentials]: M.DescribeUserScramCredentialsRequest;
  [ApiKey.AlterUserScramCredentials]: M.AlterUserScramCredentialsRequest;
  [ApiKey.ReplicaFetch]: M.ReplicaFetchRequest;
  [ApiKey.OffsetForLeaderEpoch]: M.OffsetForLeaderEpochRequest;
  [ApiKey.FindCoordinator]: M.FindCoordinatorRequest;
  [ApiKey.ReadShareGroupState]: M.ReadShareGroupStateRequest;
  [ApiKey.WriteShareGroupState]: M.WriteShareGroupStateRequest;
  [ApiKey.ConfigureShareGroup]: M.ConfigureShareGroupRequest;
  [ApiKey.ResetShareGroupState]: M.ResetShareGroupStateRequest;
  [ApiKey.AppendDeadLetters]: M.AppendDeadLettersRequest;
}

/** Checks a decoded request header against its API's shape; throws INVALID_REQUEST. */
export function checkRequest<K extends ApiKey>(apiKey: K, header: unknown): RequestTypes[K] {
  const check = requestChecks[apiKey];
  return check(header, '') as RequestTypes[K];
}
