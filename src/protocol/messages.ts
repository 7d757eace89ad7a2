// Request and response bodies of every API. Each body travels as
//   headerLength u32 | msgpack(header) | payload
// where `header` is one of the types below and `payload` is raw bytes (record batches)
// whose split is described by `size` fields in the header, in order. Bodies without
// record data have an empty payload. Offsets and timestamps are JS numbers (int64 on
// disk; safe to 2^53). Every response may carry a top-level `errorCode`/`errorMessage`
// that fails the whole request (UNSUPPORTED_VERSION, INVALID_REQUEST, ...); per-item
// errors use `errorCode` 0 for success and a message otherwise.

export interface ErrorFields {
  errorCode: number;
  errorMessage?: string;
}

// ApiVersions (0)
export interface ApiVersionsRequest {
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  /** The client's id (Client's clientId), for client-id quotas; Kafka has it in every request header. */
  clientId?: string;
}
export interface ApiVersionsResponse extends ErrorFields {
  apis: Array<{ apiKey: number; minVersion: number; maxVersion: number }>;
  brokerVersion: string;
}

// Metadata (1): topics null/absent means every (non-internal) topic.
export interface MetadataRequest {
  topics?: string[] | null;
}
export interface TopicMetadata extends ErrorFields {
  name: string;
  partitions: number;
  internal: boolean;
  /**
   * Per partition, in partition order: its leader (node id; -1: none, retry later), leader
   * epoch, replicas and in-sync replicas. Added for clusters; a broker before it leaves it
   * out (the client then sends everything to the broker it reached) and older clients ignore it.
   */
  partitionInfo?: PartitionInfo[];
}
export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}
export interface MetadataResponse extends ErrorFields {
  /** Every live broker of the cluster (one on a single node), at its native address. */
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  /** The controller's node id (-1: none); absent on a single node and from brokers before clusters. */
  controllerId?: number;
  topics: TopicMetadata[];
}

// CreateTopics (2). config keys use Kafka's names: retention.ms, retention.bytes,
// segment.bytes, segment.ms, cleanup.policy, max.message.bytes, delete.retention.ms.
export interface CreateTopicsRequest {
  /** replicationFactor: a cluster's (absent or -1: the default, min(3, live brokers)); a single broker takes only 1. */
  topics: Array<{ name: string; partitions: number; replicationFactor?: number; config?: Record<string, string | number> }>;
}
export interface CreateTopicsResponse extends ErrorFields {
  topics: Array<{ name: string } & ErrorFields>;
}

// DeleteTopics (3)
export interface DeleteTopicsRequest {
  names: string[];
}
export interface DeleteTopicsResponse extends ErrorFields {
  topics: Array<{ name: string } & ErrorFields>;
}

// DescribeTopics (4)
export interface DescribeTopicsRequest {
  names: string[];
}
export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  sizeBytes: number;
  segments: number;
}
export interface DescribeTopicsResponse extends ErrorFields {
  topics: Array<
    { name: string; config: Record<string, string | number>; partitions: PartitionDescription[] } & ErrorFields
  >;
}

// Produce (5). acks: 0 (no response is sent at all), 1 (written to the log), -1 = all
// (written and flushed per the broker's fsync policy). Payload: for each entry of
// `partitions`, `size` bytes of one or more whole record batches.
export interface ProduceRequest {
  acks: 0 | 1 | -1;
  timeoutMs: number;
  partitions: Array<{ topic: string; partition: number; size: number }>;
}
export interface ProducePartitionResult extends ErrorFields {
  topic: string;
  partition: number;
  /** Offset given to the first record of the first batch; -1 on error. */
  baseOffset: number;
  logStartOffset: number;
}
export interface ProduceResponse extends ErrorFields {
  partitions: ProducePartitionResult[];
  /** Set when the client is over its produce quota: the broker muted the connection this long (src/security/README.md "Quotas"). */
  throttleTimeMs?: number;
}

