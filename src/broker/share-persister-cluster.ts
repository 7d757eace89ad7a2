// The share-group persister of a cluster broker (groups/share-persister.ts): a
// share-partition leader's reads and writes go to the group's share coordinator, the
// leader of the group's __share_group_state partition: straight to this broker's own
// coordinator state when that is here, else over native 62-65 to the leader's broker.
//
// Reads, configs and resets are retried (on NOT_COORDINATOR, no coordinator yet, a broken
// connection) until `deadlineMs`: they are idempotent. A write is sent once: a snapshot
// retried after a newer one was stored would go back in time (share-persister.ts); only
// "no coordinator known" (nothing sent yet) waits and tries again.

import { coordinatorPartitionOf, type CoordinatorAddress, type CoordinatorRoles } from '../groups/coordinator-placement.js';
import type {
  ShareCoordinatorState,
  ShareGroupConfig,
  ShareStateRead,
  ShareStateWrite,
  ShareStateWriteResult,
} from '../groups/share-coordinator-state.js';
import type { SharePersister } from '../groups/share-persister.js';
import { SHARE_STATE_TOPIC } from '../groups/share-state-store.js';
import { ApiKey } from '../protocol/apis.js';
import { errorFromFields } from '../protocol/errors.js';
import type * as M from '../protocol/messages.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { PeerPool } from './peer-requests.js';
import { retryUntil } from './retry-until.js';
import { configFromWire, configToWire, runsFromWire, runsToWire } from './share-state-wire.js';

/** Errors after which a read (or config, reset) goes to the coordinator again. */
const RETRIABLE = new Set<number>([
  Errors.NOT_COORDINATOR.code,
  Errors.COORDINATOR_NOT_AVAILABLE.code,
  Errors.NETWORK_ERROR.code,
  Errors.REQUEST_TIMED_OUT.code,
  Errors.SHUTTING_DOWN.code,
]);

export interface ClusterSharePersisterSettings {
  /** How long a read, config or reset keeps trying before it fails (default 10 s). */
  deadlineMs?: number;
  /** First wait between tries (doubles up to 1 s; default 50 ms). */
  backoffMs?: number;
}

type Target = { local: true } | { local: false; address: CoordinatorAddress };

export class ClusterSharePersister implements SharePersister {
  private readonly deadlineMs: number;
  private readonly backoffMs: number;
  private closed = false;

  constructor(
    private readonly local: ShareCoordinatorState,
    private readonly roles: CoordinatorRoles,
    private readonly peers: PeerPool,
    settings: ClusterSharePersisterSettings = {},
  ) {
    this.deadlineMs = settings.deadlineMs ?? 10_000;
    this.backoffMs = settings.backoffMs ?? 50;
  }

  close(): void {
    this.closed = true;
  }

  /** Where the group's coordinator is now; null while its state partition has no leader. */
  private target(groupId: string): Target | null {
    const partition = coordinatorPartitionOf(groupId, this.local.store.partitionCount);
    if (this.roles.leads(SHARE_STATE_TOPIC, partition)) return { local: true };
    const address = this.roles.leader(SHARE_STATE_TOPIC, partition);
    return address === null ? null : { local: false, address };
  }

  private async request(address: CoordinatorAddress, apiKey: number, body: object): Promise<Record<string, unknown>> {
    const { header } = await this.peers.request(address.host, address.port, apiKey, body);
    const failure = errorFromFields(header);
    if (failure) throw failure;
    return header;
  }

  /** Runs `attempt` against the coordinator, trying again on retriable errors (a coordinator not known yet among them) until the deadline. */
  private withRetry<T>(groupId: string, attempt: (target: Target) => Promise<T> | T): Promise<T> {
    return retryUntil(
      async () => {
        if (this.closed) throw new SpoolError(Errors.SHUTTING_DOWN, 'the broker is shutting down');
        const target = this.target(groupId);
        if (target === null) throw new SpoolError(Errors.COORDINATOR_NOT_AVAILABLE, `share group ${groupId}: its ${SHARE_STATE_TOPIC} partition has no leader`);
        return attempt(target);
      },
      { retriable: RETRIABLE, deadlineMs: this.deadlineMs, firstWaitMs: this.backoffMs, stopped: () => this.closed },
    );
  }

  read(groupId: string, topic: string, partition: number, leaderEpoch: number): Promise<ShareStateRead> {
    return this.withRetry(groupId, async (target) => {
      if (target.local) return this.local.read(groupId, topic, partition, leaderEpoch);
      const body: M.ReadShareGroupStateRequest = { groupId, topic, partition, leaderEpoch };
      const response = (await this.request(target.address, ApiKey.ReadShareGroupState, body)) as unknown as M.ReadShareGroupStateResponse;
      const value = response.startOffset < 0 ? null : { startOffset: response.startOffset, runs: runsFromWire(response.startOffset, response.runs ?? []) };
      return { value, stateEpoch: response.stateEpoch, config: configFromWire(response.config) };
    });
  }

  async write(groupId: string, writes: readonly ShareStateWrite[]): Promise<ShareStateWriteResult> {
    const deadline = Date.now() + this.deadlineMs;
    let target = this.target(groupId);
    // Nothing sent yet: waiting for a coordinator to be known is safe.
    while (target === null && Date.now() < deadline && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
      target = this.target(groupId);
    }
    if (target === null) throw new SpoolError(Errors.COORDINATOR_NOT_AVAILABLE, `share group ${groupId}: its ${SHARE_STATE_TOPIC} partition has no leader`);
    if (target.local) return this.local.write(groupId, writes);
    const body: M.WriteShareGroupStateRequest = {
      groupId,
      partitions: writes.map((write) => ({
        topic: write.topic,
        partition: write.partition,
        leaderEpoch: write.leaderEpoch,
        stateEpoch: write.stateEpoch,
        startOffset: write.startOffset,
        runs: runsToWire(write.runs),
      })),
    };
    const response = (await this.request(target.address, ApiKey.WriteShareGroupState, body)) as unknown as M.WriteShareGroupStateResponse;
    return { partitions: response.partitions ?? [], config: configFromWire(response.config) };
  }

  configure(groupId: string, config: ShareGroupConfig, onlyIfUnset: boolean): Promise<ShareGroupConfig> {
    return this.withRetry(groupId, async (target) => {
      if (target.local) return this.local.configure(groupId, config, onlyIfUnset);
      const body: M.ConfigureShareGroupRequest = { groupId, onlyIfUnset, ...configToWire(config) };
      const response = (await this.request(target.address, ApiKey.ConfigureShareGroup, body)) as unknown as M.ConfigureShareGroupResponse;
      return configFromWire(response.config);
    });
  }

  reset(groupId: string, topic: string, targets: readonly { partition: number; offset: number }[]): Promise<void> {
    return this.withRetry(groupId, async (target) => {
      if (target.local) return this.local.reset(groupId, topic, targets);
      const body: M.ResetShareGroupStateRequest = { groupId, topic, partitions: targets.map(({ partition, offset }) => ({ partition, offset })) };
      await this.request(target.address, ApiKey.ResetShareGroupState, body);
    });
  }
}
