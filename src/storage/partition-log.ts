// One partition: an ordered list of segments, the last of which (the active one) takes
// appends. The hot path is append (validate -> assign offsets -> one write -> index) and
// read (index lookup -> header scan -> one positional read), both synchronous: offsets
// and bytes are assigned with no await between the check and the change, so the order
// of append calls is the order in the log.
//
// A disk error on any call puts the partition offline: the error (KAFKA_STORAGE_ERROR,
// or NOT_ENOUGH_SPACE for ENOSPC) is kept and thrown by every later call. A failed
// write is first truncated back to the previous end, so nothing half-stored remains.
//
// This class holds the partition's state and its public surface; the parts live beside it:
// append-batches.ts (walks over an append's batches), log-read.ts (the read path),
// replication-state.ts (high watermark, leader epochs), truncation.ts (a follower's
// truncation), segment-lifecycle.ts (rolling, recovery point, closing and deleting
// segments), producer-snapshot.ts (the producer snapshot file).

import { validateBatches } from '../records/index.js';
import { assert } from '../util/assert.js';
import type { Clock } from '../util/clock.js';
import { Errors, SpoolError } from '../util/errors.js';
import { storageError } from './errors.js';
import type { StorageFs } from './fs.js';
import { readInt64 } from './index-format.js';
import { type Checkpoint, encodeCheckpoint, writeFileAtomicBatched, writeFileAtomicSync } from './metadata.js';
import type { SyncBatch } from './sync-batch.js';
import type { Segment } from './segment.js';
import { MAX_RELATIVE_OFFSET } from './segment-scan.js';
import { probeDiskSpace, rescanActiveSegment } from './disk-space.js';
import type { EpochEndOffset, LeaderEpochCache } from './leader-epoch-cache.js';
import { ProducerStateTable, readProducerHeader } from './producer-state.js';
import { ProducerSnapshotFile } from './producer-snapshot.js';
import {
  assignOffsets,
  checkFollowerOffsets,
  clientPieceEnd,
  followerPieceEnd,
  noteWrittenBatches,
  recordProducers,
  refuseEmptyBatch,
  refuseProducerIdAmongBatches,
} from './append-batches.js';
import { offsetForTimestampIn, readVisibleBatches, segmentIndexFor, toCorruptBatchError } from './log-read.js';
import { ReplicationState } from './replication-state.js';
import { cutSegmentsAt, restartSegmentsAt } from './truncation.js';
import {
  abandonSegments,
  closedSegmentsBelow,
  deleteSegments,
  hasFsyncInFlight,
  isPastSegmentMs,
  needsRoll,
  recoveryPointOf,
  settleSegments,
  startNextSegment,
  unflushedClosedSegments,
  unloadOldIndexes,
} from './segment-lifecycle.js';
import type { AppendOptions, AppendResult, FsyncPolicy, ReadOptions, ReadResult, ReplicaLog, TopicConfig } from './types.js';

const EMPTY = Buffer.alloc(0);

export interface PartitionLogOptions {
  fs: StorageFs;
  clock: Clock;
  fsync: FsyncPolicy;
  topic: string;
  partition: number;
  dir: string;
  checkpointPath: string;
  config: TopicConfig;
  segments: Segment[];
  logStartOffset: number;
  warn: (message: string) => void;
  /**
   * Replicated (a cluster): the high watermark moves only by advanceHighWatermark and
   * starts at `highWatermark` (capped at the log end). Otherwise (the default) it is the
   * log end, always.
   */
  replicated?: boolean;
  /** The checkpointed high watermark (replicated logs only). */
  highWatermark?: number;
}

