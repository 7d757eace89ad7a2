// The storage layer's public contract, used by the broker and the group coordinator.
// Storage knows nothing of sockets; it imports only records/ and util/.

import type { Clock } from '../util/clock.js';
import type { StorageFs } from './fs.js';

/** When appended bytes are fsynced. `always` group-commits concurrent appends into one fsync. */
export type FsyncPolicy = { kind: 'always' } | { kind: 'interval'; intervalMs: number } | { kind: 'never' };

export interface TopicConfig {
  /** Delete closed segments older than this; -1 keeps them forever. Default 7 days. */
  retentionMs: number;
  /** Delete oldest closed segments while the partition is larger than this; -1 = no limit. */
  retentionBytes: number;
  /** Roll the active segment when it reaches this size. Default 1 GiB. */
  segmentBytes: number;
  /** Roll the active segment when its first batch is this old. Default 7 days. */
  segmentMs: number;
  cleanupPolicy: 'delete' | 'compact';
  /** Largest record batch accepted. Default 1 MiB + overhead, like Kafka (1048588). */
  maxMessageBytes: number;
  /** How long a tombstone survives compaction. Default 1 day. */
  deleteRetentionMs: number;
  /** An index entry every this many bytes of log. Default 4096. */
  indexIntervalBytes: number;
  /**
   * Largest |record timestamp - broker clock| accepted on produce (CreateTime batches);
   * -1 = unlimited, the default (Kafka's default is unlimited too).
   */
  messageTimestampDifferenceMaxMs: number;
}

/** Kafka's config names, as they travel in CreateTopics and show in describe. */
export const TopicConfigNames: Readonly<Record<keyof TopicConfig, string>> = {
  retentionMs: 'retention.ms',
  retentionBytes: 'retention.bytes',
  segmentBytes: 'segment.bytes',
  segmentMs: 'segment.ms',
  cleanupPolicy: 'cleanup.policy',
  maxMessageBytes: 'max.message.bytes',
  deleteRetentionMs: 'delete.retention.ms',
  indexIntervalBytes: 'index.interval.bytes',
  messageTimestampDifferenceMaxMs: 'message.timestamp.difference.max.ms',
};

export interface AppendOptions {
  /**
   * 'client' (default): a producer's batches, every record checked. 'log': batches copied
   * from another log (a replica, a rewrite), validated where first stored; they may carry
   * offset gaps, so only structure, sizes and CRC are checked.
   */
  origin?: 'client' | 'log';
}

export interface AppendResult {
  /** Offset of the first record of the first appended batch. */
  baseOffset: number;
  /** Offset of the last record of the last appended batch. */
  lastOffset: number;
}

export interface ReadOptions {
  /**
   * 'log-end' (default): every stored batch (a follower's fetch, internal topics).
   * 'high-watermark': only batches below the high watermark (a consumer's fetch). The two
   * are the same unless the log manager is `replicated`.
   */
  isolation?: 'log-end' | 'high-watermark';
}

