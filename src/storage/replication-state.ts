// The replication state of one partition log: the high watermark (with its listeners), the
// leader epoch a leader stamps on its appends, and the leader-epoch cache (epoch -> first
// offset, leader-epoch-cache.ts). PartitionLogImpl owns one and answers its replica calls
// (highWatermark, advanceHighWatermark, setLeaderEpoch, endOffsetForEpoch) through it; the
// segment work of a follower's truncation is in truncation.ts.

import { BatchLayout, LOG_OVERHEAD } from '../records/index.js';
import { assert } from '../util/assert.js';
import type { StorageFs } from './fs.js';
import { readInt64 } from './index-format.js';
import { type EpochEndOffset, type EpochEntry, LeaderEpochCache, collectEpochsFromSegment } from './leader-epoch-cache.js';
import type { Segment } from './segment.js';

export interface ReplicationStateOptions {
  fs: StorageFs;
  dir: string;
  /** `topic-partition`, for warnings. */
  name: string;
  warn: (message: string) => void;
  /** See PartitionLogOptions.replicated. */
  replicated: boolean;
}

export class ReplicationState {
  /**
   * Replicated (a cluster): the high watermark moves only by advanceHighWatermark.
   * Otherwise it is the log end, always.
   */
  readonly replicated: boolean;
  /** Epoch -> first offset (leader-epoch-cache.ts). */
  readonly leaderEpochs: LeaderEpochCache;
  private readonly fs: StorageFs;
  private readonly name: string;
  private readonly warn: (message: string) => void;
  /** Replicated logs only: consumers read below this. */
  private highWatermarkOffset = 0;
  private readonly highWatermarkListeners = new Set<(highWatermark: number) => void>();
  /** Stamped on leader appends and noted in leaderEpochs when >= 0 (set by the replica layer). */
  private leaderEpochValue = -1;

  constructor(options: ReplicationStateOptions) {
    this.fs = options.fs;
    this.name = options.name;
    this.warn = options.warn;
    this.replicated = options.replicated;
    this.leaderEpochs = new LeaderEpochCache(options.fs, options.dir);
  }

  /**
   * Loads the leader-epoch checkpoint; entries at or past the log end (written before
   * batches a crash lost, or before a truncation finished) are dropped. A corrupt file, or
   * a missing one in a replicated log, is rebuilt from the batch headers and rewritten. A
   * single-node log without the file has no epochs and reads nothing.
   */
  loadLeaderEpochs(segments: readonly Segment[], logStartOffset: number, logEndOffset: number): void {
    const state = this.leaderEpochs.load();
    if (state === 'corrupt' || (state === 'missing' && this.replicated)) {
      if (state === 'corrupt') this.warn(`${this.leaderEpochs.path} is corrupt; rebuilding it from the batches`);
      const entries: EpochEntry[] = [];
      for (const segment of segments) {
        if (!segment.isEmpty) collectEpochsFromSegment(this.fs, segment.logFd, 0, segment.sizeBytes, entries);
      }
      this.leaderEpochs.replace(entries);
      this.leaderEpochs.flush();
      return;
    }
    let changed = this.leaderEpochs.truncateFromEnd(logEndOffset);
    if (this.leaderEpochs.truncateFromStart(logStartOffset)) changed = true;
    if (changed) this.leaderEpochs.flush();
  }

  /** At open: the checkpointed high watermark (the log start when none), within [log start, log end]. */
  restoreHighWatermark(checkpointed: number | undefined, logStartOffset: number, logEndOffset: number): void {
    const restored = Math.min(checkpointed ?? logStartOffset, logEndOffset);
    this.highWatermarkOffset = Math.max(restored, logStartOffset);
  }

  /** Consumers read below this. The log end unless replicated. */
  highWatermark(logEndOffset: number): number {
    return this.replicated ? this.highWatermarkOffset : logEndOffset;
  }

  /**
   * Moves the high watermark up to `offset` (capped at the log end; never down: only a
   * truncation lowers it). Replicated logs only. Returns true when it moved, after telling
   * the onHighWatermark listeners.
   */
  advanceHighWatermark(offset: number, logEndOffset: number): boolean {
    assert(this.replicated, 'the high watermark of a single-node log is its log end');
    const next = Math.min(offset, logEndOffset);
    if (next <= this.highWatermarkOffset) return false;
    this.highWatermarkOffset = next;
    for (const listener of this.highWatermarkListeners) {
      try {
        listener(next);
      } catch (error) {
        this.warn(`high watermark listener of ${this.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return true;
  }

  /** Called after every high watermark advance (acks=all waiters, parked fetches). Returns an unsubscribe. */
  onHighWatermark(listener: (highWatermark: number) => void): () => void {
    this.highWatermarkListeners.add(listener);
    return () => this.highWatermarkListeners.delete(listener);
  }

  /** After a truncation: the high watermark is never past the new log end. */
  capHighWatermark(logEndOffset: number): void {
    if (this.highWatermarkOffset > logEndOffset) this.highWatermarkOffset = logEndOffset;
  }

  /** After truncateFullyAndStartAt: the log restarts empty at `offset`. */
  restartAt(offset: number): void {
    this.highWatermarkOffset = offset;
  }

  /** The epoch leader appends are stamped with (-1: none, single-node). */
  get leaderEpoch(): number {
    return this.leaderEpochValue;
  }

  /** Set by the replica layer when this broker leads the partition at `epoch` (-1 clears it). */
  setLeaderEpoch(epoch: number): void {
    assert(Number.isSafeInteger(epoch) && epoch >= -1 && epoch <= 0x7fffffff, `bad leader epoch ${epoch}`);
    this.leaderEpochValue = epoch;
  }

  get latestLeaderEpoch(): number {
    return this.leaderEpochs.latestEpoch;
  }

  /** Kafka's OffsetForLeaderEpoch answer for `epoch` (leader-epoch-cache.ts endOffsetForEpoch). */
  endOffsetForEpoch(epoch: number, logEndOffset: number): EpochEndOffset {
    return this.leaderEpochs.endOffsetForEpoch(epoch, logEndOffset);
  }

  /**
   * A leader append starting at `baseOffset`: notes the leader epoch's start when it is
   * the epoch's first batch. True when the cache changed (to be flushed before the write).
   */
  noteLeaderAppend(baseOffset: number): boolean {
    return this.leaderEpochValue >= 0 && this.leaderEpochs.assign(this.leaderEpochValue, baseOffset);
  }

  /**
   * A follower append (already checked): notes each batch of a newer epoch than the cache's
   * latest. True when the cache changed (to be flushed before the write).
   */
  noteFollowerBatches(batches: Buffer): boolean {
    let changed = false;
    for (let at = 0; at < batches.length; at += batches.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD) {
      const epoch = batches.readInt32BE(at + BatchLayout.PARTITION_LEADER_EPOCH);
      if (epoch >= 0 && epoch > this.leaderEpochs.latestEpoch && this.leaderEpochs.assign(epoch, readInt64(batches, at))) changed = true;
    }
    return changed;
  }
}
