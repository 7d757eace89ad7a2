// Committed offsets of a consumer group, on the client side. The consumer reports every
// processed message through its onProcessed hook (nextOffset = last processed + 1); the
// committer keeps the latest such position per partition and commits the ones that moved
// since the last commit: every autoCommitIntervalMs (autoCommit), when a partition is
// revoked, on close(), and on commit(). A commit carries the member id and epoch, so a
// member the coordinator has fenced cannot move the group's position.
//
// Only partitions the member owns are committed: the coordinator does not check that a
// commit comes from the partition's owner (as in KIP-848), so a late processed report of a
// partition already handed to another member must never reach the broker. Commits go out
// one at a time, in call order, so a later commit never lands before an earlier one.

import { ApiKey, type OffsetCommitResponse } from '../protocol/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import type { CoordinatorLink } from './coordinator-link.js';
import { partitionKey, type TopicPartition } from './assignment.js';
import { errorFromCode, isRetriable } from './errors.js';
import { sleep } from './retry.js';
import { parseOffset } from './offset-input.js';

export interface CommitOffset extends TopicPartition {
  /** The next offset to consume (last processed + 1), as in Kafka. */
  offset: number;
  metadata?: string;
}

/** What commit() takes: the offset may also be a numeric string or a bigint (kafkajs habit). */
export interface CommitOffsetInput extends TopicPartition {
  offset: number | string | bigint;
  metadata?: string;
}

/** Who commits: a member (id, epoch), or '' / -1 for a consumer outside the group protocol (assign()). */
export interface CommitIdentity {
  memberId: string;
  memberEpoch: number;
  /** Bumped each time the member is fenced: offsets chosen before a fence are never sent after it. */
  generation: number;
}

export interface OffsetCommitterOptions {
  groupId: string;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  /** The identity to commit with now, or null when the member has no epoch yet (joining). */
  identity(): CommitIdentity | null;
  /** Whether the partition may be committed now (owned by the member / assigned). */
  owns(topic: string, partition: number): boolean;
  /** Heartbeats now and resolves with the response: after STALE_MEMBER_EPOCH the epoch is refreshed. */
  refreshEpoch(): Promise<void>;
  /** Commits go to the group's coordinator (coordinator-link.ts); absent: the client's shared connection. */
  coordinator?: CoordinatorLink;
}

interface Position {
  topic: string;
  partition: number;
  /** Latest processed position (may move backwards after a seek: that is the position). */
  processed: number;
  /** Last value known committed for this group (-1 unknown). */
  committed: number;
}

const STALE_EPOCH_RETRIES = 3;

