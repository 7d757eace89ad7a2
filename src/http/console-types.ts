// The console API's JSON shapes (console-api.ts answers them; the console's browser code in
// src/console/ imports them as types only, so one definition serves both ends).

export interface BrokerSummary {
  nodeId: number;
  host: string;
  port: number;
  /** "native 127.0.0.1:9400", "kafka 127.0.0.1:9092" */
  listeners: string[];
  dataDir: string;
}

export interface Overview {
  brokers: BrokerSummary[];
  topics: number;
  partitions: number;
  sizeBytes: number;
  /** Sum over partitions of log end minus log start (records still in the log, compaction aside). */
  messages: number;
  groups: number;
  nowMs: number;
}

export interface TopicSummary {
  name: string;
  partitions: number;
  sizeBytes: number;
  messages: number;
}

export interface PartitionDetail {
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  sizeBytes: number;
  segments: number;
}

export interface TopicDetail {
  name: string;
  /** Empty when `configAuthorized` is false. */
  config: Record<string, string | number>;
  /** False when the principal may Describe the topic but not DescribeConfigs (ACLs on). */
  configAuthorized: boolean;
  partitions: PartitionDetail[];
}

/** A topic's configs after a change (POST /api/topics/<name>/config). */
export interface TopicConfig {
  name: string;
  config: Record<string, string | number>;
}

/** A key, value or header value: text when it is UTF-8 without control characters, else hex. */
export type ShownBytes = ({ text: string } | { hex: string }) & { bytes: number; truncated: boolean };

export interface ShownRecord {
  offset: number;
  timestamp: number;
  key: ShownBytes | null;
  value: ShownBytes | null;
  headers: Array<{ key: string; value: ShownBytes | null }>;
}

export interface MessagesPage {
  topic: string;
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  /** `before` for the next older page; null at the log start. */
  olderBeforeOffset: number | null;
  /** Newest first. */
  records: ShownRecord[];
}

export interface GroupListing {
  groupId: string;
  state: string;
  members: number;
  kind?: 'classic';
}

export interface GroupDescription {
  groupId: string;
  state: string;
  groupEpoch: number;
  assignor: string;
  members: Array<{ memberId: string; clientId: string; memberEpoch: number; subscription: string[]; assignment: Array<{ topic: string; partitions: number[] }> }>;
  offsets: Array<{ topic: string; partition: number; committed: number; logEndOffset: number; lag: number; memberId: string }>;
}

export interface ShareGroupListing {
  groupId: string;
  members: number;
  partitions: number;
  inFlight: number;
  deadLetterTopic: string;
  /** Records in the dead-letter topic (its log end; 0 while it does not exist). */
  deadLetters: number;
}

export interface ShareGroupDetail {
  groupId: string;
  members: string[];
  deadLetterTopic: string;
  deadLetters: number;
  /** Whether the dead-letter topic exists (its messages can be browsed). */
  deadLetterTopicExists: boolean;
  partitions: Array<{ topic: string; partition: number; startOffset: number; inFlight: number; acquired: number; logEndOffset: number; deliveryCounts: Array<[number, number]> }>;
}

export type ResetTarget = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: number } | { kind: 'timestamp'; timestamp: number };

export interface ResetResult {
  groupId: string;
  topic: string;
  dryRun: boolean;
  partitions: Array<{ partition: number; offset: number }>;
}

export interface ApiError {
  error: { name: string; code: number; message: string };
}
