// InitProducerId, protocol-neutral: an idempotent producer (no transactional id) gets a new
// producer id at epoch 0 every time it asks, as Kafka answers one; the partitions then
// check its sequences (storage/producer-state.ts). Ids come from `ctx.producerIds` when set
// (cluster mode: blocks reserved in etcd, src/cluster/producer-id-blocks.ts, so brokers of one
// cluster never hand out the same id), else from storage's durable allocator of the data dir
// (a single node). Either way never reused after a restart. Transactions are not supported.

import { Errors, SpoolError } from '../../util/errors.js';
import type { Principal } from '../../security/authorizer.js';
import type { BrokerContext } from '../context.js';
import { requireInitProducerId } from './authorize.js';

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

/** Where producer ids come from when not the data dir: synchronous while ids are at hand; rejects CLUSTER_UNAVAILABLE when none can be had. */
export interface ProducerIdSource {
  allocate(): number | Promise<number>;
}

/**
 * Cluster mode before the broker joined: no id yet (the data dir's counter would hand out ids
 * other brokers also hand out). CLUSTER_UNAVAILABLE is retriable; serve-cluster.ts replaces this
 * source with the etcd blocks once registered.
 */
export const notJoinedProducerIds: ProducerIdSource = {
  allocate: () => {
    throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, 'this broker has not joined the cluster yet: no producer id can be handed out');
  },
};

export function initProducerId(ctx: BrokerContext, transactionalId: string | null | undefined, who?: Principal): ProducerIdentity | Promise<ProducerIdentity> {
  if (who !== undefined) requireInitProducerId(ctx, who, transactionalId);
  if (transactionalId !== null && transactionalId !== undefined && transactionalId !== '') {
    throw new SpoolError(Errors.INVALID_REQUEST, `transactions are not supported (transactional id '${transactionalId}')`);
  }
  if (ctx.producerIds === undefined) return { producerId: ctx.logs.allocateProducerId(), producerEpoch: 0 };
  const producerId = ctx.producerIds.allocate();
  return typeof producerId === 'number' ? { producerId, producerEpoch: 0 } : producerId.then((id) => ({ producerId: id, producerEpoch: 0 }));
}