export interface ReadResult {
  /** Whole record batches (possibly none when offset == logEndOffset). A slice, not a copy, where possible. */
  bytes: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: number;
  /** The offset the next appended record will get. */
  readonly logEndOffset: number;
  readonly sizeBytes: number;
  readonly segmentCount: number;
  /**
   * Appends one or more whole, validated record batches (concatenated). Offsets are
   * assigned and bytes written synchronously, before this returns its promise, so the
   * order of calls is the order in the log. The promise resolves when the bytes are as
   * durable as the fsync policy promises (immediately unless the policy is `always`).
   * Throws SpoolError CORRUPT_MESSAGE (bad batch: nothing is written), MESSAGE_TOO_LARGE,
   * KAFKA_STORAGE_ERROR / NOT_ENOUGH_SPACE (the partition is then offline, sticky).
   */
  append(batches: Buffer, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Whole batches starting with the one holding `offset`, up to maxBytes (but at least
   * one batch). Positional reads only. offset == logEndOffset gives empty bytes;
   * offset < logStartOffset or > logEndOffset throws SpoolError OFFSET_OUT_OF_RANGE.
   * A stored batch with a bad header at `offset` throws CorruptBatchError
   * (CORRUPT_MESSAGE, with baseOffset and nextOffset to seek past it; the partition stays
   * online); one met later ends the returned bytes before it. An offline partition throws
   * its sticky KAFKA_STORAGE_ERROR / NOT_ENOUGH_SPACE.
   */
  read(offset: number, maxBytes: number, options?: ReadOptions): ReadResult;
  /** Consumers read below this (`read` with isolation 'high-watermark'). The log end unless the manager is `replicated`. */
  readonly highWatermark: number;
  /**
   * DeleteRecords: moves the log start offset up to `offset` (<= log end; never down),
   * deleting closed segments wholly below it; checkpointed first. Returns the new start.
   * Throws OFFSET_OUT_OF_RANGE past the log end.
   */
  deleteRecordsBefore(offset: number): number;
  /**
   * First offset whose record timestamp is >= timestampMs, or null if none. Throws
   * CorruptBatchError when the batch it lands on does not decode (partition stays online).
   */
  offsetForTimestamp(timestampMs: number): number | null;
}

/** Where a leader epoch ends in a log (Kafka's OffsetForLeaderEpoch answer); -1s when unknown. */
export interface LeaderEpochEnd {
  epoch: number;
  endOffset: number;
}

/**
 * A partition log as a replica sees it (PartitionLogImpl; see README.md "Replication
 * primitives"): the high watermark of its own, leader epochs, follower appends and
 * truncation. Replication code (broker/core/replica-fetch.ts, cluster/replica-fetcher.ts)
 * codes against this.
 */
export interface ReplicaLog extends PartitionLog {
  readonly replicated: boolean;
  /** Moves the high watermark up to offset (capped at the log end); true when it moved. */
  advanceHighWatermark(offset: number): boolean;
  onHighWatermark(listener: (highWatermark: number) => void): () => void;
  /** The epoch leader appends are stamped with (-1: none). */
  readonly leaderEpoch: number;
  setLeaderEpoch(epoch: number): void;
  /** The latest epoch in the leader-epoch cache (-1: none). */
  readonly latestLeaderEpoch: number;
  endOffsetForEpoch(epoch: number): LeaderEpochEnd;
  appendAsFollower(batches: Buffer): Promise<AppendResult>;
  truncateTo(offset: number): void;
  /** Empties the log and restarts it at offset (log start, HW and epochs follow). */
  truncateFullyAndStartAt(offset: number): void;
}

export interface TopicInfo {
  name: string;
  partitions: number;
  config: TopicConfig;
  internal: boolean;
}

export interface RecoveryReport {
  file: string;
  validBytes: number;
  truncatedBytes: number;
  rebuiltIndex: boolean;
}

export interface LogManagerOptions {
  dataDir: string;
  fsync: FsyncPolicy;
  /** Defaults applied to topics created without a value. */
  defaults?: Partial<TopicConfig>;
  clock?: Clock;
  /** Called with one line per warning (recovery truncations, background task failures). */
  warn?: (message: string) => void;
  /** File-system calls (tests inject faults here). Default: node:fs with `fileMode`. */
  fs?: StorageFs;
  /**
   * Permission bits of the files storage creates (default 0o600); directories get the
   * same plus x where it grants r (0o700 by default). Ignored for the files when `fs` is
   * given (that fs decides); the data directory itself is always set to the dir mode.
   */
  fileMode?: number;
  /**
   * Segment files (.log/.index/.timeindex) kept open at once, process-wide (file-pool.ts);
   * the least recently used is closed to open another. Default: half the soft
   * RLIMIT_NOFILE (/proc/self/limits), leaving the rest for sockets.
   */
  maxOpenFiles?: number;
  /**
   * A cluster's replica logs (default false: single node). When true the high watermark
   * is its own value, moved by the replica layer (PartitionLogImpl.advanceHighWatermark),
   * checkpointed in `<dataDir>/replication-offset-checkpoint` and restored at open (capped
   * at the log end); leader-epoch checkpoints are rebuilt when missing. When false the
   * high watermark is the log end, as it always was.
   */
  replicated?: boolean;
  /** Run the background tasks on timers (default true; tests turn them off and call runTask). */
  backgroundTasks?: boolean;
  /** How often each background task runs. */
  taskIntervalsMs?: Partial<Record<StorageTaskName, number>>;
}

/** The named background tasks of the storage layer (each in src/storage/tasks/). */
export type StorageTaskName =
  | 'retention'
  | 'log-cleaner'
  | 'segment-roll'
  | 'interval-flush'
  | 'recovery-checkpoint'
  | 'disk-space-retry'
  | 'high-watermark-checkpoint';

/**
 * Opens a data directory: loads topic metadata, recovers every partition, and runs the
 * background tasks (retention, compaction, segment.ms roll, interval flush, checkpoints).
 *
 *   static open(options: LogManagerOptions): Promise<LogManager>
 */
export interface LogManager {
  readonly dataDir: string;
  readonly recoveryReports: RecoveryReport[];
  /**
   * Works in slices that yield; the topic is visible only once complete. Throws SpoolError
   * INVALID_TOPIC, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_CONFIG (SHUTTING_DOWN
   * when closed meanwhile).
   */
  createTopic(name: string, partitions: number, config?: Partial<TopicConfig>, internal?: boolean): Promise<TopicInfo>;
  /** Grows a topic to `count` partitions (never shrinks), in slices that yield like createTopic. */
  createPartitions(name: string, count: number): Promise<TopicInfo>;
  /** Sets some of a topic's configs (the rest keep theirs); applies from the next use on. INVALID_CONFIG, UNKNOWN_TOPIC, INVALID_TOPIC. */
  alterTopicConfig(name: string, changes: Partial<TopicConfig>): Promise<TopicInfo>;
  /** Resolves once the topic is gone and its partitions closed; directories are removed in the background. Throws SpoolError UNKNOWN_TOPIC. */
  deleteTopic(name: string): Promise<void>;
  /**
   * Deletes one partition's local records (it starts again empty at offset 0; the topic keeps
   * the partition) when `stillWanted` still says so inside the topic's serialized operations.
   * True when records went. Throws SpoolError UNKNOWN_TOPIC or UNKNOWN_PARTITION.
   */
  deletePartition(name: string, partition: number, stillWanted?: () => boolean): Promise<boolean>;
  listTopics(): TopicInfo[];
  getTopic(name: string): TopicInfo | undefined;
  /** Throws SpoolError UNKNOWN_TOPIC or UNKNOWN_PARTITION. */
  getPartition(topic: string, partition: number): PartitionLog;
  /** A producer id never handed out before in this data directory (durable; see producer-ids.ts). */
  allocateProducerId(): number;
  /** fsyncs everything, stops background tasks, writes checkpoints, closes files. */
  close(): Promise<void>;
}
