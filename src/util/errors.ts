// The one table of named operating errors, shared by storage, broker, groups and client.
// A bug is an assertion (util/assert.ts); an expected operating error is one of these.
// Numeric codes travel on the wire; names are what code and users read.

export interface ErrorKind {
  readonly name: string;
  readonly code: number;
  readonly retriable: boolean;
  readonly message: string;
}

function kind(name: string, code: number, retriable: boolean, message: string): ErrorKind {
  return Object.freeze({ name, code, retriable, message });
}

export const Errors = {
  NONE: kind('NONE', 0, false, 'no error'),
  UNKNOWN: kind('UNKNOWN', 1, false, 'an unexpected server error'),
  OFFSET_OUT_OF_RANGE: kind('OFFSET_OUT_OF_RANGE', 2, false, 'the requested offset is outside the log'),
  CORRUPT_MESSAGE: kind('CORRUPT_MESSAGE', 3, false, 'a record batch failed validation (magic, length or CRC)'),
  UNKNOWN_TOPIC: kind('UNKNOWN_TOPIC', 4, false, 'the topic does not exist'),
  UNKNOWN_PARTITION: kind('UNKNOWN_PARTITION', 5, false, 'the partition does not exist'),
  INVALID_TOPIC: kind('INVALID_TOPIC', 6, false, 'the topic name is invalid'),
  TOPIC_ALREADY_EXISTS: kind('TOPIC_ALREADY_EXISTS', 7, false, 'the topic already exists'),
  INVALID_PARTITIONS: kind('INVALID_PARTITIONS', 8, false, 'the number of partitions is invalid'),
  INVALID_CONFIG: kind('INVALID_CONFIG', 9, false, 'a topic configuration value is invalid'),
  MESSAGE_TOO_LARGE: kind('MESSAGE_TOO_LARGE', 10, false, 'a record batch is larger than max.message.bytes'),
  RECORD_LIST_TOO_LARGE: kind('RECORD_LIST_TOO_LARGE', 11, false, 'the request is larger than the broker accepts'),
  INVALID_REQUEST: kind('INVALID_REQUEST', 12, false, 'the request is malformed'),
  UNSUPPORTED_VERSION: kind('UNSUPPORTED_VERSION', 13, false, 'the api key or version is not supported'),
  UNSUPPORTED_COMPRESSION: kind('UNSUPPORTED_COMPRESSION', 14, false, 'the compression codec is not supported'),
  REQUEST_TIMED_OUT: kind('REQUEST_TIMED_OUT', 15, true, 'the request timed out'),
  NETWORK_ERROR: kind('NETWORK_ERROR', 16, true, 'the connection failed or was closed'),
  BROKER_NOT_AVAILABLE: kind('BROKER_NOT_AVAILABLE', 17, true, 'the broker is not reachable'),
  KAFKA_STORAGE_ERROR: kind('KAFKA_STORAGE_ERROR', 18, true, 'the partition is offline after a disk error'),
  NOT_ENOUGH_SPACE: kind('NOT_ENOUGH_SPACE', 19, true, 'the disk is full'),
  SHUTTING_DOWN: kind('SHUTTING_DOWN', 20, true, 'the broker is shutting down'),
  TOO_MANY_REQUESTS: kind('TOO_MANY_REQUESTS', 21, true, 'too many requests in flight on this connection'),
  INVALID_TIMESTAMP: kind('INVALID_TIMESTAMP', 22, false, 'the timestamp is invalid'),
  INVALID_RECORD: kind('INVALID_RECORD', 23, false, 'a record in the batch is invalid'),
  DATA_DIR_LOCKED: kind('DATA_DIR_LOCKED', 28, false, 'the data directory is in use by another process'),
  // Cluster mode, at start (the cluster range 80-89 is full): the data directory's meta/cluster-replicas names another cluster or node id.
  INCONSISTENT_CLUSTER_ID: kind('INCONSISTENT_CLUSTER_ID', 24, false, 'the data directory belongs to another cluster (or node id)'),
  // Consumer groups.
  INVALID_GROUP_ID: kind('INVALID_GROUP_ID', 30, false, 'the group id is invalid'),
  GROUP_ID_NOT_FOUND: kind('GROUP_ID_NOT_FOUND', 31, false, 'the group does not exist'),
  UNKNOWN_MEMBER_ID: kind('UNKNOWN_MEMBER_ID', 32, false, 'the member is not (or no longer) in the group'),
  FENCED_MEMBER_EPOCH: kind('FENCED_MEMBER_EPOCH', 33, false, 'the member epoch is stale: the member was fenced'),
  STALE_MEMBER_EPOCH: kind('STALE_MEMBER_EPOCH', 34, true, 'the member epoch is older than the current one'),
  NON_EMPTY_GROUP: kind('NON_EMPTY_GROUP', 35, false, 'the group still has active members'),
  INVALID_SESSION_TIMEOUT: kind('INVALID_SESSION_TIMEOUT', 36, false, 'the session timeout is outside the broker limits'),
  UNSUPPORTED_ASSIGNOR: kind('UNSUPPORTED_ASSIGNOR', 37, false, 'the assignor is not known'),
  COORDINATOR_LOAD_IN_PROGRESS: kind('COORDINATOR_LOAD_IN_PROGRESS', 38, true, 'the group coordinator is loading'),
  // Classic groups (JoinGroup/SyncGroup, Kafka's names and meanings).
  INCONSISTENT_GROUP_PROTOCOL: kind('INCONSISTENT_GROUP_PROTOCOL', 39, false, 'the group is of another kind, or its protocol type or protocols do not match'),
  ILLEGAL_GENERATION: kind('ILLEGAL_GENERATION', 40, false, 'the generation id is not the group\'s current one; rejoin'),
  REBALANCE_IN_PROGRESS: kind('REBALANCE_IN_PROGRESS', 41, false, 'the group is rebalancing; rejoin'),
  MEMBER_ID_REQUIRED: kind('MEMBER_ID_REQUIRED', 42, false, 'join again with the member id given in this response'),
  FENCED_INSTANCE_ID: kind('FENCED_INSTANCE_ID', 43, false, 'another member joined with the same group instance id'),
  GROUP_MAX_SIZE_REACHED: kind('GROUP_MAX_SIZE_REACHED', 44, false, 'the group has reached its maximum number of members'),
  COORDINATOR_NOT_AVAILABLE: kind('COORDINATOR_NOT_AVAILABLE', 45, true, 'the group coordinator is not available (closing, or the group was removed)'),
  // Client side only (never on the wire): the address answered, but not in the spool protocol.
  NOT_A_SPOOL_BROKER: kind('NOT_A_SPOOL_BROKER', 50, false, 'the address does not speak the spool protocol'),
  // Share groups (per-record acknowledgement; codes kept apart from other additions).
  INVALID_RECORD_STATE: kind('INVALID_RECORD_STATE', 60, false, 'the record is not acquired by this member (its lock expired, or it was never acquired)'),
  // Idempotent producer (storage/producer-state.ts).
  OUT_OF_ORDER_SEQUENCE_NUMBER: kind('OUT_OF_ORDER_SEQUENCE_NUMBER', 61, false, 'the batch sequence number does not follow the producer\'s last one on this partition'),
  INVALID_PRODUCER_EPOCH: kind('INVALID_PRODUCER_EPOCH', 62, false, 'the producer epoch is older than the partition\'s: a newer producer with this id fenced it'),
  PRODUCER_FENCED: kind('PRODUCER_FENCED', 63, false, 'a newer instance of this producer fenced this one'),
  // Authorisation (src/security/README.md "ACLs"): Kafka's three codes.
  TOPIC_AUTHORIZATION_FAILED: kind('TOPIC_AUTHORIZATION_FAILED', 73, false, 'the principal is not authorised for this operation on the topic'),
  GROUP_AUTHORIZATION_FAILED: kind('GROUP_AUTHORIZATION_FAILED', 74, false, 'the principal is not authorised for this operation on the group'),
  CLUSTER_AUTHORIZATION_FAILED: kind('CLUSTER_AUTHORIZATION_FAILED', 75, false, 'the principal is not authorised for this operation on the cluster'),
  // Authentication (SASL; src/security/README.md "SASL").
  SASL_AUTHENTICATION_FAILED: kind('SASL_AUTHENTICATION_FAILED', 64, false, 'authentication failed (wrong user name or password, or the connection is not authenticated)'),
  UNSUPPORTED_SASL_MECHANISM: kind('UNSUPPORTED_SASL_MECHANISM', 65, false, 'the SASL mechanism is not enabled on this listener'),
  ILLEGAL_SASL_STATE: kind('ILLEGAL_SASL_STATE', 66, false, 'the SASL request is out of order for the exchange'),
  USER_NOT_FOUND: kind('USER_NOT_FOUND', 67, false, 'the user has no SCRAM credential'),
  UNACCEPTABLE_CREDENTIAL: kind('UNACCEPTABLE_CREDENTIAL', 68, false, 'the credential is not acceptable (user name, mechanism, iterations or salt)'),
  DUPLICATE_USER: kind('DUPLICATE_USER', 69, false, 'a user and mechanism is named twice in one request'),
  // TLS (security/tls.ts on the broker, client/connection.ts on the client). Never on the wire.
  TLS_CONFIG_INVALID: kind('TLS_CONFIG_INVALID', 70, false, 'a TLS certificate, key or CA file is missing or invalid'),
  TLS_HANDSHAKE_FAILED: kind('TLS_HANDSHAKE_FAILED', 71, false, 'the TLS handshake with the broker failed (certificate not trusted, plaintext port, or client certificate refused)'),
  // Replication (cluster: storage's replica primitives, broker/core/replica-fetch.ts).
  NOT_LEADER_OR_FOLLOWER: kind('NOT_LEADER_OR_FOLLOWER', 80, true, 'this broker is not the leader (or a follower) of the partition'),
  NOT_ENOUGH_REPLICAS: kind('NOT_ENOUGH_REPLICAS', 81, true, 'fewer in-sync replicas than min.insync.replicas'),
  FENCED_LEADER_EPOCH: kind('FENCED_LEADER_EPOCH', 82, false, 'the leader epoch in the request is older than the broker\'s'),
  UNKNOWN_LEADER_EPOCH: kind('UNKNOWN_LEADER_EPOCH', 83, true, 'the leader epoch in the request is newer than the broker\'s'),
  UNEXPECTED_APPEND_OFFSET: kind('UNEXPECTED_APPEND_OFFSET', 84, false, 'a replica\'s batches do not continue its log (first offset is not the log end, or offsets go backwards)'),
  // Cluster mode (src/cluster): membership, controller and partition state in etcd.
  CLUSTER_UNAVAILABLE: kind('CLUSTER_UNAVAILABLE', 85, true, 'the cluster store (etcd) is not reachable'),
  INVALID_REPLICATION_FACTOR: kind('INVALID_REPLICATION_FACTOR', 86, false, 'the replication factor is below 1 or above the number of live brokers'),
  STATE_CHANGED: kind('STATE_CHANGED', 87, true, 'the cluster state changed since it was read (a compare-and-swap lost); read it again'),
  LEASE_LOST: kind('LEASE_LOST', 88, true, 'this broker lost its membership lease in the cluster store'),
  // Cluster mode, groups: the group's coordinator is the leader of its internal-topic partition (src/groups/coordinator-placement.ts).
  NOT_COORDINATOR: kind('NOT_COORDINATOR', 89, true, 'this broker is not the coordinator of the group: find it again (FindCoordinator)'),
  // Share groups in a cluster (src/groups/README.md "Share groups in a cluster"): an admin reset bumped the share-partition's state epoch.
  FENCED_STATE_EPOCH: kind('FENCED_STATE_EPOCH', 90, true, 'the share-partition state was reset since this leader read it: read it again'),
} as const;

export type ErrorName = keyof typeof Errors;

const byCode = new Map<number, ErrorKind>(Object.values(Errors).map((e) => [e.code, e]));

export function errorByCode(code: number): ErrorKind {
  return byCode.get(code) ?? Errors.UNKNOWN;
}

/** An expected operating error: a stable `code` name, the numeric wire code, and a message. */
export class SpoolError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly errorCode: number;
  readonly retriable: boolean;

  constructor(kind: ErrorKind, message?: string, options?: { cause?: unknown }) {
    super(message ?? kind.message, options);
    this.name = 'SpoolError';
    this.kind = kind;
    this.code = kind.name;
    this.errorCode = kind.code;
    this.retriable = kind.retriable;
  }

  static fromCode(code: number, message?: string): SpoolError {
    return new SpoolError(errorByCode(code), message);
  }
}

export function isSpoolError(error: unknown, kind?: ErrorKind): error is SpoolError {
  return error instanceof SpoolError && (kind === undefined || error.kind === kind);
}