// Fetch (6). Payload of the response: for each entry of `partitions`, `size` bytes of
// whole record batches starting with the batch that holds `offset` (at least one whole
// batch even when larger than maxBytes). The broker parks the request until minBytes
// are available or maxWaitMs passes.
export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: Array<{ topic: string; partition: number; offset: number; maxBytes: number }>;
}
export interface FetchPartitionResult extends ErrorFields {
  topic: string;
  partition: number;
  highWatermark: number;
  logStartOffset: number;
  size: number;
  /** With CORRUPT_MESSAGE, when the broker knows it: the offset just past the bad batch (a client may seek there to skip it). */
  nextOffset?: number;
}
export interface FetchResponse extends ErrorFields {
  partitions: FetchPartitionResult[];
  /** Set when the client is over its fetch quota: the broker muted the connection this long. */
  throttleTimeMs?: number;
}

// ListOffsets (7). timestamp: -1 latest (log end offset), -2 earliest (log start
// offset), otherwise the first offset whose record timestamp is >= timestamp
// (offset = log end offset when there is none).
export interface ListOffsetsRequest {
  partitions: Array<{ topic: string; partition: number; timestamp: number }>;
}
export interface ListOffsetsResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number; offset: number; timestamp: number } & ErrorFields>;
}

// Consumer groups (KIP-848 style). Heartbeat joins (memberEpoch 0), stays (current
// epoch) and leaves (memberEpoch -1). The response's `assignment` is the set of
// partitions the member may own now; partitions it owns that are not listed must be
// committed and dropped, then reported as no longer owned in the next heartbeat.
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}
export interface ConsumerGroupHeartbeatRequest {
  groupId: string;
  memberId: string; // '' to join; the coordinator assigns one
  memberEpoch: number; // 0 join, -1 leave, otherwise the current epoch
  clientId?: string;
  topics?: string[]; // the subscription; absent = unchanged
  ownedPartitions?: TopicPartitions[]; // absent = unchanged
  sessionTimeoutMs?: number;
  assignor?: 'uniform' | 'range';
}
export interface ConsumerGroupHeartbeatResponse extends ErrorFields {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment?: TopicPartitions[]; // absent = unchanged since the last response
}

// OffsetCommit (9). memberEpoch -1 with memberId '' commits as an admin / standalone
// consumer, allowed only while the group has no active members.
export interface OffsetCommitRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  offsets: Array<{ topic: string; partition: number; offset: number; metadata?: string }>;
}
export interface OffsetCommitResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number } & ErrorFields>;
}

// OffsetFetch (10). partitions absent = every committed partition of the group.
export interface OffsetFetchRequest {
  groupId: string;
  partitions?: Array<{ topic: string; partition: number }>;
}
export interface OffsetFetchResponse extends ErrorFields {
  offsets: Array<{ topic: string; partition: number; offset: number; metadata: string } & ErrorFields>; // offset -1 = none
}

// ListGroups (11)
export type ListGroupsRequest = Record<string, never>;
export interface ListGroupsResponse extends ErrorFields {
  groups: Array<{ groupId: string; state: GroupState; members: number; kind?: 'classic' | 'share' }>;
}
// Consumer groups: empty, assigning, reconciling, stable. Classic groups (Kafka clients
// joining with JoinGroup/SyncGroup): empty, preparing-rebalance, completing-rebalance, stable.
export type GroupState =
  | 'empty'
  | 'assigning'
  | 'reconciling'
  | 'stable'
  | 'preparing-rebalance'
  | 'completing-rebalance'
  | 'dead';

// DescribeGroups (12)
export interface DescribeGroupsRequest {
  groupIds: string[];
}
export interface GroupDescription extends ErrorFields {
  groupId: string;
  state: GroupState;
  groupEpoch: number;
  assignor: string;
  members: Array<{
    memberId: string;
    clientId: string;
    memberEpoch: number;
    subscription: string[];
    assignment: TopicPartitions[];
    /** The address the member connects from (both kinds of group). */
    clientHost?: string;
    // Classic groups only: the static instance id, and the member's protocol metadata and
    // assignment as the Kafka client sent them (opaque bytes).
    groupInstanceId?: string | null;
    metadata?: Uint8Array;
    assignmentBytes?: Uint8Array;
  }>;
  offsets: Array<{
    topic: string;
    partition: number;
    committed: number; // -1 = none
    logEndOffset: number;
    lag: number;
    memberId: string; // '' when unassigned
  }>;
  // Classic groups only (groupEpoch is then the generation, assignor the selected protocol).
  kind?: 'classic';
  protocolType?: string;
}
export interface DescribeGroupsResponse extends ErrorFields {
  groups: GroupDescription[];
}