export class PartitionLogImpl implements ReplicaLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  config: TopicConfig;
  /** Oldest first; never empty; the last one is active. */
  segments: Segment[];
  private _logStartOffset: number;
  private offlineError: SpoolError | null = null;
  private closedReason: SpoolError | null = null;
  private readonly fs: StorageFs;
  private readonly clock: Clock;
  private readonly fsync: FsyncPolicy;
  private readonly checkpointPath: string;
  private lastCheckpoint = '';
  /** Every offset below this was acknowledged (or recovered at start): never dropped. */
  private acknowledgedEndOffset: number;
  private readonly appendListeners = new Set<() => void>();
  readonly warn: (message: string) => void;
  /** Idempotent producers' sequences and offsets (producer-state.ts). */
  readonly producerState = new ProducerStateTable();
  private readonly producerSnapshot: ProducerSnapshotFile;
  /** High watermark and leader epochs (replication-state.ts). */
  private readonly replication: ReplicationState;
  /** See PartitionLogOptions.replicated. */
  readonly replicated: boolean;
  /** Epoch -> first offset (leader-epoch-cache.ts). */
  readonly leaderEpochs: LeaderEpochCache;
  /**
   * Counts truncations (truncateTo, truncateFullyAndStartAt): the log cleaner abandons a
   * pass when it changes, since offsets it read may be gone (Kafka aborts cleaning on
   * truncation the same way).
   */
  private truncationCount = 0;

  constructor(options: PartitionLogOptions) {
    assert(options.segments.length > 0, 'a partition log needs a segment');
    this.topic = options.topic;
    this.partition = options.partition;
    this.dir = options.dir;
    this.config = options.config;
    this.segments = options.segments;
    this._logStartOffset = options.logStartOffset;
    this.fs = options.fs;
    this.clock = options.clock;
    this.fsync = options.fsync;
    this.checkpointPath = options.checkpointPath;
    this.warn = options.warn;
    this.acknowledgedEndOffset = this.active.nextOffset;
    this.producerSnapshot = new ProducerSnapshotFile(this.fs, this.dir, this.producerState, this.warn);
    this.producerSnapshot.load(this.segments, this.logEndOffset);
    this.replicated = options.replicated ?? false;
    this.replication = new ReplicationState({ fs: this.fs, dir: this.dir, name: `${this.topic}-${this.partition}`, warn: this.warn, replicated: this.replicated });
    this.leaderEpochs = this.replication.leaderEpochs;
    this.replication.loadLeaderEpochs(this.segments, this._logStartOffset, this.logEndOffset);
    this.replication.restoreHighWatermark(options.highWatermark, this._logStartOffset, this.logEndOffset);
  }

  get logStartOffset(): number {
    return this._logStartOffset;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  /** Consumers read below this. The log end unless replicated. */
  /** How many truncations this log has had since it opened (see truncationCount). */
  get truncations(): number {
    return this.truncationCount;
  }

  get highWatermark(): number {
    return this.replication.highWatermark(this.active.nextOffset);
  }

  /**
   * Moves the high watermark up to `offset` (capped at the log end; never down: only a
   * truncation lowers it). Replicated logs only. Returns true when it moved, after telling
   * the onHighWatermark listeners.
   */
  advanceHighWatermark(offset: number): boolean {
    return this.replication.advanceHighWatermark(offset, this.logEndOffset);
  }

  /** Called after every high watermark advance (acks=all waiters, parked fetches). Returns an unsubscribe. */
  onHighWatermark(listener: (highWatermark: number) => void): () => void {
    return this.replication.onHighWatermark(listener);
  }

  /** The epoch leader appends are stamped with (-1: none, single-node). */
  get leaderEpoch(): number {
    return this.replication.leaderEpoch;
  }

  /** Set by the replica layer when this broker leads the partition at `epoch` (-1 clears it). */
  setLeaderEpoch(epoch: number): void {
    this.replication.setLeaderEpoch(epoch);
  }

  get latestLeaderEpoch(): number {
    return this.replication.latestLeaderEpoch;
  }

  /** Kafka's OffsetForLeaderEpoch answer for `epoch` (leader-epoch-cache.ts endOffsetForEpoch). */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.checkUsable();
    return this.replication.endOffsetForEpoch(epoch, this.logEndOffset);
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  get isOffline(): boolean {
    return this.offlineError !== null;
  }

  /** Closed (manager closed, or topic deleted): background work must leave it alone. */
  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Called after every successful append (for long-poll fetches). Returns an unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  private checkUsable(): void {
    if (this.closedReason) throw this.closedReason;
    if (this.offlineError) throw this.offlineError;
  }

  /** Converts a disk error, puts the partition offline (sticky) and returns the error. */
  goOffline(error: unknown, what: string): SpoolError {
    const converted = storageError(error, `${this.topic}-${this.partition}: ${what}`);
    if (!this.offlineError) {
      this.offlineError = converted;
      this.warn(`partition ${this.topic}-${this.partition} is offline: ${converted.message}`);
    }
    return this.offlineError;
  }

  append(batches: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    try {
      return this.appendSync(batches, options.origin ?? 'client');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private appendSync(batches: Buffer, origin: 'client' | 'log'): Promise<AppendResult> {
    this.checkUsable();
    // Client batches: lastOffsetDelta = recordCount - 1 exactly, so a batch cannot claim
    // more offsets than it holds, and every record is walked (records/walk.ts) so nothing
    // stored can stop a reader. Batches copied from another log (origin 'log': a replica,
    // a rewrite) were validated where they were first stored and may carry offset gaps
    // (compaction): structure, sizes and CRC are checked, not the records.
    const nowMs = this.clock.nowMs();
    const summary = validateBatches(
      batches,
      this.config.maxMessageBytes,
      origin === 'client' ? { producer: true, timestamps: { nowMs, differenceMaxMs: this.config.messageTimestampDifferenceMaxMs } } : {},
    );
    if (summary.recordCount < summary.batchCount) refuseEmptyBatch(batches);
    if (origin === 'client') {
      const duplicate = this.checkProducer(batches, summary.batchCount);
      if (duplicate) return duplicate;
    }
    const offsetCount = summary.lastOffsetDeltaSum + summary.batchCount;
    const baseOffset = this.logEndOffset;
    if (baseOffset + offsetCount > Number.MAX_SAFE_INTEGER) {
      throw new SpoolError(Errors.INVALID_REQUEST, `${this.topic}-${this.partition}: ${offsetCount} more offsets would pass 2^53 - 1`);
    }
    // A leader's first batch of a new epoch: the epoch's start is checkpointed before the
    // batch is written, so every epoch in the log has its entry after any crash.
    if (this.replication.noteLeaderAppend(baseOffset)) this.flushLeaderEpochs();
    // Usually one piece. When the batches together span more offsets than a segment's u32
    // relative offsets can name, each piece goes to its own segment (Kafka rolls on offset
    // overflow the same way); a failure in a later piece leaves the earlier ones stored,
    // exactly as a crash between two appends would.
    const touched: Segment[] = [];
    if (offsetCount - 1 <= MAX_RELATIVE_OFFSET) {
      touched.push(this.appendPiece(batches, offsetCount, nowMs));
    } else {
      for (let start = 0; start < batches.length; ) {
        const piece = clientPieceEnd(batches, start);
        touched.push(this.appendPiece(batches.subarray(start, piece.end), piece.offsetCount, nowMs));
        start = piece.end;
      }
    }
    const result: AppendResult = { baseOffset, lastOffset: this.logEndOffset - 1 };
    assert(result.lastOffset - result.baseOffset + 1 === offsetCount, 'an append takes exactly the offsets its batches claim');
    return this.afterAppend(batches, result, touched);
  }

  /** Producer state, listeners and the fsync policy's promise, after any append's write. */
  private afterAppend(batches: Buffer, result: AppendResult, touched: Segment[]): Promise<AppendResult> {
    recordProducers(this.producerState, batches);
    for (const listener of this.appendListeners) {
      try {
        listener();
      } catch (error) {
        // The batches are stored; a listener's failure must not turn that into an error.
        this.warn(`append listener of ${this.topic}-${this.partition} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (this.fsync.kind !== 'always') {
      this.noteAcknowledged(result.lastOffset + 1);
      return Promise.resolve(result);
    }
    return Promise.all(touched.map((segment) => segment.commit.request())).then(
      () => {
        this.noteAcknowledged(result.lastOffset + 1);
        return result;
      },
      (error: unknown) => {
        throw this.goOffline(error, 'fsync');
      },
    );
  }

  private flushLeaderEpochs(): void {
    try {
      this.leaderEpochs.flush();
    } catch (error) {
      throw this.goOffline(error, 'leader epoch checkpoint');
    }
  }

  /**
   * A follower's append (Kafka's appendAsFollower): the leader's batches with the
   * leader's offsets and leader epochs, as fetched. Checked: structure and CRC (no record
   * walk: the leader did that), no batch that takes no offsets (one with no records but
   * its offset range, as the cleaner leaves of a producer's batch, is taken), the first offset is the log end (or past
   * it in a compacted topic, whose leader may have cleaned offsets away) and each next
   * batch starts after the previous one (exactly after it unless compacted), else
   * UNEXPECTED_APPEND_OFFSET and nothing is written. No producer-state check (the
   * leader's decision stands) but the state is updated. A batch of a newer epoch is noted
   * in the leader-epoch cache (checkpointed before the write). Resolves per the fsync policy.
   */
  appendAsFollower(batches: Buffer): Promise<AppendResult> {
    try {
      return this.appendAsFollowerSync(batches);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private appendAsFollowerSync(batches: Buffer): Promise<AppendResult> {
    this.checkUsable();
    const summary = validateBatches(batches);
    if (summary.recordCount < summary.batchCount) refuseEmptyBatch(batches);
    const where = `${this.topic}-${this.partition}`;
    const baseOffset = readInt64(batches, 0);
    const nextOffset = checkFollowerOffsets(batches, this.logEndOffset, this.config.cleanupPolicy !== 'compact', where);
    // Only once every check passed: a refused append leaves the cache as it was.
    if (this.replication.noteFollowerBatches(batches)) this.flushLeaderEpochs();
    // Pieces: runs of batches whose offsets (gaps included) fit one segment's u32 relative offsets.
    const nowMs = this.clock.nowMs();
    const touched: Segment[] = [];
    for (let start = 0; start < batches.length; ) {
      const piece = followerPieceEnd(batches, start);
      // The span from the log end (a compacted gap included) decides the roll.
      const span = piece.endOffset - this.logEndOffset;
      if (span - 1 > MAX_RELATIVE_OFFSET) {
        throw new SpoolError(Errors.UNEXPECTED_APPEND_OFFSET, `${where}: a gap of ${readInt64(batches, start) - this.logEndOffset} offsets before a replica batch does not fit a segment`);
      }
      touched.push(this.appendPiece(batches.subarray(start, piece.end), span, nowMs, piece.endOffset));
      start = piece.end;
    }
    const result: AppendResult = { baseOffset, lastOffset: this.logEndOffset - 1 };
    assert(this.logEndOffset === nextOffset, 'a replica append ends where its last batch ends');
    return this.afterAppend(batches, result, touched);
  }

  /**
   * Removes every offset at and above `offset` (Kafka's truncateTo, for a follower whose
   * tail diverged from its leader): later segments are deleted, the segment holding
   * `offset` is cut at the batch holding it (so a cut inside a batch drops the whole batch),
   * its indexes are rebuilt, the leader-epoch cache drops entries from the new end on, the
   * producer state is rebuilt, and the high watermark is capped. No-op when `offset` is at
   * or past the log end; OFFSET_OUT_OF_RANGE below the log start.
   *
   * Crash-safe (truncation.ts): the recovery checkpoint is first rewritten with a recovery
   * point at or below the segment being cut; a producer snapshot past the cut is removed
   * before any segment changes.
   */
  truncateTo(offset: number): void {
    this.checkUsable();
    assert(Number.isSafeInteger(offset) && offset >= 0, `bad truncation offset ${offset}`);
    if (offset >= this.logEndOffset) return;
    if (offset < this._logStartOffset) {
      throw new SpoolError(Errors.OFFSET_OUT_OF_RANGE, `cannot truncate ${this.topic}-${this.partition} to ${offset}, below its log start ${this._logStartOffset}`);
    }
    const keep = segmentIndexFor(this.segments, offset);
    this.truncationCount++;
    try {
      this.writeUncleanCheckpoint(Math.min(this.recoveryPoint(), this.segments[keep]!.baseOffset), this._logStartOffset);
      this.producerSnapshot.removeIfPast(offset);
      cutSegmentsAt(this.segments, keep, offset, this.config.cleanupPolicy !== 'compact');
      if (this.leaderEpochs.truncateFromEnd(this.logEndOffset)) this.leaderEpochs.flush();
    } catch (error) {
      throw this.goOffline(error, 'truncate');
    }
    this.producerState.reset();
    this.producerSnapshot.load(this.segments, this.logEndOffset);
    this.producerState.dirty = true;
    this.replication.capHighWatermark(this.logEndOffset);
    if (this.acknowledgedEndOffset > this.logEndOffset) this.acknowledgedEndOffset = this.logEndOffset;
  }

  /**
   * Empties the log and restarts it at `offset` (Kafka's truncateFullyAndStartAt: a
   * follower whose log end is below its leader's log start, or whose empty log must start
   * inside the leader's first batch). Every segment is deleted, one empty segment starts
   * at `offset`, the log start, HW and leader-epoch cache follow, the producer state is
   * cleared. Crash-safe like truncateTo: the recovery checkpoint (with the new log start)
   * is written first, so a crash in between recovers a prefix of the old log whose start
   * is capped at its end (empty), or the empty log at `offset`.
   */
  truncateFullyAndStartAt(offset: number): void {
    this.checkUsable();
    assert(Number.isSafeInteger(offset) && offset >= 0, `bad start offset ${offset}`);
    this.truncationCount++;
    try {
      this.writeUncleanCheckpoint(Math.min(this.recoveryPoint(), offset), offset);
      this.producerSnapshot.remove();
      this.segments = restartSegmentsAt(this.fs, this.dir, this.segments, offset, this.config.indexIntervalBytes);
      if (this.fsync.kind !== 'never') this.fs.fsyncDirSync(this.dir);
      this.leaderEpochs.replace([]);
      this.leaderEpochs.flush();
    } catch (error) {
      throw this.goOffline(error, 'truncate fully');
    }
    this._logStartOffset = offset;
    this.producerState.reset();
    this.producerState.dirty = true;
    this.replication.restartAt(offset);
    this.acknowledgedEndOffset = offset;
  }

  /**
   * Before a truncation changes any file: a checkpoint (written durably) that makes the next
   * start scan from `recoveryPoint` on (truncation.ts).
   */
  private writeUncleanCheckpoint(recoveryPoint: number, logStartOffset: number): void {
    const checkpoint: Checkpoint = { recoveryPoint, logStartOffset, cleanShutdown: false };
    writeFileAtomicSync(this.fs, this.checkpointPath, encodeCheckpoint(checkpoint));
    this.lastCheckpoint = JSON.stringify(checkpoint);
  }

  /**
   * Idempotent producers: a client append whose batch carries a producer id must be that
   * one batch (Kafka's rule for produce v3+). Returns the answer for a duplicate of one of
   * the producer's last batches (nothing is written), null when the append goes ahead;
   * throws OUT_OF_ORDER_SEQUENCE_NUMBER / INVALID_PRODUCER_EPOCH.
   */
  private checkProducer(batches: Buffer, batchCount: number): Promise<AppendResult> | null {
    if (batchCount > 1) {
      refuseProducerIdAmongBatches(batches, `${this.topic}-${this.partition}`);
      return null;
    }
    const header = readProducerHeader(batches, 0);
    if (!header) return null;
    const original = this.producerState.check(header, `${this.topic}-${this.partition}`);
    if (!original) return null;
    const result: AppendResult = { baseOffset: original.baseOffset, lastOffset: original.lastOffset };
    // The original may still wait for its fsync: the duplicate's answer waits for it too.
    if (this.fsync.kind !== 'always' || original.lastOffset < this.acknowledgedEndOffset) return Promise.resolve(result);
    return this.active.commit.request().then(
      () => result,
      (error: unknown) => {
        throw this.goOffline(error, 'fsync');
      },
    );
  }

  /**
   * Rolls if needed, assigns offsets and writes `batches` (whose offsets fit one segment)
   * to the active segment with one write, then indexes them. Returns that segment. A
   * follower's batches (`keptEndOffset` >= 0: the offset after its last batch) keep the
   * leader's offsets and epochs (checked by appendAsFollower).
   */
  private appendPiece(batches: Buffer, offsetCount: number, nowMs: number, keptEndOffset = -1): Segment {
    let segment: Segment;
    try {
      if (needsRoll(this.active, batches.length, offsetCount, nowMs, this.config)) this.roll();
      segment = this.active;
      segment.prepareForAppend();
    } catch (error) {
      throw this.goOffline(error, 'roll');
    }
    const endOffset = keptEndOffset < 0 ? assignOffsets(batches, segment.nextOffset, this.replication.leaderEpoch) : keptEndOffset;
    // The pair of recovery's scan rule: no batch's last offset is past u32 from its segment base.
    assert(endOffset - 1 - segment.baseOffset <= MAX_RELATIVE_OFFSET, 'a batch was placed past the u32 relative offsets of its segment');
    const startPosition = segment.sizeBytes;
    try {
      segment.writeBatches(batches);
    } catch (error) {
      throw this.goOffline(error, 'write');
    }
    noteWrittenBatches(segment, batches, startPosition, nowMs);
    try {
      segment.flushIndexEntries();
    } catch (error) {
      // The index is derived data, but a disk that fails index writes fails log writes
      // next: take the batches back out and go offline.
      try {
        this.fs.ftruncateSync(segment.logFd, startPosition);
      } catch {
        // Recovery rebuilds the index and keeps only whole valid batches either way.
      }
      throw this.goOffline(error, 'index write');
    }
    return segment;
  }

  private noteAcknowledged(endOffset: number): void {
    if (endOffset > this.acknowledgedEndOffset) this.acknowledgedEndOffset = endOffset;
  }

  /** The code of the sticky offline error (null while online), e.g. for the disk-space-retry task. */
  get offlineCode(): string | null {
    return this.offlineError?.code ?? null;
  }

  /**
   * For a partition that went offline for NOT_ENOUGH_SPACE: when a probe write and fsync
   * of PROBE_BYTES in the partition directory succeed, repair the active segment from the
   * disk (rescan it; truncate a torn tail left by the failed write to the last whole
   * batch; rebuild its indexes), re-flush closed segments whose post-roll fsync failed,
   * and come back online. Returns true when online again. A probe that fails with
   * anything but ENOSPC turns the offline error into a sticky KAFKA_STORAGE_ERROR; other
   * offline errors (EIO) are never retried.
   */
  retryAfterNoSpace(): boolean {
    if (this.closedReason || this.offlineError?.kind !== Errors.NOT_ENOUGH_SPACE) return false;
    // Work still in flight settles first (its failure would be reported twice).
    if (hasFsyncInFlight(this.segments)) return false;
    try {
      probeDiskSpace(this.fs, this.dir);
      this.repairActiveSegment();
    } catch (error) {
      const converted = storageError(error, `${this.topic}-${this.partition}: disk space retry`);
      if (converted.kind !== Errors.NOT_ENOUGH_SPACE) {
        this.offlineError = converted;
        this.warn(`partition ${this.topic}-${this.partition} stays offline: ${converted.message}`);
      }
      return false;
    }
    this.offlineError = null;
    for (const segment of unflushedClosedSegments(this.segments)) {
      segment.flushClosed().catch((error: unknown) => {
        this.goOffline(error, 'fsync after roll');
      });
    }
    this.warn(`partition ${this.topic}-${this.partition} is back online after disk space returned (log end offset ${this.logEndOffset})`);
    return true;
  }

  /**
   * Rebuilds the active segment from its file (see disk-space.ts) and asserts that every
   * acknowledged offset survived.
   */
  private repairActiveSegment(): void {
    const active = this.active;
    const replacement = rescanActiveSegment(this.fs, active, this.config, this.clock.nowMs(), this.warn);
    assert(
      replacement.nextOffset >= this.acknowledgedEndOffset || active.baseOffset >= this.acknowledgedEndOffset,
      `${this.topic}-${this.partition}: the active segment holds offsets up to ${replacement.nextOffset}, below the acknowledged ${this.acknowledgedEndOffset}`,
    );
    this.segments[this.segments.length - 1] = replacement;
  }

  /** Closes the active segment and starts a new one at the log end offset (segment-lifecycle.ts). */
  roll(): void {
    this.checkUsable();
    if (this.active.isEmpty) return;
    let old: Segment;
    try {
      old = startNextSegment(this.fs, this.dir, this.segments, this.config, this.fsync);
    } catch (error) {
      throw this.goOffline(error, 'roll');
    }
    // The closed segment is fsynced in the background (Kafka flushes on roll, too); the
    // recovery point moves past it once that is done.
    old.flushClosed().catch((error: unknown) => {
      this.goOffline(error, 'fsync after roll');
    });
    unloadOldIndexes(this.segments);
  }

  /** Rolls when the active segment is older than segment.ms (the segment.ms task). */
  rollIfOld(nowMs: number): boolean {
    if (this.offlineError || this.closedReason) return false;
    if (!isPastSegmentMs(this.active, nowMs, this.config)) return false;
    this.roll();
    return true;
  }

  read(offset: number, maxBytes: number, options?: ReadOptions): ReadResult {
    this.checkUsable();
    const logEndOffset = this.logEndOffset;
    if (!Number.isSafeInteger(offset) || offset < this._logStartOffset || offset > logEndOffset) {
      throw new SpoolError(
        Errors.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside ${this.topic}-${this.partition} [${this._logStartOffset}, ${logEndOffset}]`,
      );
    }
    const highWatermark = this.highWatermark;
    const result: ReadResult = { bytes: EMPTY, highWatermark, logStartOffset: this._logStartOffset };
    // A consumer's read ends at the high watermark (the log end unless replicated).
    const visibleEnd = options?.isolation === 'high-watermark' ? highWatermark : logEndOffset;
    if (offset >= visibleEnd) return result;
    try {
      result.bytes = readVisibleBatches(this.segments, offset, visibleEnd, maxBytes);
    } catch (error) {
      throw this.readFailure(error, 'read');
    }
    return result;
  }

  /**
   * A read-side failure: a bad stored batch fails this request only (CorruptBatchError,
   * naming its offsets); anything else is a disk error and puts the partition offline.
   */
  private readFailure(error: unknown, what: string): SpoolError {
    return toCorruptBatchError(this.topic, this.partition, error) ?? this.goOffline(error, what);
  }

  /** The last segment whose base offset is <= offset (the first segment when none is). */
  segmentIndexFor(offset: number): number {
    return segmentIndexFor(this.segments, offset);
  }

  offsetForTimestamp(timestampMs: number): number | null {
    this.checkUsable();
    try {
      return offsetForTimestampIn(this.segments, timestampMs, this.config.maxMessageBytes, this._logStartOffset);
    } catch (error) {
      throw this.readFailure(error, 'read by timestamp');
    }
  }

  /** fsync of the active segment (the interval flush task). */
  flush(): Promise<void> {
    if (this.offlineError || this.closedReason) return Promise.resolve();
    return this.active.commit.request().catch((error: unknown) => {
      throw this.goOffline(error, 'fsync');
    });
  }

  /**
   * Every segment wholly below this offset is fsynced with its indexes; recovery trusts
   * those and scans the rest.
   */
  recoveryPoint(): number {
    return recoveryPointOf(this.segments);
  }

  /** Writes the recovery checkpoint when it changed (atomic write). */
  writeCheckpoint(cleanShutdown: boolean, batch?: SyncBatch): void {
    const checkpoint: Checkpoint = {
      recoveryPoint: cleanShutdown ? this.logEndOffset : this.recoveryPoint(),
      logStartOffset: this._logStartOffset,
      cleanShutdown,
    };
    this.producerSnapshot.write(cleanShutdown, checkpoint.recoveryPoint, this.logEndOffset);
    const key = JSON.stringify(checkpoint);
    if (key === this.lastCheckpoint) return;
    if (batch) {
      // Renamed into place after the batch's flush, so after the files it vouches for.
      writeFileAtomicBatched(this.fs, this.checkpointPath, encodeCheckpoint(checkpoint), batch, () => (this.lastCheckpoint = key));
      return;
    }
    writeFileAtomicSync(this.fs, this.checkpointPath, encodeCheckpoint(checkpoint));
    this.lastCheckpoint = key;
  }

  /**
   * Removes the oldest `count` closed segments (retention): the log start offset moves to
   * the new first segment and is checkpointed before the files go.
   */
  deleteOldestSegments(count: number): void {
    assert(count < this.segments.length, 'retention never deletes the active segment');
    if (count <= 0) return;
    const removed = this.segments.splice(0, count);
    this._logStartOffset = Math.max(this._logStartOffset, this.segments[0]!.baseOffset);
    try {
      this.writeCheckpoint(false);
      if (this.leaderEpochs.truncateFromStart(this._logStartOffset)) this.leaderEpochs.flush();
      deleteSegments(removed);
    } catch (error) {
      throw this.goOffline(error, 'delete segments');
    }
  }

  /**
   * Kafka's DeleteRecords: moves the log start offset up to `offset` (never down; at most
   * the log end). Closed segments wholly below it are deleted (not one being flushed, as
   * retention); records below it in the first kept segment stay on disk but are never read
   * again (reads below the start are OFFSET_OUT_OF_RANGE). The start is checkpointed before
   * any file goes, so it survives a restart. Returns the new log start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.checkUsable();
    // Kafka limits DeleteRecords to the high watermark (the log end unless replicated).
    const logEndOffset = this.highWatermark;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > logEndOffset) {
      throw new SpoolError(Errors.OFFSET_OUT_OF_RANGE, `offset ${offset} is outside ${this.topic}-${this.partition} [${this._logStartOffset}, ${logEndOffset}]`);
    }
    if (offset <= this._logStartOffset) return this._logStartOffset;
    const count = closedSegmentsBelow(this.segments, offset);
    this._logStartOffset = offset;
    // A segment wholly below the new start but still being flushed after its roll stays for
    // now (deleting it would race its fsync): it goes, with those after it below the start,
    // once that flush is done (and at the latest at the next retention run).
    const held = this.segments[count];
    if (held?.flushing === true && count < this.segments.length - 1 && this.segments[count + 1]!.baseOffset <= offset) {
      void held.flushDone.then(() => {
        if (this.closedReason !== null || this.isOffline) return;
        const more = closedSegmentsBelow(this.segments, this._logStartOffset);
        try {
          if (more > 0) this.deleteOldestSegments(more);
        } catch {
          // deleteOldestSegments took the partition offline and recorded why.
        }
      });
    }
    if (count > 0) this.deleteOldestSegments(count);
    else {
      try {
        this.writeCheckpoint(false);
        if (this.leaderEpochs.truncateFromStart(this._logStartOffset)) this.leaderEpochs.flush();
      } catch (error) {
        throw this.goOffline(error, 'checkpoint the log start offset');
      }
    }
    return this._logStartOffset;
  }

  /** Replaces a closed segment by its cleaned version (or removes it when `replacement` is null). */
  replaceSegment(old: Segment, replacement: Segment | null): void {
    const i = this.segments.indexOf(old);
    assert(i >= 0 && i < this.segments.length - 1, 'only a closed segment can be replaced');
    if (replacement) this.segments[i] = replacement;
    else this.segments.splice(i, 1);
  }

  /**
   * Graceful close: fsync, closing index entries, clean checkpoint, close files. With a
   * `batch` (LogManager.close: sync-batch.ts) the fsyncs and the checkpoint's rename are
   * left to the batch's flush; the files are closed now (the batch syncs by path).
   */
  async close(checkpoint = true, batch?: SyncBatch): Promise<void> {
    if (this.closedReason) return;
    this.closedReason = new SpoolError(Errors.SHUTTING_DOWN, `${this.topic}-${this.partition} is closed`);
    await settleSegments(this.segments);
    try {
      if (!this.offlineError && checkpoint) {
        this.active.finalizeIndexes();
        if (batch) this.active.addSyncPaths(batch);
        else this.active.syncAllSync();
        this.writeCheckpoint(true, batch);
      }
    } catch (error) {
      this.goOffline(error, 'close');
    } finally {
      for (const segment of this.segments) segment.close();
    }
  }

  /** For crash tests: drop the files without any of close()'s work, as kill -9 would. */
  abandon(): void {
    if (this.closedReason) return;
    this.closedReason = new SpoolError(Errors.SHUTTING_DOWN, `${this.topic}-${this.partition} is closed`);
    abandonSegments(this.segments);
  }

  /** After deleteTopic: every later call says the topic is gone. */
  async closeDeleted(): Promise<void> {
    await this.close(false);
    this.closedReason = new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${this.topic} was deleted`);
  }
}
