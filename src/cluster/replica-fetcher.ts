// The follower side of replication for one partition (Kafka's ReplicaFetcherThread, one
// loop per partition): first truncate the local log where it diverges from the leader's
// (OffsetForLeaderEpoch), then fetch from the log end in a loop, append with the leader's
// offsets and epochs (appendAsFollower), and move the local high watermark to
// min(leader's HW, local log end).
//
// Truncation (KIP-101/279): the follower asks where its latest epoch E ends in the
// leader's log. The leader answers (E', end) with E' the largest epoch <= E it knows. If
// E' == E the follower truncates to min(end, its log end); otherwise it also caps at where
// E' ends in its own log. No local epochs, or an unknown answer (-1): truncate to the high
// watermark (what was known replicated). A fetch answered OFFSET_OUT_OF_RANGE or a batch
// that does not continue the log (UNEXPECTED_APPEND_OFFSET) goes back to truncation,
// unless the leader's log now starts past this log's end (its retention moved on): then
// the log is emptied and restarted at the leader's log start (truncateFullyAndStartAt).
// Fencing errors (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH) and
// network errors back off and retry: the cluster layer stops this fetcher and starts one
// with the new leader and epoch when the state changes.
//
// The transport is a LeaderChannel the broker supplies (a native-protocol connection), so
// this module needs only storage and util.

import type { ReplicaLog } from '../storage/types.js';
import { Errors, isSpoolError } from '../util/errors.js';

export interface LeaderChannel {
  /** OffsetForLeaderEpoch for one partition; throws the partition's SpoolError. */
  offsetForLeaderEpoch(request: { topic: string; partition: number; currentLeaderEpoch: number; leaderEpoch: number }): Promise<{ epoch: number; endOffset: number }>;
  /** ReplicaFetch for one partition (the leader parks up to maxWaitMs); throws the partition's SpoolError. */
  replicaFetch(request: { topic: string; partition: number; leaderEpoch: number; fetchOffset: number; maxBytes: number; maxWaitMs: number }): Promise<{ records: Buffer; highWatermark: number; logStartOffset: number }>;
  close(): void;
}

export interface ReplicaFetcherOptions {
  topic: string;
  partition: number;
  log: ReplicaLog;
  /** The leader epoch this fetcher follows. */
  leaderEpoch: number;
  channel: LeaderChannel;
  /** Bytes per fetch (default 1 MiB; at least one batch is always answered). */
  maxBytes?: number;
  /** How long the leader parks a fetch with nothing new (default 500 ms). */
  maxWaitMs?: number;
  /** Pause after a failed round (default 100 ms). */
  retryBackoffMs?: number;
  warn: (message: string) => void;
}

export type FetcherPhase = 'truncating' | 'fetching' | 'stopped';

export class ReplicaFetcher {
  private phase: FetcherPhase = 'truncating';
  private running: Promise<void> | null = null;
  private stopped = false;
  private wakeBackoff: (() => void) | null = null;
  /** Fetch rounds that appended bytes, and truncations done (for tests and metrics). */
  readonly counters = { fetches: 0, appendedBatchBytes: 0, truncations: 0 };

  constructor(private readonly options: ReplicaFetcherOptions) {}

  get currentPhase(): FetcherPhase {
    return this.phase;
  }

  start(): void {
    if (this.running) return;
    this.running = this.run();
  }

  /** Stops the loop and closes the channel; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.phase = 'stopped';
    this.options.channel.close();
    this.wakeBackoff?.();
    await this.running;
  }

  private async run(): Promise<void> {
    const { topic, partition, warn } = this.options;
    let lastWarning = '';
    while (!this.stopped) {
      try {
        if (this.phase === 'truncating') {
          await this.truncate();
          if (this.stopped) break;
          this.phase = 'fetching';
        }
        await this.fetchOnce();
        lastWarning = '';
      } catch (error) {
        if (this.stopped) break;
        if (isSpoolError(error, Errors.OFFSET_OUT_OF_RANGE) && this.startOverAt(error)) continue;
        if (isSpoolError(error, Errors.OFFSET_OUT_OF_RANGE) || isSpoolError(error, Errors.UNEXPECTED_APPEND_OFFSET)) this.phase = 'truncating';
        // One line per distinct failure, not one per retry.
        const message = `replica fetcher ${topic}-${partition}: ${error instanceof Error ? error.message : String(error)}`;
        if (message !== lastWarning) warn(message);
        lastWarning = message;
        await this.backoff();
      }
    }
  }

  private backoff(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeBackoff = null;
        resolve();
      }, this.options.retryBackoffMs ?? 100);
      this.wakeBackoff = () => {
        clearTimeout(timer);
        this.wakeBackoff = null;
        resolve();
      };
    });
  }

  /** Truncates the local log to where it agrees with the leader's (see the file comment). */
  private async truncate(): Promise<void> {
    const { log, channel, topic, partition, leaderEpoch } = this.options;
    const latest = log.latestLeaderEpoch;
    let target: number;
    if (latest < 0) {
      target = log.highWatermark;
    } else {
      const answer = await channel.offsetForLeaderEpoch({ topic, partition, currentLeaderEpoch: leaderEpoch, leaderEpoch: latest });
      if (this.stopped) return;
      if (answer.endOffset < 0) {
        target = log.highWatermark;
      } else {
        target = Math.min(answer.endOffset, log.logEndOffset);
        if (answer.epoch !== latest) {
          const own = log.endOffsetForEpoch(answer.epoch);
          if (own.endOffset >= 0) target = Math.min(target, own.endOffset);
        }
      }
    }
    target = Math.max(target, log.logStartOffset);
    if (target < log.logEndOffset) {
      log.truncateTo(target);
      this.counters.truncations++;
    }
  }

  /**
   * OFFSET_OUT_OF_RANGE with the leader's log start past this log's end (the leader's
   * retention or DeleteRecords moved on): empty the log and start at the leader's start.
   */
  private startOverAt(error: unknown): boolean {
    const { log, topic, partition, warn } = this.options;
    const leaderStart = (error as { logStartOffset?: unknown }).logStartOffset;
    if (typeof leaderStart !== 'number' || leaderStart <= log.logEndOffset) return false;
    warn(`replica fetcher ${topic}-${partition}: the leader's log starts at ${leaderStart}, past this log's end ${log.logEndOffset}; starting over there`);
    log.truncateFullyAndStartAt(leaderStart);
    this.counters.truncations++;
    this.phase = 'fetching';
    return true;
  }

  private async fetchOnce(): Promise<void> {
    const { log, channel, topic, partition, leaderEpoch } = this.options;
    const fetchOffset = log.logEndOffset;
    const answer = await channel.replicaFetch({
      topic,
      partition,
      leaderEpoch,
      fetchOffset,
      maxBytes: this.options.maxBytes ?? 1024 * 1024,
      maxWaitMs: this.options.maxWaitMs ?? 500,
    });
    if (this.stopped) return;
    // The log may have moved meanwhile only through this loop: a mismatch is a bug.
    if (answer.records.length > 0) {
      // An empty log started at the leader's log start may begin inside the leader's first
      // batch: it starts over at that batch's base offset (Kafka does the same).
      const firstBase = Number(answer.records.readBigInt64BE(0));
      if (log.logEndOffset === log.logStartOffset && firstBase < log.logEndOffset && firstBase >= 0) {
        log.truncateFullyAndStartAt(firstBase);
      }
      await log.appendAsFollower(answer.records);
      this.counters.fetches++;
      this.counters.appendedBatchBytes += answer.records.length;
    }
    log.advanceHighWatermark(Math.min(answer.highWatermark, log.logEndOffset));
  }
}