// DeleteGroups (13): only an empty group can be deleted (NON_EMPTY_GROUP otherwise).
export interface DeleteGroupsRequest {
  groupIds: string[];
}
export interface DeleteGroupsResponse extends ErrorFields {
  groups: Array<{ groupId: string } & ErrorFields>;
}

// ResetOffsets (14): only while the group has no active members (NON_EMPTY_GROUP).
// partitions absent = every partition of the topic.
export interface ResetOffsetsRequest {
  groupId: string;
  topic: string;
  partitions?: number[];
  to: { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: number } | { kind: 'timestamp'; timestamp: number };
}
export interface ResetOffsetsResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number; offset: number } & ErrorFields>;
}

// AlterConfigs (15): sets the given topic configs (Kafka names, as CreateTopics); the
// others keep their values (Kafka's IncrementalAlterConfigs SET, not the legacy replace).
// `groups`: share group configs `share.record.lock.duration.ms` (1,000..3,600,000) and
// `share.delivery.count.limit` (2..10), the same SET semantics.
export interface AlterConfigsRequest {
  topics: Array<{ name: string; config: Record<string, string | number> }>;
  groups?: Array<{ name: string; config: Record<string, string | number> }>;
}
export interface AlterConfigsResponse extends ErrorFields {
  topics: Array<{ name: string } & ErrorFields>;
  groups?: Array<{ name: string } & ErrorFields>;
}

// CreatePartitions (16): grows each topic to `count` partitions in total (never shrinks).
export interface CreatePartitionsRequest {
  topics: Array<{ name: string; count: number }>;
}
export interface CreatePartitionsResponse extends ErrorFields {
  topics: Array<{ name: string } & ErrorFields>;
}

// DeleteRecords (17): moves each partition's log start offset up to `offset` (-1 = the
// log end, i.e. everything); records below it are gone for good. `lowWatermark` is the
// new log start offset.
export interface DeleteRecordsRequest {
  partitions: Array<{ topic: string; partition: number; offset: number }>;
}
export interface DeleteRecordsResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number; lowWatermark: number } & ErrorFields>;
}

// DescribeCluster (18): the broker(s), its version, and how many topics, partitions and
// groups it holds (internal topics not counted).
export type DescribeClusterRequest = Record<string, never>;
export interface DescribeClusterResponse extends ErrorFields {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  brokerVersion: string;
  topics: number;
  partitions: number;
  groups: number;
}

// ShareFetch (40): acquire records for a share-group member (src/groups/README.md "Share
// groups"). Payload of the response: for each entry of `partitions`, `size` bytes of
// whole record batches covering its `acquired` ranges (they may hold other offsets: skip
// those). The broker parks the request until something is acquired or maxWaitMs passes.
export interface ShareFetchRequest {
  groupId: string;
  /** Chosen by the client (a UUID), the same for the member's life. */
  memberId: string;
  maxWaitMs: number;
  maxRecords: number;
  maxBytes: number;
  partitions: Array<{ topic: string; partition: number }>;
  /**
   * The group's config (Kafka's share.record.lock.duration.ms / share.delivery.count.limit),
   * applied only if the group has none yet (a member's first fetch); the broker-wide values otherwise.
   */
  groupConfig?: { lockDurationMs?: number; deliveryLimit?: number };
  /**
   * Acknowledgements of records acquired earlier (ShareAcknowledge's `partitions`), applied
   * and durable before anything is acquired: a consumer acks one acquisition and asks for
   * the next in one round trip (Kafka's ShareFetch AcknowledgementBatches).
   */
  acknowledgements?: ShareAcknowledgeRequest['partitions'];
}
export interface ShareAcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}
export interface ShareFetchPartitionResult extends ErrorFields {
  topic: string;
  partition: number;
  size: number;
  acquired: ShareAcquiredRange[];
}
export interface ShareFetchResponse extends ErrorFields {
  partitions: ShareFetchPartitionResult[];
  /** The answer to the request's `acknowledgements` (ShareAcknowledge's), present when it had them. */
  acknowledgements?: ShareAcknowledgeResponse['partitions'];
}

