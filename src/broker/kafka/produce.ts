// Kafka Produce v3-7 over core/produce.ts. Batches are appended as they came (zero copy:
// the records field is a slice of the request frame; storage checks CRC, structure and
// sizes and writes the baseOffset into the header). acks=0 gets no response at all.
// Transactional produce is not served (no InitProducerId is advertised, so clients do not
// send it): such a request is answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED per partition.

import { KafkaErrors, kafkaErrorOf, type ProduceRequest, type ProduceResponse } from '../../kafka/index.js';
import { RequestLimits } from '../../protocol/validate.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import type { Outcome } from '../front.js';
import { produce, type Acks, type PartitionAppend } from '../core/produce.js';
import { thenMaybe } from '../slices.js';
import { answer, type KafkaAnswer, type KafkaScope } from './answer.js';

export function handleProduce(ctx: BrokerContext, request: ProduceRequest, _scope: KafkaScope): Outcome<KafkaAnswer> {
  const acks: Acks = request.acks === 0 ? 0 : request.acks === 1 ? 1 : -1;
  const partitionCount = request.topicData.reduce((sum, topic) => sum + topic.partitionData.length, 0);
  const requestError =
    request.acks !== 0 && request.acks !== 1 && request.acks !== -1
      ? { errorCode: KafkaErrors.INVALID_REQUIRED_ACKS, errorMessage: `acks must be -1, 0 or 1, got ${request.acks}` }
      : request.transactionalId !== null
        ? { errorCode: KafkaErrors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: 'transactions are not served' }
        : partitionCount > RequestLimits.maxPartitionsPerProduce
          ? kafkaErrorOf(new SpoolError(Errors.INVALID_REQUEST, `a produce may name at most ${RequestLimits.maxPartitionsPerProduce} partitions`))
          : null;
  if (requestError) {
    if (acks === 0) return null;
    const responses = request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((p) => ({ index: p.index, errorCode: requestError.errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 })),
    }));
    return answer({ responses, throttleTimeMs: 0 } satisfies ProduceResponse);
  }
  const appends: PartitionAppend[] = [];
  /** Partitions with no record set: answered CORRUPT_MESSAGE without reaching storage. */
  const missing = new Set<string>();
  for (const topic of request.topicData) {
    for (const partition of topic.partitionData) {
      if (partition.records === null || partition.records.length === 0) missing.add(`${topic.name}\u0000${partition.index}`);
      else appends.push({ topic: topic.name, partition: partition.index, batches: partition.records });
    }
  }
  return thenMaybe(produce(ctx, appends, acks), (results) => {
    if (acks === 0) return null;
    let next = 0;
    const responses = request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((partition) => {
        if (missing.has(`${topic.name}\u0000${partition.index}`)) {
          return { index: partition.index, errorCode: KafkaErrors.CORRUPT_MESSAGE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
        }
        const result = results[next++]!;
        const errorCode = result.error === null ? KafkaErrors.NONE : kafkaErrorOf(result.error).errorCode;
        return { index: partition.index, errorCode, baseOffset: result.baseOffset, logAppendTimeMs: -1, logStartOffset: result.logStartOffset };
      }),
    }));
    return answer({ responses, throttleTimeMs: 0 } satisfies ProduceResponse);
  });
}
