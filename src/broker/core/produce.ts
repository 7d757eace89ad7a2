// Produce, protocol-neutral: append each partition's batches (storage validates them:
// magic, lengths, CRC, records, sizes; nothing of a bad partition is stored), wake the
// fetches parked on it, and answer per acks: 0 and 1 once the bytes are written (the OS
// has them), -1 (all) once the append promise resolves (fsync per the broker's policy;
// storage group-commits concurrent appends). Fronts (native/, kafka/) decode their wire
// into PartitionAppend[] and encode the results.
//
// The batch bytes are read only while produce() runs synchronously: fronts hand the
// request's memory back as soon as it returns (pooled frame assembly). The one path that
// appends after an await (auto-creation) works on its own copy.
//
// Order: appends happen synchronously while the request is handled, so requests on one
// connection reach the log in request order. Only auto-creation awaits, and it does so
// before any append of the request.

import { Errors, SpoolError, isSpoolError } from '../../util/errors.js';
import type { Principal } from '../../security/authorizer.js';
import { Stage, brokerMarks, stageTraceOn, stampRange, traceNowUs, traceReads } from '../../util/stage-trace.js';
import type { BrokerContext } from '../context.js';
import { authorizationOn, mayCreateTopic, mayTopic, Operation, topicDenied } from './authorize.js';
import { quoted } from '../logger.js';

export type Acks = 0 | 1 | -1;

export interface PartitionAppend {
  topic: string;
  partition: number;
  /** Whole record batches (RecordBatch v2), as the client sent them. */
  batches: Buffer;
}

export interface PartitionAppendResult {
  topic: string;
  partition: number;
  /** Null on success; otherwise the error (a SpoolError, or a bug already logged). */
  error: unknown;
  /** Offset of the first appended record; -1 on error. */
  baseOffset: number;
  logStartOffset: number;
}

/**
 * Appends every partition; a promise only when the answer must wait (acks all, auto-creation).
 * With a requester (`who`), a partition of a topic it may not Write is answered
 * TOPIC_AUTHORIZATION_FAILED and not appended, and a topic is auto-created only when it may
 * Create it (on the cluster or the topic).
 */
export function produce(ctx: BrokerContext, appends: readonly PartitionAppend[], acks: Acks, who?: Principal): PartitionAppendResult[] | Promise<PartitionAppendResult[]> {
  const denied = new Map<string, SpoolError>();
  if (who !== undefined && authorizationOn(ctx)) {
    for (const entry of appends) {
      if (denied.has(entry.topic)) continue;
      if (!mayTopic(ctx, who, Operation.Write, entry.topic)) denied.set(entry.topic, topicDenied(who, Operation.Write, entry.topic));
      else if (ctx.options.autoCreateTopics && missingTopic(ctx, entry.topic) && !mayCreateTopic(ctx, who, entry.topic)) {
        denied.set(entry.topic, topicDenied(who, Operation.Create, entry.topic));
      }
    }
  }
  if (ctx.options.autoCreateTopics && appends.some((entry) => !denied.has(entry.topic) && missingTopic(ctx, entry.topic))) {
    // Appends after an await: copy, since the caller reuses the request's bytes once this returns.
    const owned = appends.map((entry) => ({ ...entry, batches: Buffer.from(entry.batches) }));
    const creatable = owned.map((entry) => entry.topic).filter((topic) => !denied.has(topic));
    return autoCreateTopics(ctx, creatable).then((creationErrors) => appendAll(ctx, owned, acks, new Map([...creationErrors, ...denied])));
  }
  return appendAll(ctx, appends, acks, denied);
}

/** Unknown here and, in a cluster, unknown to the cluster too (a topic this broker holds no replica of exists). */
function missingTopic(ctx: BrokerContext, topic: string): boolean {
  return !ctx.logs.getTopic(topic) && ctx.clusterAdmin?.hasTopic(topic) !== true;
}

function appendAll(
  ctx: BrokerContext,
  appends: readonly PartitionAppend[],
  acks: Acks,
  creationErrors: Map<string, SpoolError>,
): PartitionAppendResult[] | Promise<PartitionAppendResult[]> {
  const results: PartitionAppendResult[] = [];
  const waits: Array<Promise<void>> = [];
  for (const entry of appends) {
    const result: PartitionAppendResult = { topic: entry.topic, partition: entry.partition, error: null, baseOffset: -1, logStartOffset: -1 };
    results.push(result);
    try {
      const creationError = creationErrors.get(entry.topic);
      if (creationError) throw creationError;
      const wait = appendPartition(ctx, entry, acks, result);
      if (wait) waits.push(wait);
    } catch (error) {
      setError(ctx, result, error);
    }
  }
  return waits.length > 0 ? Promise.all(waits).then(() => results) : results;
}