// ShareAcknowledge (41): type 1 accept, 2 release (delayMs optional), 3 reject (to the
// dead-letter topic), 4 renew the lock; error = the consumer's error text (dead letters
// carry it). leave: after the ranges, release everything the member still holds.
export interface ShareAcknowledgeRange {
  firstOffset: number;
  lastOffset: number;
  type: 1 | 2 | 3 | 4;
  delayMs?: number;
  error?: string;
}
export interface ShareAcknowledgeRequest {
  groupId: string;
  memberId: string;
  partitions: Array<{ topic: string; partition: number; ranges: ShareAcknowledgeRange[] }>;
  leave?: boolean;
}
export interface ShareAcknowledgeResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number } & ErrorFields>;
}

// DescribeShareGroups (42): per group its members (seen lately), per share-partition the
// start offset, records in flight and acquired, the delivery-count histogram of the
// records in flight ([count, records] pairs), and the dead-letter topic's depth (its log
// end offset; 0 before the first dead letter). An unknown group: GROUP_ID_NOT_FOUND. In a
// cluster each broker answers what it knows (the share-partitions it leads, live; the
// stored ones when it coordinates the group): the SDK asks every broker and merges.
export interface DescribeShareGroupsRequest {
  groupIds: string[];
}
export interface ShareGroupDescription extends ErrorFields {
  groupId: string;
  members: string[];
  deadLetterTopic: string;
  deadLetters: number;
  /** The group's lock duration and delivery limit in force (absent from older brokers). */
  lockDurationMs?: number;
  deliveryLimit?: number;
  partitions: Array<{
    topic: string;
    partition: number;
    startOffset: number;
    inFlight: number;
    acquired: number;
    deliveryCounts: Array<[number, number]>;
    /** True: the partition's leader answered from its live state; false: the share coordinator's stored state (nothing acquired). */
    live?: boolean;
  }>;
  /** True when the answering broker is the group's share coordinator (its config is the one in force). */
  coordinator?: boolean;
}
export interface DescribeShareGroupsResponse extends ErrorFields {
  groups: ShareGroupDescription[];
}

// InitProducerId (43): a new producer id with epoch 0 for an idempotent producer (the
// broker ignores producerId/producerEpoch: a restarted producer gets a new id, as Kafka
// does for a producer without a transactional id). Transactions are not supported.
export interface InitProducerIdRequest {
  transactionalId?: string | null;
  producerId?: number;
  producerEpoch?: number;
}
export interface InitProducerIdResponse extends ErrorFields {
  producerId: number;
  producerEpoch: number;
}

// ACLs (48-50): Kafka's model (src/security/README.md "ACLs"). resourceType Topic | Group |
// Cluster | TransactionalId; patternType literal | prefixed; operation All | Read | Write |
// Create | Delete | Alter | Describe | DescribeConfigs | AlterConfigs | IdempotentWrite;
// permission allow | deny. A filter's null field matches anything. Needs Describe (48) or
// Alter (49, 50) on the cluster.
export interface AclBindingWire {
  principal: string;
  host: string;
  resourceType: string;
  resourceName: string;
  patternType: string;
  operation: string;
  permission: string;
}
export interface AclFilterWire {
  principal: string | null;
  host: string | null;
  resourceType: string | null;
  resourceName: string | null;
  patternType: string | null;
  operation: string | null;
  permission: string | null;
}
export interface DescribeAclsRequest {
  filter: AclFilterWire;
}
export interface DescribeAclsResponse extends ErrorFields {
  acls: AclBindingWire[];
}
export interface CreateAclsRequest {
  acls: AclBindingWire[];
}
export interface CreateAclsResponse extends ErrorFields {
  results: ErrorFields[];
}
export interface DeleteAclsRequest {
  filters: AclFilterWire[];
}
export interface DeleteAclsResponse extends ErrorFields {
  results: Array<ErrorFields & { deleted: AclBindingWire[] }>;
}

