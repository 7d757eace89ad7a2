// Fetch, protocol-neutral: positional reads of raw batch bytes from storage, answered
// without decoding; fronts (native/, kafka/) decode their wire into a FetchSpec and encode
// the PartitionReads. Limits:
// the request's maxBytes is capped by the broker's fetchMaxBytes (a client cannot make one
// fetch read a whole segment into memory) and by what is left of the connection's
// response byte budget (so pipelined or parked fetches of a client that does not read
// add up to the budget, not to N fetches); each partition gets at most its maxBytes and
// at most what is left of the request's, except that
// the first partition with data always gets at least one whole batch (so a batch larger
// than the limits still makes progress), and any later partition gets its first batch
// whole when it fits in what is left of the request's maxBytes (so a consumer that
// always lists partitions in the same order is not starved by one large batch).
//
// Long-poll: when fewer than minBytes are available, the request parks on its partitions
// (FetchWaiters) until a produce appends to one of them and minBytes are reached, or
// maxWaitMs passes, or the broker shuts down. At most maxParkedFetches park at once;
// beyond that a fetch is answered at once with what there is.

import { LOG_OVERHEAD } from '../../records/index.js';
import { Errors, isSpoolError } from '../../util/errors.js';
import { brokerMarks, stageTraceOn, traceNowUs } from '../../util/stage-trace.js';
import type { BrokerContext, RequestScope } from '../context.js';
import { authorizationOn, mayTopic, Operation, topicDenied } from './authorize.js';
import { quoted } from '../logger.js';
import { partitionKey } from '../waiters.js';
import { longPoll } from './long-poll.js';

const HIGH_WATERMARK = { isolation: 'high-watermark' } as const;

/** batchLength:int32 sits right after baseOffset:int64. */
const BATCH_LENGTH_POSITION = 8;

export interface PartitionFetchSpec {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
}

export interface FetchSpec {
  partitions: readonly PartitionFetchSpec[];
  maxBytes: number;
  minBytes: number;
  maxWaitMs: number;
}

export interface PartitionRead {
  topic: string;
  partition: number;
  /** Null on success; otherwise the error (a SpoolError, or a bug already logged). */
  error: unknown;
  highWatermark: number;
  logStartOffset: number;
  /** Whole batches from storage, never copied; null when nothing was read. */
  records: Buffer | null;
  /** Where a bad stored batch ends (CORRUPT_MESSAGE), so a client may seek past it. */
  nextOffset?: number;
}

export interface FetchRead {
  partitions: PartitionRead[];
  totalBytes: number;
  /** A partition failed: answer at once, as Kafka does. */
  failed: boolean;
}

/** Reads now, or parks until minBytes, maxWaitMs or shutdown; null when the connection closed meanwhile. */
export function fetch(ctx: BrokerContext, request: FetchSpec, scope: RequestScope): FetchRead | Promise<FetchRead | null> {
  // Read on each topic (Kafka): a denied partition is answered TOPIC_AUTHORIZATION_FAILED, unread.
  if (authorizationOn(ctx) && request.partitions.some((entry) => !mayTopic(ctx, scope.session, Operation.Read, entry.topic))) {
    return served(ctx, readFetch(ctx, request, Math.max(1, scope.responseBytesLeft()), scope));
  }
  // Dispatched only while the connection's budget has room, so this first read may take
  // at least one batch; reads after parking take only what is left of the budget then.
  const first = readFetch(ctx, request, Math.max(1, scope.responseBytesLeft()));
  if (first.totalBytes >= request.minBytes || first.failed || request.maxWaitMs === 0 || ctx.shuttingDown) return served(ctx, first);
  return longPoll(ctx, scope, {
    keys: request.partitions.map((entry) => partitionKey(entry.topic, entry.partition)),
    maxWaitMs: request.maxWaitMs,
    retry() {
      const read = readFetch(ctx, request, scope.responseBytesLeft());
      return read.totalBytes >= request.minBytes || read.failed || ctx.shuttingDown ? served(ctx, read) : undefined;
    },
    atDeadline: () => served(ctx, readFetch(ctx, request, scope.responseBytesLeft())),
    notParked: served(ctx, first),
  });
}