/** Appends synchronously; returns a promise when the answer must wait for the append to settle. */
function appendPartition(ctx: BrokerContext, entry: PartitionAppend, acks: Acks, result: PartitionAppendResult): Promise<void> | null {
  const { topic, partition } = entry;
  const info = ctx.logs.getTopic(topic);
  if (!info) {
    // A cluster's topic this broker holds no replica of, or whose log it is still creating
    // (the partition state in etcd, naming it leader, comes before its local log):
    // NOT_LEADER_OR_FOLLOWER, retriable (ask Metadata, try again), never UNKNOWN_TOPIC.
    if (ctx.clusterAdmin?.hasTopic(topic) === true) {
      throw new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `${topic}-${partition}: this broker holds no log of it (not a replica here, or still creating it)`);
    }
    ctx.replicas?.checkProduce(topic, partition, acks);
    throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${topic}' does not exist`);
  }
  if (info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${topic}' is internal: clients cannot produce to it`);
  const log = ctx.logs.getPartition(topic, partition);
  // Validation (magic, lengths, CRC, max.message.bytes, and every record walked: offset
  // deltas, timestamps, compressed sections decompressed within max.message.bytes; see
  // src/records/README.md) is done once, by storage's append, over all of this partition's
  // batches before any is written: the CRC is most of a produce's broker CPU, so checking
  // here as well would pay it twice. Its SpoolError (CORRUPT_MESSAGE, INVALID_RECORD,
  // INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION, MESSAGE_TOO_LARGE) comes back through
  // `appended` and lands in this partition's result; other partitions of the request are
  // appended or refused on their own (as Kafka answers per partition).
  // A replicated partition: only its leader appends, and acks=all needs min.insync replicas.
  ctx.replicas?.checkProduce(topic, partition, acks);
  const logEndBefore = log.logEndOffset;
  let appended = log.append(entry.batches);
  const written = log.logEndOffset > logEndBefore;
  if (written && ctx.replicas) {
    const replicas = ctx.replicas;
    replicas.afterLeaderAppend(topic, partition);
    // acks=all: answered once the high watermark passes the batch (the followers have it).
    if (acks === -1) appended = appended.then((append) => replicas.waitForHighWatermark(topic, partition, append.lastOffset + 1).then(() => append));
  }
  if (written) {
    if (stageTraceOn) traceAppended(logEndBefore, log.logEndOffset, acks, appended);
    ctx.waiters.notify(topic, partition);
    // Per partition of the request, not per message: the offsets the append assigned are its records.
    ctx.metrics.produced(topic, entry.batches.length, log.logEndOffset - logEndBefore);
  }
  const settle = appended.then(
    (append) => {
      result.baseOffset = append.baseOffset;
      result.logStartOffset = log.logStartOffset;
    },
    (error: unknown) => {
      setError(ctx, result, error);
    },
  );
  if (acks === -1 || !written) return settle;
  // acks 0 and 1: the bytes are in the log (the OS has them); answer now. A later
  // failure of the flush is storage's to report (the partition goes offline, sticky).
  result.baseOffset = logEndBefore;
  result.logStartOffset = log.logStartOffset;
  return null;
}

/** Stage trace (SPOOL_STAGE_TRACE, bench e2e): the read and append times of these offsets; their ack is ready when `appended` settles (acks all) or now. */
function traceAppended(fromOffset: number, toOffset: number, acks: Acks, appended: Promise<unknown>): void {
  stampRange(Stage.brokerRead, fromOffset, toOffset, traceReads.lastReadUs);
  stampRange(Stage.appended, fromOffset, toOffset, traceNowUs());
  if (acks !== -1) brokerMarks.ackFlushed.ready(toOffset);
  else void appended.then(() => brokerMarks.ackFlushed.ready(toOffset), () => undefined);
}

function setError(ctx: BrokerContext, result: PartitionAppendResult, error: unknown): void {
  if (!isSpoolError(error)) {
    ctx.logger.error(`produce to ${quoted(result.topic)} partition ${result.partition} failed with a bug`, error, { api: 'Produce', topic: result.topic, partition: result.partition });
  }
  result.error = error;
  result.baseOffset = -1;
  result.logStartOffset = -1;
}

/** Creates the unknown topics among `topics`; returns the creation errors by topic. */
export async function autoCreateTopics(ctx: BrokerContext, topics: readonly string[]): Promise<Map<string, SpoolError>> {
  const errors = new Map<string, SpoolError>();
  const cluster = ctx.clusterAdmin;
  const missing = new Set(topics.filter((topic) => !ctx.logs.getTopic(topic) && cluster?.hasTopic(topic) !== true));
  await Promise.all(
    [...missing].map(async (topic) => {
      if (topic.startsWith('__')) {
        errors.set(topic, new SpoolError(Errors.INVALID_TOPIC, `topic names starting with '__' are reserved for internal topics`));
        return;
      }
      let creation = ctx.creatingTopics.get(topic);
      if (!creation) {
        // In a cluster the controller places it (default replication factor) and this broker
        // creates its local replicas when their roles arrive.
        const created = cluster ? cluster.createTopic(topic, ctx.options.defaultPartitions) : ctx.logs.createTopic(topic, ctx.options.defaultPartitions);
        creation = created.then(
          () => {
            ctx.logger.info(`auto-created topic ${quoted(topic)} with ${ctx.options.defaultPartitions} partition(s)`);
          },
          (error: unknown) => {
            if (!isSpoolError(error, Errors.TOPIC_ALREADY_EXISTS)) throw error;
          },
        );
        const settled = creation.finally(() => ctx.creatingTopics.delete(topic));
        settled.catch(() => {}); // Safe: the error is observed through `creation` below.
        ctx.creatingTopics.set(topic, creation);
      }
      try {
        await creation;
      } catch (error) {
        errors.set(topic, isSpoolError(error) ? error : new SpoolError(Errors.UNKNOWN, `auto-creating topic '${topic}' failed`, { cause: error }));
        if (!isSpoolError(error)) ctx.logger.error(`auto-creating topic ${quoted(topic)} failed`, error);
      }
    }),
  );
  return errors;
}