// Client quotas (51-52): byte rates per user, client id, or both (src/security/README.md
// "Quotas"). A rate of null removes it. Needs DescribeConfigs (51) or AlterConfigs (52) on
// the cluster. Produce and Fetch answers carry throttleTimeMs when the quota was exceeded.
export interface QuotaRatesWire {
  producer_byte_rate?: number | null;
  consumer_byte_rate?: number | null;
}
export type DescribeClientQuotasRequest = Record<string, never>;
export interface DescribeClientQuotasResponse extends ErrorFields {
  quotas: Array<{ user: string | null; clientId: string | null; rates: { producer_byte_rate?: number; consumer_byte_rate?: number } }>;
}
export interface AlterClientQuotasRequest {
  entries: Array<{ user: string | null; clientId: string | null; rates: QuotaRatesWire }>;
}
export interface AlterClientQuotasResponse extends ErrorFields {
  results: ErrorFields[];
}

// SaslHandshake (44): the first request on a connection to a broker with SASL on (after
// ApiVersions, if any). `mechanism`: SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN (PLAIN only over
// TLS). The answer names the mechanisms this connection may use, also on error
// (UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE), after which the connection closes if it
// has not authenticated yet (with SASL off, or after authentication, it stays open).
export interface SaslHandshakeRequest {
  mechanism: string;
}
export interface SaslHandshakeResponse extends ErrorFields {
  mechanisms: string[];
}

// SaslAuthenticate (45): one message of the mechanism (SCRAM: client-first, then
// client-final; PLAIN: one message), bytes as in Kafka's SaslAuthenticate. The answer is the
// server's message (SCRAM server-first, server-final; PLAIN empty). Any failure:
// SASL_AUTHENTICATION_FAILED (or ILLEGAL_SASL_STATE), then the connection closes (if it has
// not authenticated yet, as above, or it was a re-authentication).
export interface SaslAuthenticateRequest {
  authBytes: Uint8Array;
}
export interface SaslAuthenticateResponse extends ErrorFields {
  authBytes: Uint8Array;
  /**
   * In the answer that completes the exchange, when the broker runs --connections-max-reauth-ms:
   * ms until the session ends unless the client authenticates again on the same connection
   * (SaslHandshake with the same mechanism, then SaslAuthenticate; Kafka's KIP-368). Absent: no expiry.
   */
  sessionLifetimeMs?: number;
}

// DescribeUserScramCredentials (46): users null/absent/empty = every user. An unknown user:
// USER_NOT_FOUND in its entry. Never salts or keys: only mechanisms and iteration counts.
export interface DescribeUserScramCredentialsRequest {
  users?: string[] | null;
}
export interface UserScramCredentialsDescription extends ErrorFields {
  user: string;
  credentials: Array<{ mechanism: string; iterations: number }>;
}
export interface DescribeUserScramCredentialsResponse extends ErrorFields {
  users: UserScramCredentialsDescription[];
}

// AlterUserScramCredentials (47), as Kafka's: the client salts the password (salt and
// SaltedPassword = Hi(password, salt, iterations)); the broker derives and keeps StoredKey and
// ServerKey, so the password never travels. One result per entry, deletions first, in order.
export interface AlterUserScramCredentialsRequest {
  deletions?: Array<{ user: string; mechanism: string }>;
  upsertions?: Array<{ user: string; mechanism: string; iterations: number; salt: Uint8Array; saltedPassword: Uint8Array }>;
}
export interface AlterUserScramCredentialsResponse extends ErrorFields {
  results: Array<{ user: string; mechanism: string } & ErrorFields>;
}

// ReplicaFetch (60): a follower broker (replicaId) fetches from the leader. Per partition:
// the leader epoch the follower follows (older than the leader's: FENCED_LEADER_EPOCH,
// newer: UNKNOWN_LEADER_EPOCH) and its log end (fetchOffset), which the leader records to
// advance the high watermark. Payload of the response: for each entry of `partitions`,
// `size` bytes of whole batches from fetchOffset, read up to the leader's log end (not its
// high watermark). The leader parks the request like a Fetch (minBytes, maxWaitMs). A
// follower lists every partition it follows from this leader; each is answered with its
// own error, bounded by its maxBytes and what is left of the request's (src/protocol/README.md
// "Replication").
export interface ReplicaFetchRequest {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: Array<{ topic: string; partition: number; leaderEpoch: number; fetchOffset: number; maxBytes: number }>;
}
export interface ReplicaFetchPartitionResult extends ErrorFields {
  topic: string;
  partition: number;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  size: number;
}
export interface ReplicaFetchResponse extends ErrorFields {
  partitions: ReplicaFetchPartitionResult[];
}

