// The follower side of replication: one fetcher per leader broker (Kafka's
// ReplicaFetcherThread with a fetch session), over one LeaderChannel (one connection). It
// holds every partition this broker follows from that leader; partitions are added and
// removed as roles change. Per partition it first truncates the local log where it
// diverges from the leader's (OffsetForLeaderEpoch), then fetches from the log end,
// appends with the leader's offsets and epochs (appendAsFollower), and moves the local
// high watermark to min(leader's HW, local log end).
//
// A round: one OffsetForLeaderEpoch listing every partition due for truncation, then one
// ReplicaFetch listing every partition that fetches (at most maxPartitionsPerRequest each,
// the window and the order rotating every round so no partition is starved of the
// request's bytes). The leader parks the fetch up to maxWaitMs while none has data.
//
// Truncation (KIP-101/279): the follower asks where its latest epoch E ends in the
// leader's log. The leader answers (E', end) with E' the largest epoch <= E it knows. If
// E' == E the follower truncates to min(end, its log end); otherwise it also caps at where
// E' ends in its own log. No local epochs, or an unknown answer (-1): truncate to the high
// watermark (what was known replicated). A fetch answered OFFSET_OUT_OF_RANGE or a batch
// that does not continue the log (UNEXPECTED_APPEND_OFFSET) goes back to truncation,
// unless the leader's log now starts past this log's end (its retention moved on): then
// the log is emptied and restarted at the leader's log start (truncateFullyAndStartAt).
//
// Errors are per partition: a partition answered with an error (NOT_LEADER_OR_FOLLOWER,
// FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, ...) is left out of the rounds for
// retryBackoffMs while the others go on (the cluster layer moves it to another fetcher, or
// gives it a new epoch, when the state changes). Answers that are expected while the
// cluster's state settles (a leader that has not created the log of a new topic yet, or
// has not yet heard that it leads at this epoch: UNKNOWN_TOPIC, UNKNOWN_PARTITION,
// NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH) are retried the same way without a warning
// for settlingQuietMs (10 s); one that lasts longer is warned about once. Kafka's fetcher
// logs the last three at debug; creating a topic must not log a line per partition. A
// failed request as a whole (the
// connection) backs off retryBackoffMs, doubling per failure in a row up to
// maxRetryBackoffMs, and reconnects.
//
// Throttle (README.md "Reassignment throttle"): a partition the FetchThrottle names (a new
// replica catching up during a throttled reassignment) asks for at most the bytes its token
// bucket holds, reserved before the request and the unused part given back after it; with the
// bucket empty (or in debt: the leader answers at least one batch) it is left out of the rounds
// until the bucket refills, while the fetcher's other partitions go on.
//
// The transport is a LeaderChannel the broker supplies (a native-protocol connection), so
// this module needs only storage and util.

import { performance } from 'node:perf_hooks';
import type { ReplicaLog } from '../storage/types.js';
import type { TokenBucket } from './token-bucket.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';

export interface EpochEndRequest {
  topic: string;
  partition: number;
  currentLeaderEpoch: number;
  leaderEpoch: number;
}

export interface EpochEndAnswer {
  topic: string;
  partition: number;
  /** The partition's error, or null. */
  error: SpoolError | null;
  epoch: number;
  endOffset: number;
}

export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  leaderEpoch: number;
  fetchOffset: number;
  maxBytes: number;
}

