// How a share-partition leader (share-groups.ts) reaches the share coordinator
// (share-coordinator-state.ts): KIP-932's persister. On a single node, and in a cluster
// when this broker coordinates the group, the calls go straight to the coordinator here
// (LocalSharePersister); otherwise the broker sends them to the coordinator's broker
// (src/broker/share-persister-cluster.ts, native APIs 62-65).
//
// A write is never retried once it may have reached the coordinator: snapshots are whole
// states taken at write time, so a retried older snapshot could land after a newer one.
// A failed write fails the acknowledgements it carried (the client's records are then
// delivered again); the next write carries everything.

import type { RecordInput } from '../records/index.js';
import type {
  ShareCoordinatorState,
  ShareGroupConfig,
  ShareStateRead,
  ShareStateWrite,
  ShareStateWriteResult,
} from './share-coordinator-state.js';

export interface SharePersister {
  /** read(), synchronously, when the coordinator is in this process (a single node): no promise on the fetch path. */
  readNow?(groupId: string, topic: string, partition: number, leaderEpoch: number): ShareStateRead;
  /** A share-partition's stored state, for a leader taking it up (fences older leader epochs). */
  read(groupId: string, topic: string, partition: number, leaderEpoch: number): Promise<ShareStateRead>;
  /** Stores snapshots; resolves once durable, with a per-partition answer and the group's config. */
  write(groupId: string, writes: readonly ShareStateWrite[]): Promise<ShareStateWriteResult>;
  /** Sets the group's config (unless one is set, with onlyIfUnset); answers the config in force. */
  configure(groupId: string, config: ShareGroupConfig, onlyIfUnset: boolean): Promise<ShareGroupConfig>;
  /** Admin reset of share-partitions' start offsets (bumps their state epochs). */
  reset(groupId: string, topic: string, targets: readonly { partition: number; offset: number }[]): Promise<void>;
  /** Stops retrying (the broker closes). */
  close?(): void;
}

/** The coordinator in this process. */
export class LocalSharePersister implements SharePersister {
  constructor(private readonly state: ShareCoordinatorState) {}

  readNow(groupId: string, topic: string, partition: number, leaderEpoch: number): ShareStateRead {
    return this.state.read(groupId, topic, partition, leaderEpoch);
  }

  read(groupId: string, topic: string, partition: number, leaderEpoch: number): Promise<ShareStateRead> {
    try {
      return Promise.resolve(this.state.read(groupId, topic, partition, leaderEpoch));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  write(groupId: string, writes: readonly ShareStateWrite[]): Promise<ShareStateWriteResult> {
    return this.state.write(groupId, writes);
  }

  configure(groupId: string, config: ShareGroupConfig, onlyIfUnset: boolean): Promise<ShareGroupConfig> {
    return this.state.configure(groupId, config, onlyIfUnset);
  }

  reset(groupId: string, topic: string, targets: readonly { partition: number; offset: number }[]): Promise<void> {
    return this.state.reset(groupId, topic, targets);
  }
}

/**
 * Where a share-partition leader writes dead letters: `<group>.dlq` (one partition,
 * created on first use). Resolves once the records are durable (in a cluster, on the
 * dead-letter partition's in-sync replicas).
 */
export interface DeadLetterSink {
  append(groupId: string, records: RecordInput[]): Promise<void>;
}

/**
 * Which data partitions this broker leads, and at which epoch: a share-partition is served
 * by its data partition's leader only. The broker supplies it in a cluster.
 */
export interface ShareLeadership {
  /** The leader epoch when this broker leads the partition now (-1: not replicated, a single node); null when it does not. */
  leaderEpoch(topic: string, partition: number): number | null;
  /** True in a cluster: share-partitions of groups without members here are dropped (their state is at the coordinator). */
  readonly clustered: boolean;
}

/** A single node leads every partition. */
export const SINGLE_NODE_LEADERSHIP: ShareLeadership = { leaderEpoch: () => -1, clustered: false };
