// A consumer's membership in a group (KIP-848 style; the broker side is src/groups):
// the heartbeat loop and the reconciliation of the owned partitions toward the
// assignment the coordinator sends.
//
// Heartbeats: join with memberEpoch 0 and the topics, then the current epoch and the
// owned partitions every heartbeatIntervalMs (the coordinator says how often), one
// request in flight, on a connection of the member's own (so a heartbeat never waits
// behind produce or fetch traffic). UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH: every
// partition is lost (dropped without committing: it may already belong to another
// member) and the member rejoins at once with epoch 0. Retriable failures (the broker
// restarting) are retried with backoff while the partitions keep being consumed; if the
// session ran out meanwhile, the next answer is UNKNOWN_MEMBER_ID.
//
// Reconciliation runs beside the heartbeats, one pass at a time (a newer assignment that
// arrives during a pass is handled by the next one):
//   assigned, not owned -> owned at once (reported in the next heartbeat), committed
//     offsets fetched (OffsetFetch), fetching starts there or, without a commit, at
//     earliest / latest; then onAssigned.
//   owned, not assigned -> fetching stops at once, the reader finishes the message it
//     holds of those partitions, the processed positions are committed (autoCommit),
//     onRevoked, and only then are they dropped from the owned set and a heartbeat is
//     sent right away so the coordinator can give them to their new owner.
// So a partition is never consumed by two members, and a clean move delivers nothing twice.

import { ApiKey, type ConsumerGroupHeartbeatRequest, type ConsumerGroupHeartbeatResponse, type OffsetFetchResponse, type TopicPartitions } from '../protocol/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import type { CoordinatorLink } from './coordinator-link.js';
import { errorFromCode, isRetriable } from './errors.js';
import { partitionKey, type PartitionAssignment, type TopicPartition } from './assignment.js';
import type { CommitIdentity, OffsetCommitter } from './offset-committer.js';
import { sleep } from './retry.js';

export interface RebalanceInfo {
  /** true when the partitions were lost (the member was fenced): nothing was committed. */
  lost: boolean;
}
export type PartitionsListener = (partitions: TopicPartition[], info: RebalanceInfo) => void | Promise<void>;

/** What the member needs from the consumer. */
export interface MemberConsumer {
  /** Starts fetching partitions at the given positions; resolves when they are known. */
  addPartitions(partitions: PartitionAssignment[]): Promise<void>;
  /** Stops fetching partitions and drops their buffered data. */
  removePartitions(partitions: TopicPartition[]): void;
  /** Resolves when the reader holds no message of these partitions (or `cancel` fires). */
  readerReleased(partitions: TopicPartition[], cancel: AbortSignal): Promise<void>;
  /** Ends the reader (iterator / run()) with an error that stops the member. */
  fail(error: Error): void;
  /** The next offset to deliver for an assigned partition; -1 while unresolved or unassigned. */
  position(partition: TopicPartition): number;
  assignedListeners: ReadonlySet<PartitionsListener>;
  revokedListeners: ReadonlySet<PartitionsListener>;
}

export interface GroupMemberOptions {
  groupId: string;
  topics: string[];
  sessionTimeoutMs: number;
  /** Where a partition without a committed offset starts. */
  startWithoutCommit: 'earliest' | 'latest';
  autoCommit: boolean;
  assignor?: 'uniform' | 'range';
}

/** How long close() waits for its last commit and the leave request. */
const CLOSE_REQUEST_TIMEOUT_MS = 5000;

export class GroupMember {
  memberId = '';
  /** 0 while joining (not a member: no commits); the coordinator's epoch after. */
  memberEpoch = 0;
  heartbeatIntervalMs: number;
  /** Partitions this member has (assigned and started, or being revoked). */
  private readonly owned = new Map<string, TopicPartition>();
  private target = new Map<string, TopicPartition>();
  private topics: string[];
  private sendTopics = true;
  private loopRunning: Promise<void> | null = null;
  private intervalWaiter: (() => void) | null = null;
  private heartbeatWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private joinWaiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private reconciling: Promise<void> | null = null;
  private reconcileAgain = false;
  /** Aborted when the partitions are lost (fence) or the member closes: in-progress moves stop. */
  private generation = new AbortController();
  private closing = false;
  /** Times this member was fenced (its partitions lost). */
  private fences = 0;
  /** heartbeatNow() was called while a heartbeat was out: send the next one without waiting. */
  private early = false;

  constructor(
    private readonly client: Client,
    private readonly consumer: MemberConsumer,
    private readonly committer: OffsetCommitter,
    private readonly options: GroupMemberOptions,
    /** Heartbeats and offset fetches go to the coordinator (coordinator-link.ts); the consumer owns and closes it. */
    private readonly coordinator: CoordinatorLink,
  ) {
    this.topics = [...options.topics];
    this.heartbeatIntervalMs = Math.max(100, Math.floor(options.sessionTimeoutMs / 3));
  }