export interface FetchPartitionAnswer {
  topic: string;
  partition: number;
  /** The partition's error, or null. With OFFSET_OUT_OF_RANGE the leader's bounds below are set. */
  error: SpoolError | null;
  /** Whole batches; the fetcher may keep it past the call (a channel hands out its own copy). */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

/** How a fetcher talks to one leader broker (one connection); protocol-neutral. */
export interface LeaderChannel {
  /** OffsetForLeaderEpoch for many partitions; per-partition errors in the answers, throws only when the request as a whole fails. */
  offsetsForLeaderEpoch(partitions: readonly EpochEndRequest[]): Promise<EpochEndAnswer[]>;
  /** ReplicaFetch for many partitions (the leader parks up to maxWaitMs); per-partition errors in the answers, throws only when the request as a whole fails. */
  replicaFetch(request: { maxWaitMs: number; maxBytes: number; partitions: readonly FetchPartitionRequest[] }): Promise<FetchPartitionAnswer[]>;
  close(): void;
}

/** Which partitions' fetches are throttled now, and their byte budget (replication-throttle.ts). */
export interface FetchThrottle {
  /** The bucket this partition's fetches take from now, or null when it is not throttled. */
  bucketFor(topic: string, partition: number): TokenBucket | null;
}

export interface ReplicaFetcherOptions {
  channel: LeaderChannel;
  /** Names the leader in warnings (e.g. "broker 3"). */
  leaderName?: string;
  /** Bytes per partition per fetch (default 1 MiB; at least one batch is always answered). */
  partitionMaxBytes?: number;
  /** Bytes per fetch over all partitions (default 10 MiB, Kafka's replica.fetch.response.max.bytes; the leader caps it further). */
  maxBytes?: number;
  /** How long the leader parks a fetch with nothing new (default 500 ms, Kafka's replica.fetch.wait.max.ms). */
  maxWaitMs?: number;
  /** Pause of a failed partition, and the first pause after a failed request (default 100 ms). */
  retryBackoffMs?: number;
  /** The longest pause after failed requests in a row (default 1,000 ms). */
  maxRetryBackoffMs?: number;
  /** Partitions per request (default 1,000: the native maxPartitionsPerFetch). */
  maxPartitionsPerRequest?: number;
  /**
   * How long a partition's run of settling answers (see the file comment) is retried
   * without a warning (default 10,000 ms).
   */
  settlingQuietMs?: number;
  warn: (message: string, partition?: { topic: string; partition: number }) => void;
  /** The reassignment throttle; absent: nothing is throttled. */
  throttle?: FetchThrottle;
}

export interface FollowedPartition {
  topic: string;
  partition: number;
  log: ReplicaLog;
  /** The leader epoch this partition follows. */
  leaderEpoch: number;
}

export type FetcherPhase = 'truncating' | 'fetching' | 'stopped';

export interface PartitionCounters {
  /** Fetches that appended bytes. */
  fetches: number;
  appendedBatchBytes: number;
  truncations: number;
}

interface PartitionFetchState extends FollowedPartition {
  phase: 'truncating' | 'fetching';
  /** Left out of rounds until then (performance.now() ms). */
  delayedUntilMs: number;
  removed: boolean;
  /** An append under way (removal waits for it). */
  busy: Promise<void> | null;
  lastWarning: string;
  /** When the partition's current run of settling answers began (performance.now() ms), or null. */
  settlingSinceMs: number | null;
  counters: PartitionCounters;
}

const DEFAULT_PARTITION_MAX_BYTES = 1024 * 1024;
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_WAIT_MS = 500;
const DEFAULT_RETRY_BACKOFF_MS = 100;
const DEFAULT_MAX_RETRY_BACKOFF_MS = 1000;
const DEFAULT_MAX_PARTITIONS_PER_REQUEST = 1000;
const DEFAULT_SETTLING_QUIET_MS = 10_000;

/**
 * A leader's answer that is expected for a moment after a state change (a new topic whose
 * log the leader has not created yet; a leadership or epoch the leader has not heard of
 * yet): retried, and warned about only when it lasts.
 */
function isSettling(error: unknown): boolean {
  return (
    isSpoolError(error, Errors.UNKNOWN_TOPIC) ||
    isSpoolError(error, Errors.UNKNOWN_PARTITION) ||
    isSpoolError(error, Errors.NOT_LEADER_OR_FOLLOWER) ||
    isSpoolError(error, Errors.UNKNOWN_LEADER_EPOCH)
  );
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaFetcher {
  private readonly partitions = new Map<string, PartitionFetchState>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Rotates the window and order of the partitions in a request. */
  private cursor = 0;
  private failuresInRow = 0;
  private lastWarning = '';
  /** Over all partitions, removed ones included (for tests and metrics). */
  readonly counters = { fetches: 0, appendedBatchBytes: 0, truncations: 0, requests: 0, throttledSkips: 0 };

  constructor(private readonly options: ReplicaFetcherOptions) {}

  get size(): number {
    return this.partitions.size;
  }

  has(topic: string, partition: number): boolean {
    return this.partitions.has(key(topic, partition));
  }

  /** 'stopped' when the partition is not (or no longer) in this fetcher. */
  phaseOf(topic: string, partition: number): FetcherPhase {
    return this.partitions.get(key(topic, partition))?.phase ?? 'stopped';
  }

  countersOf(topic: string, partition: number): PartitionCounters | undefined {
    return this.partitions.get(key(topic, partition))?.counters;
  }

  /**
   * Follows a partition (again, when it is here with another epoch or log: it truncates
   * first). The caller must not add a partition another fetcher still holds: wait for that
   * one's remove().
   */
  add(followed: FollowedPartition): void {
    if (this.stopped) throw new SpoolError(Errors.SHUTTING_DOWN, 'the replica fetcher is stopped');
    const id = key(followed.topic, followed.partition);
    const current = this.partitions.get(id);
    if (current && current.leaderEpoch === followed.leaderEpoch && current.log === followed.log) return;
    if (current) current.removed = true;
    // A replaced state's append (if any) ends before the next round: rounds run one at a time.
    this.partitions.set(id, {
      topic: followed.topic,
      partition: followed.partition,
      log: followed.log,
      leaderEpoch: followed.leaderEpoch,
      phase: 'truncating',
      delayedUntilMs: 0,
      removed: false,
      busy: null,
      lastWarning: '',
      settlingSinceMs: null,
      counters: { fetches: 0, appendedBatchBytes: 0, truncations: 0 },
    });
    this.wake?.();
  }

  /**
   * Stops following a partition. Resolves once this fetcher no longer touches its log (at
   * once, unless an append is under way); a round in flight that lists it ignores its answer.
   */
  remove(topic: string, partition: number): Promise<void> {
    const id = key(topic, partition);
    const state = this.partitions.get(id);
    if (!state) return Promise.resolve();
    this.partitions.delete(id);
    state.removed = true;
    return state.busy ?? Promise.resolve();
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.run();
  }

  /** Stops the loop and closes the channel; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.partitions.values()) state.removed = true;
    this.options.channel.close();
    this.wake?.();
    await this.running;
    await Promise.all([...this.partitions.values()].map((state) => state.busy));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const nowMs = performance.now();
      const ready: PartitionFetchState[] = [];
      let nextDueMs = Number.POSITIVE_INFINITY;
      for (const state of this.partitions.values()) {
        if (state.delayedUntilMs <= nowMs) ready.push(state);
        else nextDueMs = Math.min(nextDueMs, state.delayedUntilMs);
      }
      if (ready.length === 0) {
        await this.pause(nextDueMs === Number.POSITIVE_INFINITY ? null : nextDueMs - nowMs);
        continue;
      }
      try {
        const truncating = ready.filter((state) => state.phase === 'truncating');
        if (truncating.length > 0) await this.truncate(this.window(truncating));
        if (this.stopped) break;
        const fetching = ready.filter((state) => state.phase === 'fetching' && this.isCurrent(state) && state.delayedUntilMs <= nowMs);
        if (fetching.length > 0) await this.fetch(this.window(fetching));
        this.failuresInRow = 0;
        this.lastWarning = '';
      } catch (error) {
        if (this.stopped) break;
        // The request as a whole failed (connection refused or dropped, leader shutting down).
        this.failuresInRow++;
        const message = `replica fetcher${this.options.leaderName ? ` from ${this.options.leaderName}` : ''}: ${error instanceof Error ? error.message : String(error)}`;
        if (message !== this.lastWarning) this.options.warn(message);
        this.lastWarning = message;
        const base = this.options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
        const max = this.options.maxRetryBackoffMs ?? DEFAULT_MAX_RETRY_BACKOFF_MS;
        await this.pause(Math.min(max, base * 2 ** Math.min(20, this.failuresInRow - 1)));
      }
    }
  }

  /** At most maxPartitionsPerRequest, starting at a rotating place. */
  private window(states: PartitionFetchState[]): PartitionFetchState[] {
    const limit = this.options.maxPartitionsPerRequest ?? DEFAULT_MAX_PARTITIONS_PER_REQUEST;
    const start = this.cursor % states.length;
    this.cursor = (this.cursor + 1) >>> 0;
    const rotated = start === 0 ? states : [...states.slice(start), ...states.slice(0, start)];
    return rotated.length > limit ? rotated.slice(0, limit) : rotated;
  }

  /** Sleeps `ms` (null: until woken); add() and stop() wake it. */
  private pause(ms: number | null): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === null ? null : setTimeout(() => done(), Math.max(1, ms));
      const done = (): void => {
        if (timer) clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      this.wake = done;
    });
  }

