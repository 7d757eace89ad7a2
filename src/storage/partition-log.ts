// One partition: an ordered list of segments, the last of which (the active one) takes
// appends. The hot path is append (validate -> assign offsets -> one write -> index) and
// read (index lookup -> header scan -> one positional read), both synchronous: offsets
// and bytes are assigned with no await between the check and the change, so the order
// of append calls is the order in the log.
//
// A disk error on any call puts the partition offline: the error (KAFKA_STORAGE_ERROR,
// or NOT_ENOUGH_SPACE for ENOSPC) is kept and thrown by every later call. A failed
// write is first truncated back to the previous end, so nothing half-stored remains.

import { BatchLayout, LOG_OVERHEAD, decodeBatch, setBaseOffset, validateBatches } from '../records/index.js';
import { assert } from '../util/assert.js';
import type { Clock } from '../util/clock.js';
import { Errors, SpoolError } from '../util/errors.js';
import { storageError } from './errors.js';
import type { StorageFs } from './fs.js';
import { readInt64 } from './index-format.js';
import { type Checkpoint, encodeCheckpoint, writeFileAtomicSync } from './metadata.js';
import { Segment } from './segment.js';
import type { AppendResult, FsyncPolicy, PartitionLog, ReadResult, TopicConfig } from './types.js';

const MAX_RELATIVE_OFFSET = 0xffffffff;
/** Closed segments (newest first) whose indexes stay in memory after a roll. */
const KEEP_LOADED_CLOSED_SEGMENTS = 2;

/** A batch with no records would share its baseOffset with the next one: refused. */
function refuseEmptyBatch(batches: Buffer): void {
  for (let at = 0; at < batches.length; at += batches.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD) {
    if (batches.readInt32BE(at + BatchLayout.RECORD_COUNT) === 0) {
      throw new SpoolError(Errors.CORRUPT_MESSAGE, `record batch at position ${at} has no records`);
    }
  }
}
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
}