  /** Joins; resolves after the first answer (its assignment is being started). */
  join(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => (this.joinWaiter = { resolve, reject }));
    this.loopRunning ??= this.loop();
    return joined;
  }

  /** A new subscription, sent with the next heartbeat (sent now). */
  subscribe(topics: string[]): void {
    this.topics = [...topics];
    this.sendTopics = true;
    this.heartbeatNow();
  }

  /** Who commits now; null while joining (no epoch yet). */
  identity(): CommitIdentity | null {
    return this.memberEpoch > 0 ? { memberId: this.memberId, memberEpoch: this.memberEpoch, generation: this.fences } : null;
  }

  owns(topic: string, partition: number): boolean {
    return this.memberEpoch > 0 && this.owned.has(partitionKey(topic, partition));
  }

  ownedPartitions(): TopicPartition[] {
    return [...this.owned.values()];
  }

  /** Sends a heartbeat now instead of at the end of the interval. */
  heartbeatNow(): void {
    const waiter = this.intervalWaiter;
    this.intervalWaiter = null;
    if (waiter !== null) waiter();
    else this.early = true;
  }

  /** Heartbeats now and resolves when its answer has been handled. */
  heartbeatAndWait(): Promise<void> {
    if (this.closing) return Promise.reject(new SpoolError(Errors.NETWORK_ERROR, 'consumer is closing'));
    const done = new Promise<void>((resolve, reject) => this.heartbeatWaiters.push({ resolve, reject }));
    this.heartbeatNow();
    return done;
  }

  // --- heartbeat loop -----------------------------------------------------------------

  private async loop(): Promise<void> {
    let failures = 0;
    let fencedInARow = 0;
    while (!this.closing) {
      let body: ConsumerGroupHeartbeatResponse;
      try {
        this.early = false; // this request carries the newest state
        const response = await this.client.send(ApiKey.ConsumerGroupHeartbeat, this.heartbeatRequest(), undefined, {
          connection: this.coordinator.connection(),
          timeoutMs: Math.min(this.client.requestTimeoutMs, Math.max(1000, this.options.sessionTimeoutMs)),
        });
        body = response.header as unknown as ConsumerGroupHeartbeatResponse;
      } catch (error) {
        // The connection turns a response's top-level error code into a rejection.
        if (this.closing) break;
        if (error instanceof SpoolError && (error.kind === Errors.UNKNOWN_MEMBER_ID || error.kind === Errors.FENCED_MEMBER_EPOCH)) {
          // Fenced (session timed out, broker restarted, zombie): the partitions may already be
          // someone else's, so they are dropped uncommitted and the member rejoins at once.
          this.loseAll();
          // A rejoin is at once; fenced again right after a rejoin means something is wrong
          // on the broker side: do not spin, back off like a retriable failure.
          if (fencedInARow++ > 0) await this.backoff(fencedInARow);
          continue;
        }
        if (!isRetriable(error)) {
          this.stopWith(error);
          break;
        }
        failures++;
        // The coordinator moved (cluster) or is down: find it again, then heartbeat there
        // (where this member is unknown and so rejoins).
        await this.coordinator.failed(error);
        await this.backoff(failures);
        continue;
      }
      if (this.closing) break;
      const error = errorFromCode(body.errorCode, body.errorMessage, `heartbeat of group ${this.options.groupId}`);
      if (error !== undefined) {
        this.stopWith(error); // not reached: the connection rejects on an error code
        break;
      }
      failures = 0;
      fencedInARow = 0;
      this.onAnswer(body);
      await this.waitInterval();
    }
  }

  private heartbeatRequest(): ConsumerGroupHeartbeatRequest {
    const request: ConsumerGroupHeartbeatRequest = {
      groupId: this.options.groupId,
      memberId: this.memberId,
      memberEpoch: this.memberEpoch,
      clientId: this.client.clientId,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
    };
    if (this.memberEpoch === 0 || this.sendTopics) request.topics = this.topics;
    if (this.memberEpoch === 0 && this.options.assignor !== undefined) request.assignor = this.options.assignor;
    if (this.memberEpoch > 0) request.ownedPartitions = toTopicPartitions(this.owned.values());
    return request;
  }

  private onAnswer(body: ConsumerGroupHeartbeatResponse): void {
    if (this.memberEpoch === 0 && body.memberEpoch > 0) {
      this.client.notify('group.join', { groupId: this.options.groupId, memberId: body.memberId, memberEpoch: body.memberEpoch });
    }
    this.memberId = body.memberId;
    this.memberEpoch = body.memberEpoch;
    this.sendTopics = false;
    if (body.heartbeatIntervalMs > 0) this.heartbeatIntervalMs = body.heartbeatIntervalMs;
    if (body.assignment !== undefined) {
      this.target = fromTopicPartitions(body.assignment);
      this.reconcile();
    }
    const joinWaiter = this.joinWaiter;
    this.joinWaiter = null;
    joinWaiter?.resolve();
    const waiters = this.heartbeatWaiters;
    this.heartbeatWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private waitInterval(): Promise<void> {
    // An early heartbeat was asked for while this one was out: send it now.
    if (this.closing || this.early || this.heartbeatWaiters.length > 0) {
      this.early = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.intervalWaiter = null;
        resolve();
      }, this.heartbeatIntervalMs);
      this.intervalWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async backoff(failures: number): Promise<void> {
    // Never wait much longer than the heartbeat interval: the session keeps running.
    const delayMs = Math.min(this.client.retryPolicy.delayMs(Math.min(failures - 1, 10)), Math.max(200, 2 * this.heartbeatIntervalMs));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.intervalWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.intervalWaiter = null;
  }

  /** A fatal heartbeat error (bad group id, session timeout outside the broker limits, ...). */
  private stopWith(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.client.notify('group.crash', { groupId: this.options.groupId, error: failure, restart: false });
    const joinWaiter = this.joinWaiter;
    this.joinWaiter = null;
    if (joinWaiter !== null) joinWaiter.reject(failure);
    else this.consumer.fail(failure);
    for (const waiter of this.heartbeatWaiters.splice(0)) waiter.reject(failure);
  }

  // --- reconciliation -----------------------------------------------------------------

  private reconcile(): void {
    if (this.reconciling !== null) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = this.reconcilePasses().finally(() => (this.reconciling = null));
  }

  private async reconcilePasses(): Promise<void> {
    do {
      this.reconcileAgain = false;
      if (this.closing) return;
      const signal = this.generation.signal;
      const added: TopicPartition[] = [];
      const revoked: TopicPartition[] = [];
      for (const [key, entry] of this.target) if (!this.owned.has(key)) added.push(entry);
      for (const [key, entry] of this.owned) if (!this.target.has(key)) revoked.push(entry);
      // New partitions count as owned from now: the next heartbeat reports them.
      for (const entry of added) this.owned.set(partitionKey(entry.topic, entry.partition), entry);
      if (added.length > 0 || revoked.length > 0) {
        this.client.notify('group.rebalance', { groupId: this.options.groupId, memberId: this.memberId, assigned: added, revoked, lost: false });
      }
      try {
        await Promise.all([this.start(added, signal), this.revoke(revoked, signal)]);
      } catch (error) {
        if (!signal.aborted) this.consumer.fail(error instanceof Error ? error : new Error(String(error)));
      }
    } while (this.reconcileAgain);
  }

  /** Newly assigned partitions: committed offsets, start positions, fetching, onAssigned. */
  private async start(partitions: TopicPartition[], signal: AbortSignal): Promise<void> {
    if (partitions.length === 0) return;
    const committed = await this.fetchCommitted(partitions, signal);
    if (signal.aborted) return;
    const positions: PartitionAssignment[] = partitions.map(({ topic, partition }) => {
      const offset = committed.get(partitionKey(topic, partition)) ?? -1;
      if (offset >= 0) this.committer.noteCommitted(topic, partition, offset);
      return { topic, partition, offset: offset >= 0 ? offset : this.options.startWithoutCommit };
    });
    const resolved = this.consumer.addPartitions(positions);
    await this.notify(this.consumer.assignedListeners, partitions, { lost: false });
    // A failure to resolve a position is reported to the reader by the fetch loop as well.
    await resolved.catch(() => undefined);
    // As in Kafka, the position a partition without a committed offset started at (earliest
    // or latest) is committed too, even before any message of it is processed: otherwise a
    // later member would start such a partition by its own reset rule and could skip messages.
    for (const { topic, partition, offset } of positions) {
      if (offset !== this.options.startWithoutCommit) continue;
      const start = this.consumer.position({ topic, partition });
      if (start >= 0) this.committer.noteStart(topic, partition, start);
    }
  }

  /** OffsetFetch, retried with backoff while the partitions are still this member's. */
  private async fetchCommitted(partitions: TopicPartition[], signal: AbortSignal): Promise<Map<string, number>> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.client.send(ApiKey.OffsetFetch, { groupId: this.options.groupId, partitions }, undefined, { connection: this.coordinator.connection() });
        const body = response.header as unknown as OffsetFetchResponse;
        const error = errorFromCode(body.errorCode, body.errorMessage, `committed offsets of group ${this.options.groupId}`);
        if (error) throw error;
        const offsets = new Map<string, number>();
        for (const entry of body.offsets ?? []) {
          if (entry.errorCode === 0) offsets.set(partitionKey(entry.topic, entry.partition), entry.offset);
        }
        return offsets;
      } catch (error) {
        if (signal.aborted || this.closing || !isRetriable(error)) throw error;
        await this.coordinator.failed(error);
        await sleep(this.client.retryPolicy.delayMs(Math.min(attempt, 10)), signal).catch(() => undefined);
      }
    }
  }

  /** Revoked partitions: stop, let the reader finish, commit, onRevoked, drop, heartbeat. */
  private async revoke(partitions: TopicPartition[], signal: AbortSignal): Promise<void> {
    if (partitions.length === 0) return;
    this.consumer.removePartitions(partitions);
    await this.consumer.readerReleased(partitions, signal);
    if (signal.aborted) return;
    if (this.options.autoCommit) {
      // A failed commit only means the next owner gets those messages again (at least once).
      await this.committer.commitProcessed(partitions).catch(() => undefined);
    }
    if (signal.aborted) return;
    await this.notify(this.consumer.revokedListeners, partitions, { lost: false });
    if (signal.aborted) return;
    this.release(partitions);
    this.heartbeatNow();
  }

  private release(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) this.owned.delete(partitionKey(topic, partition));
    this.committer.forget(partitions);
  }

  /** Fenced: every partition is dropped without a commit, and the member will rejoin with epoch 0. */
  private loseAll(): void {
    this.fences++;
    this.generation.abort();
    this.generation = new AbortController();
    const lost = [...this.owned.values()];
    this.consumer.removePartitions(lost);
    this.release(lost);
    this.target = new Map();
    this.memberEpoch = 0;
    this.sendTopics = true;
    this.client.notify('group.rebalance', { groupId: this.options.groupId, memberId: this.memberId, assigned: [], revoked: lost, lost: true });
    if (lost.length > 0) void this.notify(this.consumer.revokedListeners, lost, { lost: true }).catch((error: unknown) => this.consumer.fail(asError(error)));
  }

  private async notify(listeners: ReadonlySet<PartitionsListener>, partitions: TopicPartition[], info: RebalanceInfo): Promise<void> {
    for (const listener of listeners) await listener(partitions.map(({ topic, partition }) => ({ topic, partition })), info);
  }

  // --- leaving ------------------------------------------------------------------------

  /**
   * Leaves the group: stops heartbeats, commits the processed positions (autoCommit),
   * onRevoked, then a heartbeat with epoch -1 frees the partitions at once. The consumer
   * has stopped fetching and its reader has let go before this is called.
   */
  async close(reason = 'the consumer closed'): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.heartbeatNow();
    this.generation.abort();
    const joinWaiter = this.joinWaiter;
    this.joinWaiter = null;
    joinWaiter?.reject(new SpoolError(Errors.NETWORK_ERROR, 'consumer closed while joining'));
    for (const waiter of this.heartbeatWaiters.splice(0)) waiter.reject(new SpoolError(Errors.NETWORK_ERROR, 'consumer is closing'));
    await this.loopRunning;
    const owned = [...this.owned.values()];
    if (this.memberEpoch > 0) {
      if (this.options.autoCommit) await withTimeout(this.committer.commitProcessed(), CLOSE_REQUEST_TIMEOUT_MS).catch(() => undefined);
      await this.committer.drain();
      if (owned.length > 0) await this.notify(this.consumer.revokedListeners, owned, { lost: false }).catch(() => undefined);
      // Leaving is best effort: if it fails, the session timeout frees the partitions.
      await Promise.resolve()
        .then(() =>
          this.client.send(
            ApiKey.ConsumerGroupHeartbeat,
            { groupId: this.options.groupId, memberId: this.memberId, memberEpoch: -1 },
            undefined,
            { connection: this.coordinator.connection(), timeoutMs: CLOSE_REQUEST_TIMEOUT_MS },
          ),
        )
        .catch(() => undefined);
    }
    if (this.memberId !== '') this.client.notify('group.leave', { groupId: this.options.groupId, memberId: this.memberId, reason });
    this.owned.clear();
    this.memberEpoch = 0;
  }
}

function toTopicPartitions(partitions: Iterable<TopicPartition>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

function fromTopicPartitions(assignment: TopicPartitions[]): Map<string, TopicPartition> {
  const result = new Map<string, TopicPartition>();
  for (const { topic, partitions } of assignment) for (const partition of partitions) result.set(partitionKey(topic, partition), { topic, partition });
  return result;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
