// Values of the etcd keys: UTF-8 JSON objects, each with a format version `v` (1). JSON because
// the values are small (a partition state is ~60 bytes), written on the control path only,
// and an operator can read them with etcdctl. A decoder checks the shape and returns null for
// a value it does not understand (a newer version, or a hand-edited key): the caller skips the
// key and logs it, rather than acting on state it cannot read.

export const VALUE_FORMAT_VERSION = 1;

/** No leader: every in-sync replica is gone (unclean election is off). */
export const NO_LEADER = -1;

export interface BrokerRegistration {
  readonly nodeId: number;
  /** Native protocol address clients and followers use. */
  readonly host: string;
  readonly port: number;
  /** Kafka listener's advertised address, when the broker has one. */
  readonly kafkaHost?: string;
  readonly kafkaPort?: number;
  /** Random per process start: tells a restarted broker from the one before. */
  readonly incarnation: string;
}

export interface ControllerRecord {
  readonly nodeId: number;
  readonly incarnation: string;
}

export interface TopicSpec {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface TopicAssignment {
  /** replicas[p] = node ids of partition p's replicas; the first is the preferred leader. */
  readonly replicas: readonly (readonly number[])[];
}

export interface PartitionState {
  /** Node id of the leader, or NO_LEADER. */
  readonly leader: number;
  /** Bumped by every leader change (Kafka's leader epoch); stamped on the leader's batches. */
  readonly leaderEpoch: number;
  /** In-sync replicas, leader included; never empty (an offline partition keeps its last). */
  readonly isr: readonly number[];
  /** Epoch of the controller that last wrote the leader (for logs and describe). */
  readonly controllerEpoch: number;
}

export function encodeValue(value: object): Buffer {
  return Buffer.from(JSON.stringify({ v: VALUE_FORMAT_VERSION, ...value }), 'utf8');
}

function parse(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const record = value as Record<string, unknown>;
    return record['v'] === VALUE_FORMAT_VERSION ? record : null;
  } catch {
    // Not JSON: the caller treats the key as unreadable, which is what null says.
    return null;
  }
}

const isNodeId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1;
const isPort = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
const isNodeList = (value: unknown): value is number[] => Array.isArray(value) && value.every(isNodeId) && new Set(value).size === value.length;

export function decodeBrokerRegistration(bytes: Buffer): BrokerRegistration | null {
  const value = parse(bytes);
  if (!value || !isNodeId(value['nodeId']) || typeof value['host'] !== 'string' || !isPort(value['port']) || typeof value['incarnation'] !== 'string') return null;
  const registration: BrokerRegistration = { nodeId: value['nodeId'], host: value['host'], port: value['port'], incarnation: value['incarnation'] };
  if (typeof value['kafkaHost'] === 'string' && isPort(value['kafkaPort'])) return { ...registration, kafkaHost: value['kafkaHost'], kafkaPort: value['kafkaPort'] };
  return registration;
}

export function decodeControllerRecord(bytes: Buffer): ControllerRecord | null {
  const value = parse(bytes);
  if (!value || !isNodeId(value['nodeId']) || typeof value['incarnation'] !== 'string') return null;
  return { nodeId: value['nodeId'], incarnation: value['incarnation'] };
}

export function decodeTopicSpec(bytes: Buffer): TopicSpec | null {
  const value = parse(bytes);
  if (!value || !isCount(value['partitions']) || !isCount(value['replicationFactor']) || !isCount(value['minInsyncReplicas'])) return null;
  const configs = value['configs'];
  if (typeof configs !== 'object' || configs === null || Object.values(configs).some((entry) => typeof entry !== 'string')) return null;
  return {
    partitions: value['partitions'],
    replicationFactor: value['replicationFactor'],
    minInsyncReplicas: value['minInsyncReplicas'],
    configs: configs as Record<string, string>,
  };
}

export function decodeTopicAssignment(bytes: Buffer): TopicAssignment | null {
  const value = parse(bytes);
  const replicas = value?.['replicas'];
  if (!Array.isArray(replicas) || replicas.length === 0 || !replicas.every((entry) => isNodeList(entry) && entry.length > 0)) return null;
  return { replicas: replicas as number[][] };
}

export function decodePartitionState(bytes: Buffer): PartitionState | null {
  const value = parse(bytes);
  if (!value) return null;
  const { leader, leaderEpoch, isr, controllerEpoch } = value;
  if (!(leader === NO_LEADER || isNodeId(leader)) || !Number.isSafeInteger(leaderEpoch) || (leaderEpoch as number) < 0) return null;
  if (!isNodeList(isr) || isr.length === 0 || !Number.isSafeInteger(controllerEpoch)) return null;
  if (leader !== NO_LEADER && !isr.includes(leader as number)) return null;
  return { leader: leader as number, leaderEpoch: leaderEpoch as number, isr, controllerEpoch: controllerEpoch as number };
}

/** An operator's request to move a partition's replicas (spool topic reassign). */
export interface ReassignmentRequest {
  /** The replicas wanted, the first the preferred leader. */
  readonly replicas: readonly number[];
  /**
   * The reassignment throttle (`--throttle`, Kafka's KIP-73): bytes per second of catch-up
   * fetching on each broker following this partition out of its ISR while the request is
   * pending. Absent: unthrottled. Gone with the request, so cleared when the move completes.
   */
  readonly throttleBytesPerSecond?: number;
}

/** The smallest reassignment throttle (below it one batch would wait for seconds). */
export const MIN_THROTTLE_BYTES_PER_SECOND = 1024;
/** The largest (1 TiB/s: a bound to check, not a speed). */
export const MAX_THROTTLE_BYTES_PER_SECOND = 2 ** 40;

export function isThrottleBytesPerSecond(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= MIN_THROTTLE_BYTES_PER_SECOND && (value as number) <= MAX_THROTTLE_BYTES_PER_SECOND;
}

/** An operator's request for preferred-leader election (spool cluster elect-leaders). */
export interface ElectionRequest {
  /** The topics to elect in; null: every topic. */
  readonly topics: readonly string[] | null;
}

export function decodeReassignmentRequest(bytes: Buffer): ReassignmentRequest | null {
  const value = parse(bytes);
  const replicas = value?.['replicas'];
  if (!isNodeList(replicas) || replicas.length === 0) return null;
  const throttle = value?.['throttleBytesPerSecond'];
  if (throttle === undefined) return { replicas };
  // A throttle that does not decode skips the whole request (acting on it unthrottled could swamp the leader).
  if (!isThrottleBytesPerSecond(throttle)) return null;
  return { replicas, throttleBytesPerSecond: throttle };
}

export function decodeElectionRequest(bytes: Buffer): ElectionRequest | null {
  const value = parse(bytes);
  if (!value) return null;
  const topics = value['topics'];
  if (topics === null) return { topics: null };
  if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string')) return null;
  return { topics: topics as string[] };
}
