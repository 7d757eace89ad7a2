// Kafka Fetch v4-12 over core/fetch.ts: the same positional reads, limits and long-poll
// waiters as the native front. Fetch sessions (KIP-227) are not kept: every answer has
// sessionId 0, which tells a client to send full requests (Kafka's own answer when it has
// no session slot). An empty record set is an empty buffer, never null (librdkafka rejects
// a null one). With no transactions, the last stable offset is the high watermark.

import { KafkaErrors, kafkaErrorOf, type FetchRequest, type FetchResponse, type PartitionData } from '../../kafka/index.js';
import { RequestLimits } from '../../protocol/validate.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import { fetch, type FetchRead, type PartitionFetchSpec } from '../core/fetch.js';
import type { Outcome } from '../front.js';
import { thenMaybe } from '../slices.js';
import { QuotaKind, recordQuota } from '../core/quotas.js';
import { answer, type KafkaAnswer, type KafkaScope } from './answer.js';

const EMPTY = Buffer.alloc(0);

export function handleFetch(ctx: BrokerContext, request: FetchRequest, scope: KafkaScope): Outcome<KafkaAnswer> {
  const partitions: PartitionFetchSpec[] = [];
  const seen = new Set<string>();
  for (const topic of request.topics) {
    for (const partition of topic.partitions) {
      const key = `${topic.topic}\u0000${partition.partition}`;
      // A partition named twice is read once; its second mention is answered INVALID_REQUEST below.
      if (seen.has(key)) continue;
      seen.add(key);
      partitions.push({ topic: topic.topic, partition: partition.partition, offset: partition.fetchOffset, maxBytes: Math.max(1, partition.partitionMaxBytes) });
    }
  }
  if (partitions.length > RequestLimits.maxPartitionsPerFetch) {
    const error = kafkaErrorOf(new SpoolError(Errors.INVALID_REQUEST, `a fetch may name at most ${RequestLimits.maxPartitionsPerFetch} partitions`));
    return answer(toResponse(request, null, error.errorCode));
  }
  const spec = { partitions, maxBytes: Math.max(1, request.maxBytes), minBytes: request.minBytes, maxWaitMs: Math.max(0, request.maxWaitMs) };
  return thenMaybe(fetch(ctx, spec, scope), (read) => {
    if (read === null) return null;
    const throttleTimeMs = recordQuota(ctx, scope, scope.clientId, QuotaKind.Fetch, read.totalBytes);
    return answer(toResponse(request, read, KafkaErrors.NONE, throttleTimeMs), read.totalBytes);
  });
}

function toResponse(request: FetchRequest, read: FetchRead | null, errorCode: number, throttleTimeMs = 0): FetchResponse {
  const byKey = new Map(read?.partitions.map((entry) => [`${entry.topic}\u0000${entry.partition}`, entry]));
  const answered = new Set<string>();
  return {
    throttleTimeMs,
    errorCode,
    sessionId: 0,
    responses: request.topics.map((topic) => ({
      topic: topic.topic,
      partitions: topic.partitions.map((partition): PartitionData => {
        const key = `${topic.topic}\u0000${partition.partition}`;
        const entry = byKey.get(key);
        const duplicate = answered.has(key);
        answered.add(key);
        if (!entry || duplicate) {
          const code = errorCode !== KafkaErrors.NONE ? errorCode : KafkaErrors.INVALID_REQUEST;
          return { partitionIndex: partition.partition, errorCode: code, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: null, preferredReadReplica: -1, records: EMPTY };
        }
        return {
          partitionIndex: partition.partition,
          errorCode: entry.error === null ? KafkaErrors.NONE : kafkaErrorOf(entry.error).errorCode,
          highWatermark: entry.highWatermark,
          lastStableOffset: entry.highWatermark,
          logStartOffset: entry.logStartOffset,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: entry.records ?? EMPTY,
        };
      }),
    })),
  };
}