export class OffsetCommitter {
  private readonly positions = new Map<string, Position>();
  /** The entry of the last processed report: consecutive messages of one partition skip the map. */
  private lastPosition: Position | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: Client,
    private readonly options: OffsetCommitterOptions,
  ) {}

  /** The consumer's onProcessed listener (hot path: one comparison for consecutive messages of one partition). */
  readonly onProcessed = (topic: string, partition: number, nextOffset: number): void => {
    let position = this.lastPosition;
    if (position === null || position.partition !== partition || position.topic !== topic) {
      const key = partitionKey(topic, partition);
      position = this.positions.get(key) ?? null;
      if (position === null) {
        position = { topic, partition, processed: -1, committed: -1 };
        this.positions.set(key, position);
      }
      this.lastPosition = position;
    }
    position.processed = nextOffset;
  };

  /** A partition starts at a committed offset (from OffsetFetch): nothing to commit until it moves. */
  noteCommitted(topic: string, partition: number, offset: number): void {
    const key = partitionKey(topic, partition);
    const position = this.positions.get(key);
    if (position === undefined) this.positions.set(key, { topic, partition, processed: -1, committed: offset });
    else {
      position.committed = offset;
      position.processed = -1;
    }
  }

  /**
   * The position an uncommitted partition started at: committed with the next commit unless
   * a processed report came first (that one is newer).
   */
  noteStart(topic: string, partition: number, offset: number): void {
    const key = partitionKey(topic, partition);
    const position = this.positions.get(key);
    if (position === undefined) this.positions.set(key, { topic, partition, processed: offset, committed: -1 });
    else if (position.processed < 0) position.processed = offset;
  }

  /** Forgets partitions (released or lost): later reports of them start over. */
  forget(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) this.positions.delete(partitionKey(topic, partition));
    this.lastPosition = null;
  }

  /** The processed position of a partition (-1 none yet). */
  processed(topic: string, partition: number): number {
    return this.positions.get(partitionKey(topic, partition))?.processed ?? -1;
  }

  /** Starts the auto-commit timer (if autoCommit). */
  start(): void {
    if (!this.options.autoCommit || this.timer !== null) return;
    this.timer = setInterval(() => {
      // A failed auto-commit is retried on the next tick; meanwhile the uncommitted
      // messages would only be delivered again (at least once), so nothing is lost.
      this.commitProcessed().catch(() => undefined);
    }, this.options.autoCommitIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Commits the processed positions that moved since the last commit, of the given
   * partitions (default: every owned one). Resolves when the broker has them.
   */
  commitProcessed(partitions?: TopicPartition[]): Promise<void> {
    return this.enqueue(() => {
      const offsets: CommitOffset[] = [];
      const selected =
        partitions === undefined ? [...this.positions.values()] : partitions.map(({ topic, partition }) => this.positions.get(partitionKey(topic, partition)));
      for (const position of selected) {
        if (position === undefined || position.processed < 0 || position.processed === position.committed) continue;
        if (!this.options.owns(position.topic, position.partition)) continue;
        offsets.push({ topic: position.topic, partition: position.partition, offset: position.processed });
      }
      return offsets;
    });
  }

  /** Commits explicit offsets (next offset to consume). Every partition must be owned. */
  commitOffsets(inputs: CommitOffsetInput[]): Promise<void> {
    const offsets: CommitOffset[] = [];
    for (const entry of inputs) {
      const offset = parseOffset(entry.offset);
      if (offset === null) {
        return Promise.reject(new SpoolError(Errors.INVALID_REQUEST, `cannot commit ${entry.topic}/${entry.partition}: offset must be an integer >= 0 (a number, a numeric string or a bigint), got ${String(entry.offset)}`));
      }
      offsets.push({ ...entry, offset });
      if (!this.options.owns(entry.topic, entry.partition)) {
        return Promise.reject(new SpoolError(Errors.INVALID_REQUEST, `${entry.topic}/${entry.partition} is not assigned to this consumer; it cannot commit it`));
      }
    }
    return this.enqueue(() => offsets);
  }

  /** Waits for every commit queued so far (their failures are the callers' business). */
  async drain(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  private enqueue(select: () => CommitOffset[]): Promise<void> {
    // The offsets are chosen when the commit's turn comes, so they are the newest ones.
    const run = this.chain.catch(() => undefined).then(() => this.send(select()));
    this.chain = run;
    return run;
  }

  private async send(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    let staleRetries = 0;
    const generation = this.options.identity()?.generation;
    for (let attempt = 0; ; attempt++) {
      const identity = this.options.identity();
      if (identity === null) throw new SpoolError(Errors.UNKNOWN_MEMBER_ID, `not a member of group ${this.options.groupId} (joining): cannot commit`);
      // A retry after the member was fenced and rejoined would commit partitions that may be
      // someone else's by now, with a valid epoch: it is dropped instead.
      if (identity.generation !== generation) throw new SpoolError(Errors.UNKNOWN_MEMBER_ID, `fenced from group ${this.options.groupId} since these offsets were chosen: not committed`);
      // A partition released while this commit waited for a retry is someone else's now.
      offsets = offsets.filter((entry) => this.options.owns(entry.topic, entry.partition));
      if (offsets.length === 0) return;
      let body: OffsetCommitResponse;
      try {
        const response = await this.client.send(ApiKey.OffsetCommit, {
          groupId: this.options.groupId,
          memberId: identity.memberId,
          memberEpoch: identity.memberEpoch,
          offsets: offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, offset: entry.offset, ...(entry.metadata !== undefined ? { metadata: entry.metadata } : {}) })),
        }, undefined, this.options.coordinator ? { connection: this.options.coordinator.connection() } : {});
        body = response.header as unknown as OffsetCommitResponse;
      } catch (error) {
        // The connection turns a top-level error code into a rejection. A stale epoch means a
        // heartbeat answer with a newer one is on its way: learn it, then commit with it.
        if (error instanceof SpoolError && error.kind === Errors.STALE_MEMBER_EPOCH) {
          if (staleRetries++ >= STALE_EPOCH_RETRIES) throw error;
          await this.options.refreshEpoch();
          continue;
        }
        if (!isRetriable(error) || attempt >= this.client.retryPolicy.options.retries || this.client.signal.aborted) throw error;
        // The coordinator moved or is down (cluster): find it, then commit there.
        await this.options.coordinator?.failed(error);
        await sleep(this.client.retryPolicy.delayMs(attempt), this.client.signal);
        continue;
      }
      const failure = this.firstPartitionError(body);
      this.noteSent(offsets, body);
      if (failure !== undefined) throw failure;
      return;
    }
  }

  private firstPartitionError(body: OffsetCommitResponse): SpoolError | undefined {
    for (const entry of body.partitions ?? []) {
      const error = errorFromCode(entry.errorCode, entry.errorMessage, `commit of ${entry.topic}/${entry.partition} in group ${this.options.groupId}`);
      if (error) return error;
    }
    return undefined;
  }

  /** Records what the broker accepted (per partition) as committed. */
  private noteSent(offsets: CommitOffset[], body: OffsetCommitResponse): void {
    const results = body.partitions ?? [];
    for (const entry of offsets) {
      const result = results.find((item) => item.topic === entry.topic && item.partition === entry.partition);
      if (result === undefined || result.errorCode !== 0 || body.errorCode !== 0) continue;
      const position = this.positions.get(partitionKey(entry.topic, entry.partition));
      if (position !== undefined) position.committed = entry.offset;
    }
  }
}
