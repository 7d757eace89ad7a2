// Kafka InitProducerId v0-4 over core/producer-ids.ts: an idempotent producer (librdkafka
// enable.idempotence, kafkajs idempotent) gets a new producer id at epoch 0. A
// transactional id is answered INVALID_REQUEST (no transactions); a KIP-360 epoch bump
// (v3+ with the old producerId/epoch) gets a new id, which Kafka clients accept.

import { KafkaErrors, type InitProducerIdRequest, type InitProducerIdResponse } from '../../kafka/index.js';
import type { BrokerContext } from '../context.js';
import { initProducerId, type ProducerIdentity } from '../core/producer-ids.js';
import { answer, itemError, type KafkaAnswer, type KafkaScope } from './answer.js';

export function handleInitProducerId(ctx: BrokerContext, request: InitProducerIdRequest, scope: KafkaScope): KafkaAnswer | Promise<KafkaAnswer> {
  const fail = (error: unknown): KafkaAnswer => {
    const { errorCode } = itemError(ctx, 'InitProducerId', error);
    return answer({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 } satisfies InitProducerIdResponse);
  };
  const respond = (identity: ProducerIdentity): KafkaAnswer => answer({ throttleTimeMs: 0, errorCode: KafkaErrors.NONE, ...identity } satisfies InitProducerIdResponse);
  try {
    // Cluster mode may wait for an etcd reservation; CLUSTER_UNAVAILABLE maps to a retriable Kafka code.
    const identity = initProducerId(ctx, request.transactionalId, scope.session);
    return identity instanceof Promise ? identity.then(respond, fail) : respond(identity);
  } catch (error) {
    return fail(error);
  }
}