  private isCurrent(state: PartitionFetchState): boolean {
    return !state.removed && !this.stopped && this.partitions.get(key(state.topic, state.partition)) === state;
  }

  /** A partition's failure: back to truncation when the logs disagree; out of the rounds for a while. */
  private partitionFailed(state: PartitionFetchState, error: unknown): void {
    if (isSpoolError(error, Errors.OFFSET_OUT_OF_RANGE) && this.startOverAt(state, error)) return;
    if (isSpoolError(error, Errors.OFFSET_OUT_OF_RANGE) || isSpoolError(error, Errors.UNEXPECTED_APPEND_OFFSET)) state.phase = 'truncating';
    const nowMs = performance.now();
    state.delayedUntilMs = nowMs + (this.options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS);
    let lasted = '';
    if (isSettling(error)) {
      state.settlingSinceMs ??= nowMs;
      const quietMs = this.options.settlingQuietMs ?? DEFAULT_SETTLING_QUIET_MS;
      if (nowMs - state.settlingSinceMs < quietMs) return;
      lasted = ` (for over ${quietMs} ms)`;
    } else {
      state.settlingSinceMs = null;
    }
    // One line per distinct failure, not one per retry.
    const message = `replica fetcher ${state.topic}-${state.partition}: ${error instanceof Error ? error.message : String(error)}${lasted}`;
    if (message !== state.lastWarning) this.options.warn(message, { topic: state.topic, partition: state.partition });
    state.lastWarning = message;
  }