// OffsetForLeaderEpoch (61): where `leaderEpoch` ends in the leader's log (Kafka's
// OffsetForLeaderEpoch: the largest epoch <= it and the start of the next one, or the log
// end for the latest; -1/-1 when unknown). currentLeaderEpoch fences like ReplicaFetch.
export interface OffsetForLeaderEpochRequest {
  replicaId: number;
  partitions: Array<{ topic: string; partition: number; currentLeaderEpoch: number; leaderEpoch: number }>;
}
export interface OffsetForLeaderEpochResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number; leaderEpoch: number; endOffset: number } & ErrorFields>;
}

// Share-group state between brokers (62-65; src/groups/README.md "Share groups in a
// cluster"): the leader of a data partition serves its share-partitions and keeps their
// durable state at the group's share coordinator (the leader of the group's
// __share_group_state partition). `runs` is the in-flight window as [length, state,
// deliveryCount] triples from startOffset on (state 0 Available, 2 Acknowledged, 4
// Archived), the same runs as the stored value. Errors: NOT_COORDINATOR (ask the new
// coordinator), FENCED_LEADER_EPOCH (a newer leader took the share-partition up),
// FENCED_STATE_EPOCH (an admin reset: read again).
export type ShareStateRunTriple = [length: number, state: number, deliveryCount: number];
export interface ShareGroupConfigFields {
  lockDurationMs?: number;
  deliveryLimit?: number;
}
/** ReadShareGroupState (62): a leader takes a share-partition up. */
export interface ReadShareGroupStateRequest {
  groupId: string;
  topic: string;
  partition: number;
  leaderEpoch: number;
}
export interface ReadShareGroupStateResponse extends ErrorFields {
  stateEpoch: number;
  /** -1 with no runs: never written (the share-partition starts at the log start). */
  startOffset: number;
  runs: ShareStateRunTriple[];
  config: ShareGroupConfigFields;
}
/** WriteShareGroupState (63): snapshots, each fenced on its own; answered once durable on the in-sync replicas. */
export interface WriteShareGroupStateRequest {
  groupId: string;
  partitions: Array<{ topic: string; partition: number; leaderEpoch: number; stateEpoch: number; startOffset: number; runs: ShareStateRunTriple[] }>;
}
export interface WriteShareGroupStateResponse extends ErrorFields {
  partitions: Array<{ topic: string; partition: number } & ErrorFields>;
  /** The group's config in force: how a config change reaches the leaders. */
  config: ShareGroupConfigFields;
}
/** ConfigureShareGroup (64): set the group's config (onlyIfUnset: a member's first fetch). */
export interface ConfigureShareGroupRequest extends ShareGroupConfigFields {
  groupId: string;
  onlyIfUnset: boolean;
}
export interface ConfigureShareGroupResponse extends ErrorFields {
  config: ShareGroupConfigFields;
}
/** ResetShareGroupState (65): an admin reset of share-partitions' start offsets (bumps their state epochs). */
export interface ResetShareGroupStateRequest {
  groupId: string;
  topic: string;
  partitions: Array<{ partition: number; offset: number }>;
}
export type ResetShareGroupStateResponse = ErrorFields;
/**
 * AppendDeadLetters (66): a share-partition leader's dead letters for `<groupId>.dlq`
 * partition 0, sent to that partition's leader; payload: `size` bytes of record batches.
 * Answered once the in-sync replicas hold them (acks=all). Brokers only (Alter on the
 * cluster, as replication): the inter-broker user needs no Write ACL on every DLQ.
 */
export interface AppendDeadLettersRequest {
  groupId: string;
  size: number;
}
export interface AppendDeadLettersResponse extends ErrorFields {
  baseOffset: number;
}

// FindCoordinator (69): the broker coordinating a group: on a single node the broker asked;
// in a cluster the leader of the group's partition of __consumer_offsets (share: of
// __share_group_state). COORDINATOR_NOT_AVAILABLE while that partition has no leader.
export interface FindCoordinatorRequest {
  groupId: string;
  /** A share group (its state topic decides); default false. */
  share?: boolean;
}
export interface FindCoordinatorResponse extends ErrorFields {
  nodeId: number;
  host: string;
  port: number;
}