/** Counts the bytes answered, per partition: a read that parks again was not served. */
function served(ctx: BrokerContext, read: FetchRead): FetchRead {
  for (const entry of read.partitions) if (entry.records) ctx.metrics.fetched(entry.topic, entry.records.length);
  if (stageTraceOn) {
    // One partition (the e2e bench): a read with records answers every offset below the high watermark.
    for (const entry of read.partitions) if (entry.records) brokerMarks.fetchAnswered.ready(entry.highWatermark);
    brokerMarks.fetchAnswered.reached(traceNowUs());
    for (const entry of read.partitions) if (entry.records) brokerMarks.fetchFlushed.ready(entry.highWatermark);
  }
  return read;
}

/**
 * Reads every partition of the request. `budgetBytes` is what the connection may still
 * hold: at most that many bytes are read (at least one batch when it is positive; when
 * it is spent, nothing is read and the partitions are answered empty, so a client that
 * does not read its socket cannot make the broker hold more).
 */
export function readFetch(ctx: BrokerContext, request: FetchSpec, budgetBytes: number, deniedFor?: RequestScope): FetchRead {
  const results: PartitionRead[] = [];
  let remaining = Math.min(request.maxBytes, ctx.options.fetchMaxBytes, budgetBytes);
  const budgetSpent = budgetBytes <= 0;
  let totalBytes = 0;
  let failed = false;
  for (const entry of request.partitions) {
    const result: PartitionRead = {
      topic: entry.topic,
      partition: entry.partition,
      error: null,
      highWatermark: -1,
      logStartOffset: -1,
      records: null,
    };
    results.push(result);
    let log;
    try {
      if (deniedFor !== undefined && !mayTopic(ctx, deniedFor.session, Operation.Read, entry.topic)) throw topicDenied(deniedFor.session, Operation.Read, entry.topic);
      ctx.replicas?.checkFetch(entry.topic, entry.partition);
      log = ctx.logs.getPartition(entry.topic, entry.partition);
      result.highWatermark = log.highWatermark;
      result.logStartOffset = log.logStartOffset;
      const firstWithData = totalBytes === 0;
      if (budgetSpent || (!firstWithData && remaining <= 0)) continue;
      const limit = Math.max(1, Math.min(entry.maxBytes, remaining));
      // Consumers see only what the in-sync replicas have (the log end on a single node).
      const read = log.read(entry.offset, limit, HIGH_WATERMARK);
      result.highWatermark = read.highWatermark;
      result.logStartOffset = read.logStartOffset;
      let bytes = read.bytes;
      if (!firstWithData && bytes.length > remaining) bytes = wholeBatchesWithin(bytes, remaining);
      if (bytes.length === 0) continue;
      result.records = bytes;
      totalBytes += bytes.length;
      remaining -= bytes.length;
    } catch (error) {
      failed = true;
      if (!isSpoolError(error)) {
        ctx.logger.error(`fetch from ${quoted(entry.topic)} partition ${entry.partition} failed with a bug`, error, { api: 'Fetch', topic: entry.topic, partition: entry.partition });
      }
      result.error = error;
      // Storage names where a bad batch ends when it can: the client may seek past it.
      const nextOffset = isSpoolError(error, Errors.CORRUPT_MESSAGE) ? (error as { nextOffset?: unknown }).nextOffset : undefined;
      if (typeof nextOffset === 'number') result.nextOffset = nextOffset;
      if (isSpoolError(error, Errors.OFFSET_OUT_OF_RANGE) && log) {
        result.highWatermark = log.highWatermark;
        result.logStartOffset = log.logStartOffset;
      }
    }
  }
  return { partitions: results, totalBytes, failed };
}

/** The longest prefix of whole batches of `bytes` no longer than `limitBytes`. */
function wholeBatchesWithin(bytes: Buffer, limitBytes: number): Buffer {
  let end = 0;
  while (end + LOG_OVERHEAD <= bytes.length) {
    const batchBytes = LOG_OVERHEAD + bytes.readInt32BE(end + BATCH_LENGTH_POSITION);
    if (batchBytes <= LOG_OVERHEAD || end + batchBytes > limitBytes) break;
    end += batchBytes;
  }
  return bytes.subarray(0, end);
}
