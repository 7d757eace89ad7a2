// One segment of a partition log: a .log file of whole record batches (the RecordBatch
// v2 sequence, each batch's magic is its format version), its sparse .index and
// .timeindex, and what storage keeps in memory about them. Only the newest (active)
// segment is appended to; older (closed) ones are read-only until retention or the
// cleaner replaces them. A closed segment's indexes are loaded lazily on first lookup.
//
// Positions are byte positions in the .log file; offsets are record offsets; a relative
// offset is an offset minus the segment's base offset (u32 in the index files).

import { join } from 'node:path';
import { Attributes, BatchLayout, Compression, LOG_OVERHEAD, MAGIC, MIN_BATCH_LENGTH } from '../records/index.js';
import { StoredBatchError } from './errors.js';
import { assert } from '../util/assert.js';
import { type StorageFs, readFullySync, readWholeFileSync, writeFullySync } from './fs.js';
import { readInt64 } from './index-format.js';
import { type FilePool, type PooledFile, sharedFilePool } from './file-pool.js';
import { GroupCommit } from './group-commit.js';
import { segmentFileName } from './names.js';
import { SCAN_HEADER_BYTES, type SegmentState, emptySegmentState, scanSegment } from './segment-scan.js';
import type { SyncBatch } from './sync-batch.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';

const SCAN_CHUNK_BYTES = 16 * 1024;
const scanScratch = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
/**
 * Which segment's bytes scanScratch holds, and where: a read that follows a scan copies
 * from here instead of a second syscall when the batches it returns are inside the chunk
 * (small random reads). Reset by every write or truncation of any segment.
 */
let scratchOwner: Segment | null = null;
let scratchStart = 0;
let scratchLength = 0;

/** A located batch: where it starts and which offsets it holds. */
export interface BatchLocation {
  position: number;
  baseOffset: number;
  lastOffset: number;
  totalBytes: number;
  maxTimestamp: number;
}


/**
 * The cheap checks of a stored batch header (no CRC, no records): magic, a length that
 * fits the segment, a defined codec, a lastOffsetDelta that is not negative. Null when
 * good; otherwise what is wrong, and whether the length can still be used to step over
 * the batch. `header` must hold SCAN_HEADER_BYTES at `at`.
 */
function checkStoredHeader(header: Buffer, at: number, bytesLeftInSegment: number): { detail: string; lengthUsable: boolean } | null {
  const batchLength = header.readInt32BE(at + BatchLayout.BATCH_LENGTH);
  if (batchLength < MIN_BATCH_LENGTH || batchLength + LOG_OVERHEAD > bytesLeftInSegment) {
    return { detail: `bad batch length ${batchLength}`, lengthUsable: false };
  }
  const magic = header.readInt8(at + BatchLayout.MAGIC);
  if (magic !== MAGIC) return { detail: `magic ${magic}, expected ${MAGIC}`, lengthUsable: true };
  const codec = header.readInt16BE(at + BatchLayout.ATTRIBUTES) & Attributes.COMPRESSION_MASK;
  if (codec > Compression.zstd) return { detail: `unknown compression codec ${codec}`, lengthUsable: true };
  const lastOffsetDelta = header.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA);
  if (lastOffsetDelta < 0) return { detail: `negative lastOffsetDelta ${lastOffsetDelta}`, lengthUsable: true };
  return null;
}

