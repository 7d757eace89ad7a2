// The coordinator's domain types: what its methods take and return, independent of any
// wire. The native front (src/broker/groups.ts) and the Kafka front convert their
// requests into these and their answers back. The shapes of the native ones happen to
// match the native wire messages field for field (the native wire was designed from
// them), so the native front passes them through after its shape checks; the classic
// ones are modelled on Kafka's JoinGroup/SyncGroup/Heartbeat/LeaveGroup.
//
// Every result carries `errorCode` (0 = success, else a code of src/util/errors.ts) and,
// on failure, `errorMessage`.

export interface ErrorResult {
  errorCode: number;
  errorMessage?: string;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** The kinds a group id can be; one kind at a time (INCONSISTENT_GROUP_PROTOCOL on mixing). */
export type GroupKindName = 'consumer' | 'classic';

/**
 * Group states as describe/list show them. Consumer (KIP-848) groups: empty, assigning,
 * reconciling, stable. Classic groups: empty, preparing-rebalance, completing-rebalance,
 * stable (Kafka's Empty, PreparingRebalance, CompletingRebalance, Stable). `dead` = no
 * such group.
 */
export type GroupState =
  | 'empty'
  | 'assigning'
  | 'reconciling'
  | 'stable'
  | 'preparing-rebalance'
  | 'completing-rebalance'
  | 'dead';

// --- consumer groups (KIP-848 heartbeat) -----------------------------------------------

export interface ConsumerHeartbeat {
  groupId: string;
  memberId: string; // '' to join
  memberEpoch: number; // 0 join, -1 leave, otherwise the current epoch
  clientId?: string;
  /** The member's address as the broker saw the connection (set by the broker, not read from the wire). */
  clientHost?: string;
  topics?: string[];
  ownedPartitions?: TopicPartitions[];
  sessionTimeoutMs?: number;
  assignor?: 'uniform' | 'range';
}

export interface ConsumerHeartbeatResult extends ErrorResult {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment?: TopicPartitions[];
}

// --- offsets (both kinds) --------------------------------------------------------------

/**
 * An offset commit. `memberEpoch` is the member epoch for a consumer group and the
 * generation id for a classic group (Kafka's generationIdOrMemberEpoch); memberId ''
 * with -1 is a simple (admin / standalone) commit, allowed only while the group has no
 * members. `groupInstanceId` is a classic static member's instance id.
 */
export interface OffsetCommit {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  groupInstanceId?: string | null;
  offsets: Array<{ topic: string; partition: number; offset: number; metadata?: string }>;
}

export interface OffsetCommitResult extends ErrorResult {
  partitions: Array<{ topic: string; partition: number } & ErrorResult>;
}

/** partitions absent = every committed partition of the group. */
export interface OffsetFetch {
  groupId: string;
  partitions?: Array<{ topic: string; partition: number }> | null;
}

export interface OffsetFetchResult extends ErrorResult {
  /** offset -1 and metadata '' = nothing committed. */
  offsets: Array<{ topic: string; partition: number; offset: number; metadata: string } & ErrorResult>;
}

export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; timestamp: number };

export interface ResetOffsets {
  groupId: string;
  topic: string;
  partitions?: number[];
  to: ResetTarget;
  /** Computes and answers the new offsets without writing them (the console's preview). */
  dryRun?: boolean;
}

export interface ResetOffsetsResult extends ErrorResult {
  partitions: Array<{ topic: string; partition: number; offset: number } & ErrorResult>;
}

// --- list / describe / delete (both kinds) ----------------------------------------------

export interface GroupListing {
  groupId: string;
  state: GroupState;
  members: number;
  /** Set for classic and share groups only (consumer groups are the native default). */
  kind?: 'classic' | 'share';
}

export interface ListGroupsResult extends ErrorResult {
  groups: GroupListing[];
}

export interface MemberDescription {
  memberId: string;
  clientId: string;
  /** Consumer groups: the member epoch. Classic groups: the group's generation id. */
  memberEpoch: number;
  /** Consumer groups: the subscription. Classic groups of protocol type `consumer`: decoded from the member metadata when it parses. */
  subscription: string[];
  /** Consumer groups: the assignment. Classic `consumer` groups: decoded from the assignment bytes when they parse. */
  assignment: TopicPartitions[];
  /** The address the member connects from (both kinds of group). */
  clientHost?: string;
  // Classic groups only:
  groupInstanceId?: string | null;
  /** The member's metadata for the group's selected protocol (opaque bytes). */
  metadata?: Buffer;
  /** The bytes the leader assigned to this member (opaque). */
  assignmentBytes?: Buffer;
}

export interface GroupDescription extends ErrorResult {
  groupId: string;
  state: GroupState;
  /** Consumer groups: the group epoch. Classic groups: the generation id. */
  groupEpoch: number;
  /** Consumer groups: the assignor. Classic groups: the selected protocol ('' when none). */
  assignor: string;
  members: MemberDescription[];
  offsets: Array<{
    topic: string;
    partition: number;
    committed: number; // -1 = none
    logEndOffset: number;
    lag: number;
    memberId: string; // '' when unassigned (or unknown: opaque classic assignment)
  }>;
  // Classic groups only:
  kind?: 'classic';
  protocolType?: string;
}

export interface DescribeGroupsResult extends ErrorResult {
  groups: GroupDescription[];
}

export interface DeleteGroupsResult extends ErrorResult {
  groups: Array<{ groupId: string } & ErrorResult>;
}

// --- classic groups (Kafka's JoinGroup / SyncGroup / Heartbeat / LeaveGroup) ------------

export interface ClassicProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroup {
  groupId: string;
  /** '' on a member's first join. */
  memberId: string;
  groupInstanceId?: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** Kafka JoinGroup v0 has none: pass sessionTimeoutMs. */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ClassicProtocol[];
  /**
   * JoinGroup v4+: a first join with memberId '' (and no instance id) is answered with
   * MEMBER_ID_REQUIRED and a member id to join again with. Older versions get the id
   * with the completed join.
   */
  requireKnownMemberId: boolean;
  reason?: string | null;
}

export interface JoinGroupResult extends ErrorResult {
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  /** JoinGroup v9+: the leader need not compute an assignment (static leader replaced in a stable group). */
  skipAssignment: boolean;
  memberId: string;
  /** Only the leader receives the members (with their metadata for the selected protocol). */
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export interface SyncGroup {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
  /** SyncGroup v5+; null = not checked. */
  protocolType?: string | null;
  protocolName?: string | null;
  /** The leader's assignment; empty from followers. */
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface SyncGroupResult extends ErrorResult {
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface ClassicHeartbeat {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
}

export type ClassicHeartbeatResult = ErrorResult;

export interface LeaveGroup {
  groupId: string;
  /** LeaveGroup v0-2 name one member by id; v3+ a batch (static members by instance id, memberId ''). */
  members: Array<{ memberId: string; groupInstanceId?: string | null; reason?: string | null }>;
}

export interface LeaveGroupResult extends ErrorResult {
  members: Array<{ memberId: string; groupInstanceId: string | null } & ErrorResult>;
}
