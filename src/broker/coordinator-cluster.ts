// The group coordinator's cluster mode, built from the broker's options: the roles of the
// internal topics' partitions (who coordinates which groups) and the replication of its
// appends through the core's ReplicaManager, so an offset commit or a share-state snapshot
// is acknowledged only once the in-sync replicas hold it (acks=all): a commit that was
// answered survives the loss of the broker that answered it.

import { DEFAULT_CLUSTER_INTERNAL_PARTITIONS, MAX_INTERNAL_PARTITIONS, type CoordinatorCluster, type InternalReplication } from '../groups/coordinator-placement.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import type { ReplicaManager } from './core/replica-fetch.js';
import type { BrokerOptions } from './options.js';
import type { BrokerContext } from './context.js';
import type { PeerPool } from './peer-requests.js';
import { ClusterDeadLetterSink } from './share-dead-letters-cluster.js';
import { ClusterSharePersister } from './share-persister-cluster.js';

/** Replication errors as a group client should see them: go find the coordinator again, or retry. */
function coordinatorError(error: unknown): unknown {
  if (!isSpoolError(error)) return error;
  switch (error.kind) {
    case Errors.NOT_LEADER_OR_FOLLOWER:
    case Errors.FENCED_LEADER_EPOCH:
    case Errors.LEASE_LOST:
      return new SpoolError(Errors.NOT_COORDINATOR, error.message, { cause: error });
    // Kafka answers a commit that cannot reach min.insync replicas (or timed out) with COORDINATOR_NOT_AVAILABLE.
    case Errors.NOT_ENOUGH_REPLICAS:
    case Errors.REQUEST_TIMED_OUT:
      return new SpoolError(Errors.COORDINATOR_NOT_AVAILABLE, error.message, { cause: error });
    default:
      return error;
  }
}

/** `wake` tells parked fetches of the partition (the followers' ReplicaFetch) that it grew, as a produce does. */
export function internalReplication(replicas: ReplicaManager, wake: (topic: string, partition: number) => void): InternalReplication {
  return {
    beforeAppend(topic, partition) {
      try {
        replicas.checkProduce(topic, partition, -1);
      } catch (error) {
        throw coordinatorError(error);
      }
    },
    afterAppend(topic, partition, endOffset) {
      try {
        wake(topic, partition);
        replicas.afterLeaderAppend(topic, partition);
        return replicas.waitForHighWatermark(topic, partition, endOffset).catch((error: unknown) => {
          throw coordinatorError(error);
        });
      } catch (error) {
        return Promise.reject(coordinatorError(error));
      }
    },
  };
}

/**
 * `{ cluster }` for GroupCoordinator.open when the broker has coordinator roles; `{}` on a
 * single node. Share groups then serve the data partitions this broker leads, with their
 * state at each group's share coordinator (share-persister-cluster.ts) and dead letters in
 * the cluster's `<group>.dlq` (share-dead-letters-cluster.ts), over `peers`.
 */
export function coordinatorCluster(
  options: BrokerOptions,
  replicas: ReplicaManager | undefined,
  wake: (topic: string, partition: number) => void,
  peers: PeerPool,
  context: () => BrokerContext,
): { cluster?: CoordinatorCluster } {
  if (options.coordinatorRoles === undefined) return {};
  const roles = options.coordinatorRoles;
  if (replicas === undefined) throw new SpoolError(Errors.INVALID_CONFIG, 'coordinatorRoles needs replication (a cluster member)');
  const partitions = options.offsetsTopicPartitions ?? DEFAULT_CLUSTER_INTERNAL_PARTITIONS;
  if (!(Number.isInteger(partitions) && partitions >= 1 && partitions <= MAX_INTERNAL_PARTITIONS)) {
    throw new SpoolError(Errors.INVALID_CONFIG, `offsetsTopicPartitions must be an integer in [1, ${MAX_INTERNAL_PARTITIONS}], got ${partitions}`);
  }
  return {
    cluster: {
      roles: options.coordinatorRoles,
      replication: internalReplication(replicas, wake),
      shares: {
        leadership: { leaderEpoch: (topic, partition) => replicas.servingEpoch(topic, partition), clustered: true },
        deadLetters: new ClusterDeadLetterSink(context, peers),
        persister: (state) => new ClusterSharePersister(state, roles, peers),
      },
      offsetsTopicPartitions: partitions,
      shareStateTopicPartitions: partitions,
    },
  };
}
