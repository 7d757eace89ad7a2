// The storage layer's public API: the LogManager (static open), the contract types, and
// the topic helpers the broker and CLI use. Everything else in this folder is internal.

export { LogManager, MAX_PARTITIONS } from './log-manager.js';
export type {
  AppendOptions,
  AppendResult,
  FsyncPolicy,
  LogManagerOptions,
  PartitionLog,
  LeaderEpochEnd,
  ReadOptions,
  ReplicaLog,
  ReadResult,
  RecoveryReport,
  StorageTaskName,
  TopicConfig,
  TopicInfo,
} from './types.js';
export { TopicConfigNames } from './types.js';
export { DEFAULT_TOPIC_CONFIG, parseTopicConfig, topicConfigToRecord, validateTopicConfig } from './config.js';
export { validateTopicName, MAX_TOPIC_NAME_LENGTH } from './names.js';
export { type StorageFs, nodeStorageFs } from './fs.js';
export { PartitionLogImpl } from './partition-log.js';
export { CorruptBatchError } from './errors.js';
export { type EpochEndOffset, type EpochEntry, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from './leader-epoch-cache.js';
