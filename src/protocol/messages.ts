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
  /** The controller's node id (-1: none); absent from brokers before clusters. */
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
// end offset; 0 before the first dead letter). An unknown group: GROUP_ID_NOT_FOUND.
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
  partitions: Array<{ topic: string; partition: number; startOffset: number; inFlight: number; acquired: number; deliveryCounts: Array<[number, number]> }>;
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

// ReplicaFetch (60): a follower broker (replicaId) fetches from the leader. Per partition:
// the leader epoch the follower follows (older than the leader's: FENCED_LEADER_EPOCH,
// newer: UNKNOWN_LEADER_EPOCH) and its log end (fetchOffset), which the leader records to
// advance the high watermark. Payload of the response: for each entry of `partitions`,
// `size` bytes of whole batches from fetchOffset, read up to the leader's log end (not its
// high watermark). The leader parks the request like a Fetch (minBytes, maxWaitMs).
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
