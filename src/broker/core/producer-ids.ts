// InitProducerId, protocol-neutral: an idempotent producer (no transactional id) gets a new
// producer id at epoch 0 every time it asks, as Kafka answers one; the partitions then
// check its sequences (storage/producer-state.ts). Ids come from storage's durable
// allocator, so they are never reused after a restart. Transactions are not supported.

import { Errors, SpoolError } from '../../util/errors.js';
import type { Principal } from '../../security/authorizer.js';
import type { BrokerContext } from '../context.js';
import { requireInitProducerId } from './authorize.js';

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

export function initProducerId(ctx: BrokerContext, transactionalId: string | null | undefined, who?: Principal): ProducerIdentity {
  if (who !== undefined) requireInitProducerId(ctx, who, transactionalId);
  if (transactionalId !== null && transactionalId !== undefined && transactionalId !== '') {
    throw new SpoolError(Errors.INVALID_REQUEST, `transactions are not supported (transactional id '${transactionalId}')`);
  }
  return { producerId: ctx.logs.allocateProducerId(), producerEpoch: 0 };
}
