// Kafka Produce v3-7 over core/produce.ts. Batches are appended as they came (zero copy:
// the records field is a slice of the request frame; storage checks CRC, structure and
// sizes and writes the baseOffset into the header). acks=0 gets no response at all; when
// any of its partitions fails the connection is closed instead (Kafka's way to tell it).
// Each partition entry is answered in its place: a partition named twice gets
// INVALID_REQUEST for its second mention, which is not appended.
// Idempotent produce (a batch with a producer id from InitProducerId) is checked by storage
// (producer-state.ts): a retried duplicate is answered with its original baseOffset.
// Transactional produce is not served (InitProducerId refuses a transactional id): a request
// with a transactional id, or with any batch that has the transactional bit (which needs
// one), is answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition and nothing of it
// is appended, as Kafka's KafkaApis.handleProduceRequest answers a transactional batch whose
// transactional id it cannot authorize. A control batch is refused by storage's validation
// (records/validate.ts rule 13) with INVALID_RECORD for its partition, as Kafka's LogValidator
// refuses it.

import { KafkaErrors, kafkaErrorOf, type ProduceRequest, type ProduceResponse } from '../../kafka/index.js';
import { RequestLimits } from '../../protocol/validate.js';
import { hasTransactionalBatch } from '../../records/index.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import type { Outcome } from '../front.js';
import { produce, type Acks, type PartitionAppend, type PartitionAppendResult } from '../core/produce.js';
import { thenMaybe } from '../slices.js';
import { QuotaKind, recordQuota } from '../core/quotas.js';
import { answer, type KafkaAnswer, type KafkaScope } from './answer.js';

export function handleProduce(ctx: BrokerContext, request: ProduceRequest, scope: KafkaScope): Outcome<KafkaAnswer> {
  const acks: Acks = request.acks === 0 ? 0 : request.acks === 1 ? 1 : -1;
  const partitionCount = request.topicData.reduce((sum, topic) => sum + topic.partitionData.length, 0);
  const requestError =
    request.acks !== 0 && request.acks !== 1 && request.acks !== -1
      ? { errorCode: KafkaErrors.INVALID_REQUIRED_ACKS, errorMessage: `acks must be -1, 0 or 1, got ${request.acks}` }
      : request.transactionalId !== null
        ? { errorCode: KafkaErrors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: 'transactions are not served' }
        : partitionCount > RequestLimits.maxPartitionsPerProduce
          ? kafkaErrorOf(new SpoolError(Errors.INVALID_REQUEST, `a produce may name at most ${RequestLimits.maxPartitionsPerProduce} partitions`))
          : // After the partition cap, so the walk over batch headers is bounded.
            hasTransactionalRecords(request)
            ? { errorCode: KafkaErrors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: 'a transactional batch needs a transactional id, and transactions are not served' }
            : null;
  if (requestError) {
    if (acks === 0) return unansweredFailure(ctx, requestError.errorMessage ?? `error ${requestError.errorCode}`);
    const responses = request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((p) => ({ index: p.index, errorCode: requestError.errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 })),
    }));
    return answer({ responses, throttleTimeMs: 0 } satisfies ProduceResponse);
  }
  let producedBytes = 0;
  for (const topic of request.topicData) for (const partition of topic.partitionData) producedBytes += partition.records?.length ?? 0;
  const throttleTimeMs = recordQuota(ctx, scope, scope.clientId, QuotaKind.Produce, producedBytes);
  const appends: PartitionAppend[] = [];
  // What answers each partition entry, in request order: its append's result (by index in
  // `appends`), or an error decided here without reaching storage.
  const plan: Array<{ append: number } | { errorCode: number }> = [];
  const seen = new Set<string>();
  for (const topic of request.topicData) {
    for (const partition of topic.partitionData) {
      const key = `${topic.name}\u0000${partition.index}`;
      // A partition named twice: only its first mention is appended (as in Fetch); the
      // client is told about the second instead of having it silently merged.
      if (seen.has(key)) plan.push({ errorCode: KafkaErrors.INVALID_REQUEST });
      else if (partition.records === null || partition.records.length === 0) plan.push({ errorCode: KafkaErrors.CORRUPT_MESSAGE });
      else {
        plan.push({ append: appends.length });
        appends.push({ topic: topic.name, partition: partition.index, batches: partition.records });
      }
      seen.add(key);
    }
  }
  return thenMaybe(produce(ctx, appends, acks, scope.session), (results) => {
    const codes = plan.map((entry) => ('errorCode' in entry ? entry.errorCode : codeOf(results[entry.append]!)));
    if (acks === 0) {
      const failed = codes.filter((code) => code !== KafkaErrors.NONE).length;
      return failed === 0 ? null : unansweredFailure(ctx, `${failed} of ${codes.length} partitions failed`);
    }
    let next = 0;
    const responses = request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((partition) => {
        const at = next++;
        const entry = plan[at]!;
        const result = 'append' in entry ? results[entry.append]! : null;
        return { index: partition.index, errorCode: codes[at]!, baseOffset: result?.baseOffset ?? -1, logAppendTimeMs: -1, logStartOffset: result?.logStartOffset ?? -1 };
      }),
    }));
    return answer({ responses, throttleTimeMs } satisfies ProduceResponse);
  });
}

/** Kafka's RequestUtils.hasTransactionalRecords: any batch of any partition with the transactional bit. */
function hasTransactionalRecords(request: ProduceRequest): boolean {
  return request.topicData.some((topic) => topic.partitionData.some((partition) => partition.records !== null && hasTransactionalBatch(partition.records)));
}

function codeOf(result: PartitionAppendResult): number {
  return result.error === null ? KafkaErrors.NONE : kafkaErrorOf(result.error).errorCode;
}

/**
 * acks=0 has no response to carry an error, so, as Kafka's broker does, the connection is
 * closed: the client sees the disconnect, refreshes its metadata and learns (librdkafka
 * and the Java client log it and reconnect). Partitions that did succeed stay appended.
 */
function unansweredFailure(ctx: BrokerContext, cause: string): KafkaAnswer {
  const reason = `kafka: acks=0 produce failed (${cause}); closing the connection so the client learns`;
  ctx.logger.info(reason);
  return { kind: 'close', payloadBytes: 0, reason };
}