export class PartitionLogImpl implements PartitionLog {
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
  private readonly appendListeners = new Set<() => void>();
  readonly warn: (message: string) => void;

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
  }

  get logStartOffset(): number {
    return this._logStartOffset;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
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

  append(batches: Buffer): Promise<AppendResult> {
    try {
      return this.appendSync(batches);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private appendSync(batches: Buffer): Promise<AppendResult> {
    this.checkUsable();
    // Producer batches: lastOffsetDelta = recordCount - 1 exactly, so a batch cannot claim
    // more offsets than it holds.
    // Every record is walked too (records/walk.ts), so nothing stored can stop a reader.
    const nowMs = this.clock.nowMs();
    const summary = validateBatches(batches, this.config.maxMessageBytes, {
      producer: true,
      timestamps: { nowMs, differenceMaxMs: this.config.messageTimestampDifferenceMaxMs },
    });
    if (summary.recordCount < summary.batchCount) refuseEmptyBatch(batches);
    const offsetCount = summary.lastOffsetDeltaSum + summary.batchCount;
    let segment: Segment;
    try {
      this.maybeRoll(batches.length, offsetCount, nowMs);
      segment = this.active;
      segment.prepareForAppend();
    } catch (error) {
      throw this.goOffline(error, 'roll');
    }
    // Assign offsets: 8 bytes per batch header, outside the CRC.
    const baseOffset = segment.nextOffset;
    let offset = baseOffset;
    for (let at = 0; at < batches.length; ) {
      setBaseOffset(batches, at, offset);
      offset += batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA) + 1;
      at += batches.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
    }
    const startPosition = segment.sizeBytes;
    try {
      segment.writeBatches(batches);
    } catch (error) {
      throw this.goOffline(error, 'write');
    }
    for (let at = 0; at < batches.length; ) {
      const batchBase = readInt64(batches, at);
      const totalBytes = batches.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
      const lastOffset = batchBase + batches.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA);
      segment.noteBatch(startPosition + at, batchBase, lastOffset, totalBytes, readInt64(batches, at + BatchLayout.MAX_TIMESTAMP), nowMs);
      at += totalBytes;
    }
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
    const result: AppendResult = { baseOffset, lastOffset: offset - 1 };
    for (const listener of this.appendListeners) {
      try {
        listener();
      } catch (error) {
        // The batches are stored; a listener's failure must not turn that into an error.
        this.warn(`append listener of ${this.topic}-${this.partition} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (this.fsync.kind !== 'always') return Promise.resolve(result);
    return segment.commit.request().then(
      () => result,
      (error: unknown) => {
        throw this.goOffline(error, 'fsync');
      },
    );
  }

  private maybeRoll(incomingBytes: number, offsetCount: number, nowMs: number): void {
    const active = this.active;
    if (active.isEmpty) return;
    const full = active.sizeBytes + incomingBytes > this.config.segmentBytes;
    const old = active.rollBaseMs >= 0 && nowMs - active.rollBaseMs >= this.config.segmentMs;
    const offsetsOverflow = active.nextOffset + offsetCount - 1 - active.baseOffset > MAX_RELATIVE_OFFSET;
    if (full || old || offsetsOverflow) this.roll();
  }

  /** Closes the active segment and starts a new one at the log end offset. */
  roll(): void {
    this.checkUsable();
    const old = this.active;
    if (old.isEmpty) return;
    try {
      old.finalizeIndexes();
      const next = Segment.create(this.fs, this.dir, old.nextOffset, this.config.indexIntervalBytes);
      this.segments.push(next);
      // The new file's directory entry must be durable before an fsynced append in it is
      // acknowledged (fdatasync of the file does not cover its name).
      if (this.fsync.kind !== 'never') this.fs.fsyncDirSync(this.dir);
    } catch (error) {
      throw this.goOffline(error, 'roll');
    }
    // The closed segment is fsynced in the background (Kafka flushes on roll, too); the
    // recovery point moves past it once that is done.
    old.flushClosed().catch((error: unknown) => {
      this.goOffline(error, 'fsync after roll');
    });
    // Older closed segments give their in-memory indexes back; a read loads them again.
    for (let i = 0; i < this.segments.length - 1 - KEEP_LOADED_CLOSED_SEGMENTS; i++) this.segments[i]!.unloadIndexes();
  }

  /** Rolls when the active segment is older than segment.ms (the segment.ms task). */
  rollIfOld(nowMs: number): boolean {
    if (this.offlineError || this.closedReason) return false;
    const active = this.active;
    if (active.isEmpty || active.rollBaseMs < 0 || nowMs - active.rollBaseMs < this.config.segmentMs) return false;
    this.roll();
    return true;
  }

  read(offset: number, maxBytes: number): ReadResult {
    this.checkUsable();
    const logEndOffset = this.logEndOffset;
    if (!Number.isSafeInteger(offset) || offset < this._logStartOffset || offset > logEndOffset) {
      throw new SpoolError(
        Errors.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside ${this.topic}-${this.partition} [${this._logStartOffset}, ${logEndOffset}]`,
      );
    }
    const result: ReadResult = { bytes: EMPTY, highWatermark: logEndOffset, logStartOffset: this._logStartOffset };
    if (offset === logEndOffset) return result;
    try {
      for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
        const segment = this.segments[i]!;
        const location = segment.findBatch(offset);
        if (location) {
          result.bytes = segment.readBatches(location, maxBytes);
          return result;
        }
      }
    } catch (error) {
      throw this.goOffline(error, 'read');
    }
    return result;
  }

  /** The last segment whose base offset is <= offset (the first segment when none is). */
  segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  offsetForTimestamp(timestampMs: number): number | null {
    this.checkUsable();
    try {
      for (const segment of this.segments) {
        const location = segment.findBatchByTimestamp(timestampMs);
        if (!location) continue;
        const bytes = segment.readBatches(location, location.totalBytes);
        // Bounded like produce validation: a stored batch decompresses within max.message.bytes.
        const { records } = decodeBatch(bytes, 0, { maxUncompressedBytes: this.config.maxMessageBytes });
        const record = records.find((r) => r.timestamp >= timestampMs);
        const offset = record ? record.offset : location.baseOffset;
        return Math.max(offset, this._logStartOffset);
      }
    } catch (error) {
      throw this.goOffline(error, 'read by timestamp');
    }
    return null;
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
    for (let i = 0; i < this.segments.length - 1; i++) {
      const segment = this.segments[i]!;
      if (segment.flushing || segment.durableOffset < segment.nextOffset) return segment.baseOffset;
    }
    return this.active.baseOffset;
  }

  /** Writes the recovery checkpoint when it changed (atomic write). */
  writeCheckpoint(cleanShutdown: boolean): void {
    const checkpoint: Checkpoint = {
      recoveryPoint: cleanShutdown ? this.logEndOffset : this.recoveryPoint(),
      logStartOffset: this._logStartOffset,
      cleanShutdown,
    };
    const key = JSON.stringify(checkpoint);
    if (key === this.lastCheckpoint) return;
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
      for (const segment of removed) {
        segment.close();
        segment.deleteFiles();
      }
    } catch (error) {
      throw this.goOffline(error, 'delete segments');
    }
  }

  /** Replaces a closed segment by its cleaned version (or removes it when `replacement` is null). */
  replaceSegment(old: Segment, replacement: Segment | null): void {
    const i = this.segments.indexOf(old);
    assert(i >= 0 && i < this.segments.length - 1, 'only a closed segment can be replaced');
    if (replacement) this.segments[i] = replacement;
    else this.segments.splice(i, 1);
  }

  /** Graceful close: fsync, closing index entries, clean checkpoint, close files. */
  async close(checkpoint = true): Promise<void> {
    if (this.closedReason) return;
    this.closedReason = new SpoolError(Errors.SHUTTING_DOWN, `${this.topic}-${this.partition} is closed`);
    await Promise.all(this.segments.map((segment) => segment.commit.idle()));
    await Promise.all(this.segments.map((segment) => segment.flushDone));
    try {
      if (!this.offlineError && checkpoint) {
        this.active.finalizeIndexes();
        this.active.syncAllSync();
        this.writeCheckpoint(true);
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
    for (const segment of this.segments) {
      try {
        segment.close();
      } catch {
        // A crash does not close files cleanly either; nothing to do.
      }
    }
  }

  /** After deleteTopic: every later call says the topic is gone. */
  async closeDeleted(): Promise<void> {
    await this.close(false);
    this.closedReason = new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${this.topic} was deleted`);
  }
}
