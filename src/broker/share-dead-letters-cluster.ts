// Dead letters of share groups in a cluster (groups/share-persister.ts DeadLetterSink):
// `<group>.dlq` is a topic of the cluster (one partition, created through the controller
// on first use, the cluster's default replication factor), and its partition may be led by
// any broker. The share-partition leader appends there with acks=all: on this broker when
// it leads the dead-letter partition, else by native AppendDeadLetters (66) to its leader
// (a broker's request, authorised as replication, so the inter-broker user needs no Write
// ACL on each `<group>.dlq`). Answered
// once the in-sync replicas hold the letters, before the snapshot that archives their
// records is written.
//
// A produce that failed after it may have been appended is tried again: a dead letter may
// then be written twice (at-least-once, as a producer without idempotence), never lost.

import { deadLetterTopic } from '../groups/share-dead-letter.js';
import type { DeadLetterSink } from '../groups/share-persister.js';
import { encodeBatch, type RecordInput } from '../records/index.js';
import { produce } from './core/produce.js';
import { ApiKey } from '../protocol/apis.js';
import { errorFromFields } from '../protocol/errors.js';
import type * as M from '../protocol/messages.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import type { BrokerContext } from './context.js';
import { NO_LEADER_ID } from './core/cluster-metadata.js';
import type { PeerPool } from './peer-requests.js';
import { retryUntil } from './retry-until.js';

const RETRIABLE = new Set<number>([
  Errors.NOT_LEADER_OR_FOLLOWER.code,
  Errors.UNKNOWN_TOPIC.code,
  Errors.UNKNOWN_LEADER_EPOCH.code,
  Errors.NOT_ENOUGH_REPLICAS.code,
  Errors.NETWORK_ERROR.code,
  Errors.REQUEST_TIMED_OUT.code,
  Errors.LEASE_LOST.code,
  Errors.FENCED_LEADER_EPOCH.code,
]);

export class ClusterDeadLetterSink implements DeadLetterSink {
  constructor(
    /** The broker's context (set once the broker is built; the cluster admin once it joined). */
    private readonly context: () => BrokerContext,
    private readonly peers: PeerPool,
    private readonly deadlineMs = 15_000,
  ) {}

  async append(groupId: string, records: RecordInput[]): Promise<void> {
    const ctx = this.context();
    const topic = deadLetterTopic(groupId);
    const admin = ctx.clusterAdmin;
    if (admin === undefined) throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, 'this broker has not joined its cluster yet');
    if (!admin.hasTopic(topic)) {
      try {
        await admin.createTopic(topic, 1);
      } catch (error) {
        if (!isSpoolError(error, Errors.TOPIC_ALREADY_EXISTS)) throw error;
      }
    }
    const batch = encodeBatch(records);
    await retryUntil(() => this.appendOnce(ctx, topic, groupId, batch), { retriable: RETRIABLE, deadlineMs: this.deadlineMs, firstWaitMs: 50, stopped: () => ctx.shuttingDown });
  }

  private async appendOnce(ctx: BrokerContext, topic: string, groupId: string, batch: Buffer): Promise<void> {
    const leadership = ctx.clusterMetadata.partition(topic, 0);
    if (leadership === undefined || leadership.leader === NO_LEADER_ID) {
      throw new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `${topic}-0 has no leader yet`);
    }
    if (leadership.leader === ctx.clusterMetadata.nodeId) {
      // Here: the core's produce, acks=all, no topic ACL (the broker writes on the group's behalf).
      const [result] = await produce(ctx, [{ topic, partition: 0, batches: batch }], -1);
      if (result!.error !== null) throw result!.error;
      return;
    }
    const broker = ctx.clusterMetadata.brokers().find((entry) => entry.nodeId === leadership.leader);
    if (broker === undefined) throw new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `${topic}-0: leader ${leadership.leader} is not a live broker`);
    const body: M.AppendDeadLettersRequest = { groupId, size: batch.length };
    const { header } = await this.peers.request(broker.host, broker.port, ApiKey.AppendDeadLetters, body, [batch]);
    const failure = errorFromFields(header);
    if (failure) throw failure;
  }
}