export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  /** The .log file, opened on use and closed by the pool when it needs room (file-pool.ts). */
  readonly logFile: PooledFile;
  sizeBytes: number;
  nextOffset: number;
  maxTimestamp: number;
  lastBatchRelativeOffset: number;
  lastBatchPosition: number;
  /** Clock time (ms) this segment started filling, for segment.ms; -1 while empty. */
  rollBaseMs: number;
  /** Every offset below this is fsynced in this segment's .log. */
  durableOffset: number;
  private bytesSinceLastIndexEntry = 0;
  private offsetIndex: OffsetIndex | null = null;
  private timeIndex: TimeIndex | null = null;
  /** The index files while this segment takes appends (pooled like the .log); null otherwise. */
  private indexFile: PooledFile | null = null;
  private timeIndexFile: PooledFile | null = null;
  private closed = false;
  /** Group commit of this segment's .log (fsync policy `always`, interval flush, roll). */
  readonly commit: GroupCommit;
  /** Set while the post-roll flush runs; retention and the cleaner leave the segment alone. */
  flushing = false;
  flushDone: Promise<void> = Promise.resolve();

  private constructor(
    private readonly fs: StorageFs,
    readonly dir: string,
    readonly baseOffset: number,
    readonly indexIntervalBytes: number,
    logFile: PooledFile,
    state: SegmentState,
    rollBaseMs: number,
  ) {
    this.logPath = join(dir, segmentFileName(baseOffset, 'log'));
    this.indexPath = join(dir, segmentFileName(baseOffset, 'index'));
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, 'timeindex'));
    this.logFile = logFile;
    this.sizeBytes = state.sizeBytes;
    this.nextOffset = state.nextOffset;
    this.maxTimestamp = state.maxTimestamp;
    this.lastBatchRelativeOffset = state.lastBatchRelativeOffset;
    this.lastBatchPosition = state.lastBatchPosition;
    this.rollBaseMs = rollBaseMs;
    this.durableOffset = state.nextOffset;
    this.commit = new GroupCommit(async () => {
      const target = this.nextOffset;
      await this.fdatasyncPinned(this.logFile);
      if (target > this.durableOffset) this.durableOffset = target;
    });
  }

  /** The .log's fd, open now: use it at once (the pool may close it at its next open). */
  get logFd(): number {
    return this.logFile.fd();
  }

  /** fdatasync in the thread pool, with the file pinned open until it ends. */
  private async fdatasyncPinned(file: PooledFile): Promise<void> {
    const release = await file.pin();
    try {
      await this.fs.fdatasync(file.fd());
    } finally {
      release();
    }
  }

  static emptyState(baseOffset: number): SegmentState {
    return emptySegmentState(baseOffset);
  }

  /** Creates the files of a new, empty segment. */
  static create(fs: StorageFs, dir: string, baseOffset: number, indexIntervalBytes: number, pool: FilePool = sharedFilePool): Segment {
    const logFile = pool.openFile(fs, join(dir, segmentFileName(baseOffset, 'log')), 'w+');
    const segment = new Segment(fs, dir, baseOffset, indexIntervalBytes, logFile, Segment.emptyState(baseOffset), -1);
    segment.offsetIndex = new OffsetIndex();
    segment.timeIndex = new TimeIndex();
    segment.writeIndexFiles(false);
    segment.durableOffset = baseOffset;
    return segment;
  }

  /**
   * Opens an existing segment whose state recovery established. `indexes` are the
   * in-memory indexes when recovery rebuilt them (they are then written out); null when
   * the files on disk were verified and can be loaded lazily.
   */
  static open(
    fs: StorageFs,
    dir: string,
    baseOffset: number,
    indexIntervalBytes: number,
    logFd: number,
    state: SegmentState,
    indexes: { offsetIndex: OffsetIndex; timeIndex: TimeIndex } | null,
    nowMs: number,
    pool: FilePool = sharedFilePool,
    /** Recovery's batch of fdatasyncs (sync-batch.ts): rebuilt indexes join it instead of syncing here. */
    deferSync?: (path: string) => void,
  ): Segment {
    const rollBaseMs = state.sizeBytes === 0 ? -1 : state.firstBatchTimestamp >= 0 ? Math.min(state.firstBatchTimestamp, nowMs) : nowMs;
    // The caller's fd joins the pool (it may be closed later and reopened on use).
    const logFile = pool.adopt(fs, join(dir, segmentFileName(baseOffset, 'log')), logFd);
    const segment = new Segment(fs, dir, baseOffset, indexIntervalBytes, logFile, state, rollBaseMs);
    if (indexes) {
      segment.offsetIndex = indexes.offsetIndex;
      segment.timeIndex = indexes.timeIndex;
      segment.writeIndexFiles(deferSync ?? true);
    }
    return segment;
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /**
   * Rewrites both index files from memory (header + every entry). `sync` for rebuilt
   * indexes: recovery checkpoints right after, and the recovery point promises that the
   * segments below it were fsynced with their indexes. A function: hand each path to
   * recovery's batch of fdatasyncs, which runs before that checkpoint is written.
   */
  private writeIndexFiles(sync: boolean | ((path: string) => void)): void {
    const offsetIndex = this.offsetIndex!;
    const timeIndex = this.timeIndex!;
    offsetIndex.takePending();
    timeIndex.takePending();
    this.writeWholeFile(this.indexPath, offsetIndex.encodeFile(), sync);
    this.writeWholeFile(this.timeIndexPath, timeIndex.encodeFile(), sync);
    this.bytesSinceLastIndexEntry = this.sizeBytes - Math.max(0, offsetIndex.lastPosition());
  }

  private writeWholeFile(path: string, data: Buffer, sync: boolean | ((path: string) => void)): void {
    const fd = this.fs.openSync(path, 'w');
    try {
      writeFullySync(this.fs, fd, data, 0);
      if (sync === true) this.fs.fdatasyncSync(fd);
    } finally {
      this.fs.closeSync(fd);
    }
    if (typeof sync === 'function') sync(path);
  }

  /**
   * Drops the in-memory indexes of a closed segment whose files are complete; the next
   * lookup loads them again. Keeps memory bounded to the segments being read.
   */
  unloadIndexes(): void {
    if (this.indexFile !== null || this.flushing || this.closed) return;
    this.offsetIndex = null;
    this.timeIndex = null;
  }

  get indexesLoaded(): boolean {
    return this.offsetIndex !== null;
  }

  /** Loads the index files of a closed segment (verified at start-up) on first use. */
  private ensureIndexes(): void {
    if (this.offsetIndex && this.timeIndex) return;
    const offsetIndex = this.fs.existsSync(this.indexPath) ? OffsetIndex.decode(readWholeFileSync(this.fs, this.indexPath)) : null;
    const timeIndex = this.fs.existsSync(this.timeIndexPath) ? TimeIndex.decode(readWholeFileSync(this.fs, this.timeIndexPath)) : null;
    if (offsetIndex && timeIndex) {
      this.offsetIndex = offsetIndex;
      this.timeIndex = timeIndex;
      this.bytesSinceLastIndexEntry = this.sizeBytes - Math.max(0, offsetIndex.lastPosition());
      return;
    }
    // The files changed under us since start-up: rebuild them from the log (derived data).
    const rebuilt = scanSegment(this.fs, this.logFd, this.baseOffset, this.sizeBytes, this.indexIntervalBytes, false);
    this.offsetIndex = rebuilt.offsetIndex;
    this.timeIndex = rebuilt.timeIndex;
    this.writeIndexFiles(true);
  }

  private openIndexFds(): void {
    if (this.indexFile !== null) return;
    this.ensureIndexes();
    const pool = this.logFile.pool;
    this.indexFile = pool.openFile(this.fs, this.indexPath, 'r+');
    this.timeIndexFile = pool.openFile(this.fs, this.timeIndexPath, 'r+');
  }

  /**
   * Writes `batches` (offsets already assigned) at the end of the .log with one write.
   * On failure the log is truncated back to its previous end and the error rethrown.
   */
  writeBatches(batches: Buffer): void {
    assert(!this.closed, 'write to a closed segment');
    scratchOwner = null;
    const position = this.sizeBytes;
    try {
      writeFullySync(this.fs, this.logFd, batches, position);
    } catch (error) {
      this.truncateAfterFailedWrite(position);
      throw error;
    }
  }

  private truncateAfterFailedWrite(position: number): void {
    try {
      this.fs.ftruncateSync(this.logFd, position);
    } catch {
      // The partition goes offline with the original error; recovery at the next start
      // truncates whatever partial batch is left, so a second failure changes nothing.
    }
  }

  /**
   * Records the batch just written at `position` in memory and in the pending index
   * entries. Call once per batch, in order, after writeBatches succeeded.
   */
  noteBatch(position: number, baseOffset: number, lastOffset: number, totalBytes: number, maxTimestamp: number, nowMs: number): void {
    const relativeOffset = baseOffset - this.baseOffset;
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    if (this.bytesSinceLastIndexEntry >= this.indexIntervalBytes || (position === 0 && this.indexIntervalBytes === 0)) {
      this.offsetIndex!.append(relativeOffset, position);
      if (this.maxTimestamp > this.timeIndex!.lastTimestamp() || this.timeIndex!.entryCount === 0) {
        this.timeIndex!.append(this.maxTimestamp, relativeOffset);
      }
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += totalBytes;
    if (this.rollBaseMs < 0) this.rollBaseMs = nowMs;
    this.sizeBytes = position + totalBytes;
    this.nextOffset = lastOffset + 1;
    this.lastBatchRelativeOffset = relativeOffset;
    this.lastBatchPosition = position;
  }

  /** Prepares for an append: index fds open and indexes in memory. */
  prepareForAppend(): void {
    this.openIndexFds();
  }

  /** Writes pending index entries to the index files (one write per file). */
  flushIndexEntries(): void {
    const offsetBytes = this.offsetIndex?.takePending();
    if (offsetBytes) writeFullySync(this.fs, this.indexFile!.fd(), offsetBytes, this.offsetIndex!.fileBytes - offsetBytes.length);
    const timeBytes = this.timeIndex?.takePending();
    if (timeBytes) writeFullySync(this.fs, this.timeIndexFile!.fd(), timeBytes, this.timeIndex!.fileBytes - timeBytes.length);
  }

  /**
   * Adds the closing index entries (the last batch in both indexes) so a closed segment
   * can be verified cheaply at start-up, and writes them out.
   */
  finalizeIndexes(): void {
    if (this.lastBatchRelativeOffset < 0) return;
    this.openIndexFds();
    const offsetIndex = this.offsetIndex!;
    const timeIndex = this.timeIndex!;
    if (offsetIndex.lastRelativeOffset() !== this.lastBatchRelativeOffset) offsetIndex.append(this.lastBatchRelativeOffset, this.lastBatchPosition);
    if (timeIndex.lastRelativeOffset() !== this.lastBatchRelativeOffset) {
      timeIndex.append(Math.max(this.maxTimestamp, timeIndex.lastTimestamp()), this.lastBatchRelativeOffset);
    }
    this.bytesSinceLastIndexEntry = 0;
    this.flushIndexEntries();
  }

  /** fdatasync of the .log (sync; for close and roll of small test segments). */
  /** syncAllSync's files, handed to a batch (a clean shutdown: sync-batch.ts) instead. */
  addSyncPaths(batch: SyncBatch): void {
    batch.add(this.logPath);
    if (this.indexFile) batch.add(this.indexPath);
    if (this.timeIndexFile) batch.add(this.timeIndexPath);
  }

  syncAllSync(): void {
    this.fs.fdatasyncSync(this.logFd);
    if (this.indexFile) this.fs.fdatasyncSync(this.indexFile.fd());
    if (this.timeIndexFile) this.fs.fdatasyncSync(this.timeIndexFile.fd());
  }

  /**
   * After a roll: fsync the .log and both indexes of this (now closed) segment, then
   * close the index fds. Until it ends, `flushing` keeps retention and the cleaner away.
   */
  flushClosed(): Promise<void> {
    this.flushing = true;
    const done = this.flushClosedNow();
    // close() waits on this; it never rejects (the caller of flushClosed sees the error).
    this.flushDone = done.catch(() => undefined);
    return done;
  }

  private async flushClosedNow(): Promise<void> {
    try {
      await Promise.all([
        this.commit.request(),
        this.indexFile ? this.fdatasyncPinned(this.indexFile) : undefined,
        this.timeIndexFile ? this.fdatasyncPinned(this.timeIndexFile) : undefined,
      ]);
    } finally {
      this.flushing = false;
      if (!this.closed) this.closeIndexFds();
    }
  }

  /** Closes the index fds of a segment that is no longer active (the log fd stays for reads). */
  closeIndexFds(): void {
    this.indexFile?.close();
    this.timeIndexFile?.close();
    this.indexFile = null;
    this.timeIndexFile = null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeIndexFds();
    this.logFile.close();
  }

  /**
   * Cuts the .log at `position` (a batch boundary: a replica's truncation) and rebuilds
   * state and both indexes from a scan of what is kept (CRC included; cost: one read of
   * the kept bytes). The log is cut before the indexes are rewritten: a crash in between
   * leaves indexes that name bytes past the end, which the start-up check rejects (the
   * partition's checkpoint also makes recovery scan this segment, see truncateTo).
   */
  truncateTo(position: number, contiguous: boolean): void {
    assert(!this.closed && position >= 0 && position <= this.sizeBytes, `bad truncation position ${position} of ${this.logPath}`);
    scratchOwner = null;
    this.fs.ftruncateSync(this.logFd, position);
    const scan = scanSegment(this.fs, this.logFd, this.baseOffset, position, this.indexIntervalBytes, contiguous);
    // What was kept was valid when written; damage found now is cut too, like recovery.
    if (scan.validBytes < position) this.fs.ftruncateSync(this.logFd, scan.validBytes);
    const state = scan.state;
    this.sizeBytes = state.sizeBytes;
    this.nextOffset = state.nextOffset;
    this.maxTimestamp = state.maxTimestamp;
    this.lastBatchRelativeOffset = state.lastBatchRelativeOffset;
    this.lastBatchPosition = state.lastBatchPosition;
    if (state.sizeBytes === 0) this.rollBaseMs = -1;
    if (this.durableOffset > this.nextOffset) this.durableOffset = this.nextOffset;
    this.offsetIndex = scan.offsetIndex;
    this.timeIndex = scan.timeIndex;
    this.writeIndexFiles(true);
    this.fs.fdatasyncSync(this.logFd);
  }

  /** Deletes the segment's files (after close). */
  deleteFiles(): void {
    for (const path of [this.logPath, this.indexPath, this.timeIndexPath]) {
      if (this.fs.existsSync(path)) this.fs.unlinkSync(path);
    }
  }

  /**
   * Finds the first batch whose last offset is >= `offset`: the batch holding it, or the
   * next one when it was compacted away. Null when every batch ends before `offset`.
   */
  findBatch(offset: number): BatchLocation | null {
    this.ensureIndexes();
    const relative = Math.max(0, offset - this.baseOffset);
    const start = this.offsetIndex!.lookup(Math.min(relative, 0xffffffff));
    return this.scanForward(start, (location) => location.lastOffset >= offset);
  }

  /**
   * The first batch whose maxTimestamp >= `timestampMs`, or null. With `fromPosition` (the
   * end of a batch found before) the walk goes on from there instead of from the time index.
   */
  findBatchByTimestamp(timestampMs: number, fromPosition?: number): BatchLocation | null {
    if (this.isEmpty || this.maxTimestamp < timestampMs) return null;
    this.ensureIndexes();
    const start = fromPosition ?? this.offsetIndex!.lookup(this.timeIndex!.lookup(timestampMs));
    return this.scanForward(start, (location) => location.maxTimestamp >= timestampMs);
  }

  /**
   * Walks batch headers from `position` with chunked positional reads until `match`.
   * Stored bytes are checked as they are met (checkStoredHeader): a bad batch that is
   * matched throws StoredBatchError; one that is passed over is skipped when its length
   * can be trusted, and throws otherwise (nothing after it can be found).
   */
  private scanForward(position: number, match: (location: BatchLocation) => boolean): BatchLocation | null {
    let chunkStart = 0;
    let chunkLength = 0;
    while (position < this.sizeBytes) {
      if (position < chunkStart || position + SCAN_HEADER_BYTES > chunkStart + chunkLength) {
        scratchOwner = null;
        chunkLength = readFullySync(this.fs, this.logFd, scanScratch, position, 0, Math.min(SCAN_CHUNK_BYTES, this.sizeBytes - position));
        chunkStart = position;
        scratchOwner = this;
        scratchStart = chunkStart;
        scratchLength = chunkLength;
      }
      const at = position - chunkStart;
      if (chunkLength - at < SCAN_HEADER_BYTES) {
        throw new StoredBatchError(this.nextOffset, this.nextOffset, `${this.logPath}:${position}: short batch header`);
      }
      const problem = checkStoredHeader(scanScratch, at, this.sizeBytes - position);
      const baseOffset = readInt64(scanScratch, at);
      const batchLength = scanScratch.readInt32BE(at + BatchLayout.BATCH_LENGTH);
      const lengthUsable = problem === null || problem.lengthUsable;
      const location: BatchLocation = {
        position,
        baseOffset,
        lastOffset: baseOffset + Math.max(0, scanScratch.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA)),
        totalBytes: batchLength + LOG_OVERHEAD,
        maxTimestamp: readInt64(scanScratch, at + BatchLayout.MAX_TIMESTAMP),
      };
      if (!lengthUsable) {
        throw new StoredBatchError(baseOffset, this.nextOffset, `${this.logPath}:${position}: ${problem!.detail}`);
      }
      if (match(location)) {
        if (problem) throw new StoredBatchError(baseOffset, location.lastOffset + 1, `${this.logPath}:${position}: ${problem.detail}`);
        return location;
      }
      position += location.totalBytes;
    }
    return null;
  }

  /**
   * Whole batches starting at `location`, up to `maxBytes` but at least that batch, and
   * never past the end of this segment. One positional read into a new buffer.
   */
  readBatches(location: BatchLocation, maxBytes: number): Buffer {
    const available = this.sizeBytes - location.position;
    const length = Math.max(location.totalBytes, Math.min(maxBytes, available));
    const buffer = Buffer.allocUnsafe(length);
    if (scratchOwner === this && location.position >= scratchStart && location.position + length <= scratchStart + scratchLength) {
      scanScratch.copy(buffer, 0, location.position - scratchStart, location.position - scratchStart + length);
    } else {
      const read = readFullySync(this.fs, this.logFd, buffer, location.position, 0, length);
      assert(read === length, `short read at ${this.logPath}:${location.position}`);
    }
    if (length === location.totalBytes) return buffer;
    // Cut at the last whole batch, and before a batch whose stored header is bad (the
    // next read starts there and reports it), so the good batches before it are served.
    // A header walk over bytes already in memory: no syscall, no record decoding.
    let end = location.totalBytes;
    while (end + SCAN_HEADER_BYTES <= length) {
      if (checkStoredHeader(buffer, end, available - end) !== null) break;
      const total = buffer.readInt32BE(end + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
      if (end + total > length) break;
      end += total;
    }
    return buffer.subarray(0, end);
  }

}