  private truncateTo(state: PartitionFetchState, offset: number): void {
    const target = Math.max(offset, state.log.logStartOffset);
    if (target < state.log.logEndOffset) {
      state.log.truncateTo(target);
      state.counters.truncations++;
      this.counters.truncations++;
    }
    state.phase = 'fetching';
    state.lastWarning = '';
    state.settlingSinceMs = null;
  }

  /** Truncates each log to where it agrees with the leader's (see the file comment). */
  private async truncate(states: PartitionFetchState[]): Promise<void> {
    const asked: Array<{ state: PartitionFetchState; latest: number }> = [];
    for (const state of states) {
      const latest = state.log.latestLeaderEpoch;
      if (latest < 0) this.truncateTo(state, state.log.highWatermark);
      else asked.push({ state, latest });
    }
    if (asked.length === 0) return;
    this.counters.requests++;
    const answers = await this.options.channel.offsetsForLeaderEpoch(
      asked.map(({ state, latest }) => ({ topic: state.topic, partition: state.partition, currentLeaderEpoch: state.leaderEpoch, leaderEpoch: latest })),
    );
    const byKey = new Map(answers.map((answer) => [key(answer.topic, answer.partition), answer]));
    for (const { state, latest } of asked) {
      if (!this.isCurrent(state)) continue;
      const answer = byKey.get(key(state.topic, state.partition));
      if (!answer) {
        this.partitionFailed(state, new SpoolError(Errors.INVALID_REQUEST, 'OffsetForLeaderEpoch answered without this partition'));
        continue;
      }
      if (answer.error) {
        this.partitionFailed(state, answer.error);
        continue;
      }
      const log = state.log;
      let target: number;
      if (answer.endOffset < 0) {
        target = log.highWatermark;
      } else {
        target = Math.min(answer.endOffset, log.logEndOffset);
        if (answer.epoch !== latest) {
          const own = log.endOffsetForEpoch(answer.epoch);
          if (own.endOffset >= 0) target = Math.min(target, own.endOffset);
        }
      }
      this.truncateTo(state, target);
    }
  }

  /**
   * The leader's log starts past this log's end (its retention or DeleteRecords moved on):
   * empty the log and start at the leader's start.
   */
  private startOverAt(state: PartitionFetchState, error: unknown): boolean {
    const leaderStart = (error as { logStartOffset?: unknown }).logStartOffset;
    const log = state.log;
    if (typeof leaderStart !== 'number' || leaderStart <= log.logEndOffset) return false;
    this.options.warn(`replica fetcher ${state.topic}-${state.partition}: the leader's log starts at ${leaderStart}, past this log's end ${log.logEndOffset}; starting over there`, {
      topic: state.topic,
      partition: state.partition,
    });
    log.truncateFullyAndStartAt(leaderStart);
    state.counters.truncations++;
    this.counters.truncations++;
    state.phase = 'fetching';
    return true;
  }

