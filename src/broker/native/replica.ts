// Native ReplicaFetch (60) and OffsetForLeaderEpoch (61) over the core's ReplicaManager
// (core/replica-fetch.ts). A broker without replication answers every partition
// NOT_LEADER_OR_FOLLOWER. ReplicaFetch parks like a Fetch (minBytes, maxWaitMs; woken by
// appends), its bytes capped by the broker's fetchMaxBytes and the connection's budget.
// One request lists every partition a follower fetches from this broker (its fetcher per
// leader): each partition at most its own maxBytes and what is left of the request's, each
// with its own error; one partition's error never fails the others.

import { errorFields } from '../../protocol/errors.js';
import type * as M from '../../protocol/messages.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { longPoll } from '../core/long-poll.js';
import { type ReplicaFetchRead, type ReplicaManager, readReplicaFetch } from '../core/replica-fetch.js';
import { partitionKey } from '../waiters.js';

function notReplicated(): SpoolError {
  return new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, 'this broker does not replicate partitions (no cluster)');
}

export function handleReplicaFetch(ctx: BrokerContext, request: M.ReplicaFetchRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse | null> {
  const replicas = ctx.replicas;
  if (!replicas) return { header: { errorCode: 0, partitions: request.partitions.map((entry) => failed(entry, notReplicated())) } };
  const read = (budgetBytes: number): ReplicaFetchRead =>
    readReplicaFetch(replicas, { ...request, maxBytes: Math.max(1, Math.min(request.maxBytes, ctx.options.fetchMaxBytes, budgetBytes)) });
  const first = read(scope.responseBytesLeft());
  // A partition's error is answered at once (the follower backs that partition off and
  // asks again without it), also when it appears while parked.
  const failedAny = (read: ReplicaFetchRead): boolean => read.partitions.some((entry) => entry.error !== null);
  if (first.totalBytes >= request.minBytes || failedAny(first) || request.maxWaitMs === 0 || ctx.shuttingDown) return toResponse(first);
  return longPoll(ctx, scope, {
    keys: request.partitions.map((entry) => partitionKey(entry.topic, entry.partition)),
    maxWaitMs: request.maxWaitMs,
    retry() {
      const again = read(scope.responseBytesLeft());
      return again.totalBytes >= request.minBytes || failedAny(again) || ctx.shuttingDown ? toResponse(again) : undefined;
    },
    atDeadline: () => toResponse(read(scope.responseBytesLeft())),
    notParked: toResponse(first),
  });
}

function failed(entry: { topic: string; partition: number }, error: unknown): M.ReplicaFetchPartitionResult {
  return { ...errorFields(error), topic: entry.topic, partition: entry.partition, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, size: 0 };
}

function toResponse(read: ReplicaFetchRead): HandlerResponse {
  const payload: Buffer[] = [];
  const partitions = read.partitions.map((entry): M.ReplicaFetchPartitionResult => {
    if (entry.error !== null) {
      return { ...failed(entry, entry.error), highWatermark: entry.highWatermark, logStartOffset: entry.logStartOffset, logEndOffset: entry.logEndOffset };
    }
    if (entry.records) payload.push(entry.records);
    return {
      errorCode: 0,
      topic: entry.topic,
      partition: entry.partition,
      highWatermark: entry.highWatermark,
      logStartOffset: entry.logStartOffset,
      logEndOffset: entry.logEndOffset,
      size: entry.records?.length ?? 0,
    };
  });
  return { header: { errorCode: 0, partitions } satisfies M.ReplicaFetchResponse, payload };
}

export function handleOffsetForLeaderEpoch(ctx: BrokerContext, request: M.OffsetForLeaderEpochRequest): HandlerResponse {
  const replicas: ReplicaManager | undefined = ctx.replicas;
  const partitions = request.partitions.map((entry) => {
    try {
      if (!replicas) throw notReplicated();
      const answer = replicas.endOffsetForEpoch(entry.topic, entry.partition, entry.currentLeaderEpoch, entry.leaderEpoch);
      return { errorCode: 0, topic: entry.topic, partition: entry.partition, leaderEpoch: answer.epoch, endOffset: answer.endOffset };
    } catch (error) {
      return { ...errorFields(error), topic: entry.topic, partition: entry.partition, leaderEpoch: -1, endOffset: -1 };
    }
  });
  return { header: { errorCode: 0, partitions } satisfies M.OffsetForLeaderEpochResponse };
}
