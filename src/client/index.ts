// spool's TypeScript SDK: the package's main entry. See README.md in this folder.

export { Client, type ClientConfig } from './client.js';
export type { SaslConfig, SaslMechanismOption } from './sasl.js';
export type { Logger, ClientEvents, ClientEventName } from './observer.js';
export type { RestartOnFailure } from './handler-retry.js';
export type { ProducerHeaders, HeaderValue } from './headers.js';
export { Producer, type ProducerConfig, type ProducerMessage, type ProducerRecord, type RecordMetadata, type Acks } from './producer.js';
export {
  Consumer,
  type ConsumerConfig,
  type ConsumedMessage,
  type EachMessagePayload,
  type EachBatchPayload,
  type Batch,
  type RunConfig,
  type ProcessedListener,
  type SubscribeOptions,

} from './consumer.js';
export type { PartitionsListener, RebalanceInfo } from './group-member.js';
export type { CommitOffset, CommitOffsetInput } from './offset-committer.js';
export type { PartitionAssignment, TopicPartition, StartOffset } from './assignment.js';
export { Admin, type CreateTopicSpec, type TopicDescription, type PartitionOffset, type OffsetTarget } from './admin.js';
export { Connection } from './connection.js';
export type { ClientSsl, ClientTlsOptions } from './tls.js';
export { ShareConsumer, type ShareConsumerConfig, type ShareMessage, type ShareEachMessagePayload } from './share-consumer.js';
export { RetryPolicy, DEFAULT_RETRY, type RetryOptions } from './retry.js';
export { RetryTopics, RetryHeaders, MAX_RETRY_STAGES, type RetryTopicsConfig, type RetryEachMessagePayload } from './retry-topics.js';
export { murmur2, toPositive } from './murmur2.js';
export { partitionForKey, StickyPartitioner } from './partitioner.js';
export { SpoolError, Errors, isSpoolError } from '../util/errors.js';
export { PartitionFetchError } from './errors.js';
export type { CompressionName } from '../records/index.js';