  /**
   * Each partition's maxBytes; a throttled one's is reserved from its bucket now. A throttled
   * partition with an empty bucket is left out and waits until the bucket refills.
   */
  private budget(states: PartitionFetchState[]): Array<{ state: PartitionFetchState; maxBytes: number; bucket: TokenBucket | null }> {
    const partitionMaxBytes = this.options.partitionMaxBytes ?? DEFAULT_PARTITION_MAX_BYTES;
    const throttle = this.options.throttle;
    if (!throttle) return states.map((state) => ({ state, maxBytes: partitionMaxBytes, bucket: null }));
    const nowMs = performance.now();
    const budgets: Array<{ state: PartitionFetchState; maxBytes: number; bucket: TokenBucket | null }> = [];
    for (const state of states) {
      const bucket = throttle.bucketFor(state.topic, state.partition);
      if (!bucket) {
        budgets.push({ state, maxBytes: partitionMaxBytes, bucket: null });
        continue;
      }
      const available = bucket.availableBytes(nowMs);
      if (available <= 0) {
        state.delayedUntilMs = nowMs + Math.max(1, bucket.msUntilAvailable(nowMs));
        this.counters.throttledSkips++;
        continue;
      }
      const maxBytes = Math.min(partitionMaxBytes, available);
      bucket.take(maxBytes, nowMs);
      budgets.push({ state, maxBytes, bucket });
    }
    return budgets;
  }

  private async fetch(candidates: PartitionFetchState[]): Promise<void> {
    const budgets = this.budget(candidates);
    if (budgets.length === 0) return;
    const states = budgets.map((entry) => entry.state);
    const fetchOffsets = states.map((state) => state.log.logEndOffset);
    this.counters.requests++;
    let answers: FetchPartitionAnswer[] = [];
    try {
      answers = await this.options.channel.replicaFetch({
        maxWaitMs: this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
        maxBytes: this.options.maxBytes ?? DEFAULT_MAX_BYTES,
        partitions: budgets.map(({ state, maxBytes }, at) => ({ topic: state.topic, partition: state.partition, leaderEpoch: state.leaderEpoch, fetchOffset: fetchOffsets[at]!, maxBytes })),
      });
    } finally {
      // Settle each reservation with what was answered (none when the request failed): the
      // unused part goes back, bytes past it (a batch larger than the reservation) are a debt.
      const answered = new Map(answers.map((answer) => [key(answer.topic, answer.partition), answer.error ? 0 : answer.records.length]));
      const nowMs = performance.now();
      for (const { state, maxBytes, bucket } of budgets) {
        if (!bucket) continue;
        const bytes = answered.get(key(state.topic, state.partition)) ?? 0;
        if (bytes <= maxBytes) bucket.giveBack(maxBytes - bytes, nowMs);
        else bucket.take(bytes - maxBytes, nowMs);
      }
    }
    const byKey = new Map(answers.map((answer) => [key(answer.topic, answer.partition), answer]));
    for (const [at, state] of states.entries()) {
      if (!this.isCurrent(state)) continue;
      // Only this loop moves the log: a different end means a bug.
      if (state.log.logEndOffset !== fetchOffsets[at]) throw new Error(`replica fetcher ${state.topic}-${state.partition}: the log end moved during a fetch`);
      const answer = byKey.get(key(state.topic, state.partition));
      if (!answer) {
        this.partitionFailed(state, new SpoolError(Errors.INVALID_REQUEST, 'ReplicaFetch answered without this partition'));
        continue;
      }
      if (answer.error) {
        // The leader's log start travels with OFFSET_OUT_OF_RANGE (startOverAt reads it).
        this.partitionFailed(state, Object.assign(answer.error, { logStartOffset: answer.logStartOffset, logEndOffset: answer.logEndOffset }));
        continue;
      }
      state.settlingSinceMs = null;
      const appending = this.append(state, answer);
      state.busy = appending;
      try {
        await appending;
      } catch (error) {
        this.partitionFailed(state, error);
      } finally {
        state.busy = null;
      }
    }
  }

  private async append(state: PartitionFetchState, answer: FetchPartitionAnswer): Promise<void> {
    const log = state.log;
    if (answer.records.length > 0) {
      // An empty log started at the leader's log start may begin inside the leader's first
      // batch: it starts over at that batch's base offset (Kafka does the same).
      const firstBase = Number(answer.records.readBigInt64BE(0));
      if (log.logEndOffset === log.logStartOffset && firstBase < log.logEndOffset && firstBase >= 0) {
        log.truncateFullyAndStartAt(firstBase);
      }
      await log.appendAsFollower(answer.records);
      state.counters.fetches++;
      state.counters.appendedBatchBytes += answer.records.length;
      this.counters.fetches++;
      this.counters.appendedBatchBytes += answer.records.length;
      state.lastWarning = '';
    }
    if (state.removed) return;
    log.advanceHighWatermark(Math.min(answer.highWatermark, log.logEndOffset));
  }
}
