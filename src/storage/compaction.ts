// Log compaction for cleanup.policy=compact: closed segments below the cleanable end are
// rewritten keeping, per key, only the record with the highest offset; a tombstone (null
// value) is kept until its segment's newest timestamp is older than delete.retention.ms,
// then dropped too. Records with a null key cannot be compacted and are kept.
//
// The cleanable end is min(high watermark, recovery point) (Kafka cleans below
// min(HW, first unstable offset); spool serves no transactions, so there is no unstable
// offset): a record above the HW may still be truncated by a new leader, and one above the
// recovery point may be lost to a power failure, so neither may shadow an older record of
// its key. Only closed segments wholly below it are read (for the key map) or rewritten, and
// a pass ends when the log is truncated meanwhile.
//
// Batches stay the batches they were (Kafka's MemoryRecords.filterTo, records' filterBatch):
// same baseOffset and lastOffsetDelta (so every record keeps its offset and the batch its
// offset range; gaps between and inside batches are where records were removed),
// partitionLeaderEpoch, producerId, producerEpoch, baseSequence and attribute bits
// (timestamp type, transactional, control). A batch whose every record goes is removed,
// except a batch that the idempotent-producer state still keeps (producer-state.ts: the
// last PRODUCER_BATCHES_KEPT batches of each producer it remembers), which stays with no
// records, so that a restart that rebuilds the state from the batch headers finds the same
// sequences and offsets and still answers a retry as a duplicate. Kafka keeps the last
// batch of each active producer this way; spool keeps the batches its state keeps.
// Control batches (which spool never writes: it serves no transactions) are kept whole,
// and their records never enter the key map.
//
// The swap is crash-safe: the cleaned log and its indexes are written as
// <base>.log.cleaned / .index.cleaned / .timeindex.cleaned and fsynced; then the old
// indexes are unlinked, the cleaned log renamed over the old one (the commit point), the
// cleaned indexes renamed into place and the directory fsynced. A crash before the
// commit point leaves the old log (recovery removes *.cleaned and rebuilds any missing
// index); after it, the new log (missing indexes are rebuilt from it).

import { Attributes, BatchLayout, LOG_OVERHEAD, MIN_BATCH_LENGTH, decodeBatch, filterBatch, readInt64 } from '../records/index.js';
import { isSpoolError } from '../util/errors.js';
import { StoredBatchError } from './errors.js';
import { readFullySync, writeFullySync } from './fs.js';
import { CLEANED_SUFFIX } from './names.js';
import type { PartitionLogImpl } from './partition-log.js';
import { Segment } from './segment.js';
import { scanSegment } from './segment-scan.js';
import type { StorageFs } from './fs.js';

export interface CompactionResult {
  segmentsCleaned: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
}

const NOTHING: CompactionResult = { segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, recordsRemoved: 0 };

/**
 * Calls fn for every batch of a segment, read one batch at a time (never the whole
 * segment). A stored length that cannot be right (below the minimum, or past the segment's
 * end) is checked before allocating: it throws StoredBatchError, since nothing after it
 * can be walked.
 */
function forEachSegmentBatch(fs: StorageFs, segment: Segment, fn: (batch: Buffer, position: number) => void): void {
  const header = Buffer.allocUnsafe(LOG_OVERHEAD);
  let position = 0;
  while (position < segment.sizeBytes) {
    readFullySync(fs, segment.logFd, header, position);
    const batchLength = header.readInt32BE(BatchLayout.BATCH_LENGTH);
    const totalBytes = batchLength + LOG_OVERHEAD;
    if (batchLength < MIN_BATCH_LENGTH || position + totalBytes > segment.sizeBytes) {
      throw new StoredBatchError(readInt64(header, 0), segment.nextOffset, `${segment.logPath}:${position}: bad batch length ${batchLength}`);
    }
    const batch = Buffer.allocUnsafe(totalBytes);
    readFullySync(fs, segment.logFd, batch, position);
    fn(batch, position);
    position += totalBytes;
  }
}

/**
 * Decodes a stored batch for the cleaner, CRC included (a rewritten batch gets a fresh
 * CRC, so an unchecked one would launder bit rot). Null, with a warning, when the batch
 * cannot be decoded: the caller leaves its segment as it is.
 */
function decodeForCleaner(log: PartitionLogImpl, segment: Segment, batch: Buffer, position: number): ReturnType<typeof decodeBatch> | null {
  try {
    // Decompression bounded as on produce: a stored batch inflates within max.message.bytes.
    return decodeBatch(batch, 0, { verifyCrc: true, maxUncompressedBytes: log.config.maxMessageBytes });
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    const baseOffset = readInt64(batch, 0);
    log.warn(
      `log cleaner: ${log.topic}-${log.partition} batch at offset ${baseOffset} (${segment.logPath}:${position}) does not decode, ` +
        `segment left as it is: ${error.message}`,
    );
    return null;
  }
}

function isControlBatch(batch: Buffer): boolean {
  return (batch.readInt16BE(BatchLayout.ATTRIBUTES) & Attributes.CONTROL) !== 0;
}

/** Gives the event loop a turn between segments, so appends and fetches are not held up. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The offset below which the cleaner may read and rewrite: min(high watermark, recovery
 * point). A single-node log's high watermark is its log end.
 */
export function cleanableEndOffset(log: PartitionLogImpl): number {
  return Math.min(log.highWatermark, log.recoveryPoint());
}

/** The oldest closed segments whose records all lie below `endOffset` (a prefix of the log). */
export function cleanableSegments(log: PartitionLogImpl, endOffset: number): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < log.segments.length - 1; i++) {
    const segment = log.segments[i]!;
    if (segment.flushing || segment.nextOffset > endOffset) break;
    out.push(segment);
  }
  return out;
}

/**
 * Pass 1 for one segment: notes in `latest` the offset of every keyed record (a later one
 * overwrites). False, with a warning, when a batch does not decode or cannot be walked: the
 * segment is then left as it is in pass 2 (its other records stay, and keys hidden in the
 * bad batch only mean older records of those keys elsewhere are kept: no good data is lost).
 */
function addLatestOffsets(log: PartitionLogImpl, fs: StorageFs, segment: Segment, latest: Map<string, number>): boolean {
  let decodable = true;
  try {
    forEachSegmentBatch(fs, segment, (batch, position) => {
      const decoded = decodeForCleaner(log, segment, batch, position);
      if (decoded === null) {
        decodable = false;
        return;
      }
      // A control record's key is a marker type, not a data key.
      if (isControlBatch(batch)) return;
      for (const record of decoded.records) {
        if (record.key !== null) latest.set(record.key.toString('latin1'), record.offset);
      }
    });
  } catch (error) {
    if (!(error instanceof StoredBatchError)) throw error;
    log.warn(`log cleaner: ${log.topic}-${log.partition}: ${error.message}; segment left as it is`);
    return false;
  }
  return decodable;
}

/**
 * Pass 2 for one segment: its batches as they are to be written (control batches whole,
 * the others filtered, an idempotent producer's kept batch retained with no records), how
 * many records go, and how many tombstones stay.
 */
function filterSegment(log: PartitionLogImpl, fs: StorageFs, segment: Segment, latest: ReadonlyMap<string, number>, nowMs: number): { batches: Buffer[]; removed: number; tombstones: number } {
  const tombstonesExpired = nowMs - segment.maxTimestamp > log.config.deleteRetentionMs;
  let tombstones = 0;
  const keep = (offset: number, key: Buffer | null, hasValue: boolean): boolean => {
    if (key === null) return true;
    if (latest.get(key.toString('latin1')) !== offset) return false;
    if (hasValue) return true;
    if (tombstonesExpired) return false;
    tombstones++;
    return true;
  };
  const batches: Buffer[] = [];
  let removed = 0;
  forEachSegmentBatch(fs, segment, (batch) => {
    if (isControlBatch(batch)) {
      batches.push(batch);
      return;
    }
    const producerId = readInt64(batch, BatchLayout.PRODUCER_ID);
    const lastOffset = readInt64(batch, BatchLayout.BASE_OFFSET) + batch.readInt32BE(BatchLayout.LAST_OFFSET_DELTA);
    const retainEmpty = producerId >= 0 && log.producerState.keepsBatch(producerId, batch.readInt16BE(BatchLayout.PRODUCER_EPOCH), lastOffset);
    // Pass 1 checked this batch's CRC and records (the segment is closed: same bytes).
    const filtered = filterBatch(batch, keep, { retainEmpty, maxUncompressedBytes: log.config.maxMessageBytes });
    removed += filtered.recordsRemoved;
    if (filtered.batch !== null) batches.push(filtered.batch);
  });
  return { batches, removed, tombstones };
}

/**
 * One cleaning pass over the cleanable segments of a compacted partition. Each segment is
 * read and rewritten synchronously, with a turn of the event loop between segments; a
 * segment that stopped being part of the log meanwhile (the partition closed or deleted),
 * or a truncation of the log, ends the pass.
 */
export async function compactPartition(log: PartitionLogImpl, fs: StorageFs, nowMs: number): Promise<CompactionResult> {
  if (log.isOffline || log.isClosed || log.config.cleanupPolicy !== 'compact') return NOTHING;
  const cleanable = cleanableSegments(log, cleanableEndOffset(log));
  if (cleanable.length === 0) return NOTHING;
  // Skip a pass that cannot change anything: no new cleanable data since the last pass, and
  // no tombstone left waiting for delete.retention.ms.
  const cleanableEnd = cleanable[cleanable.length - 1]!.nextOffset;
  const previous = lastPass.get(log);
  if (previous && previous.cleanableEnd === cleanableEnd && previous.tombstonesKept === 0) return NOTHING;
  const truncations = log.truncations;
  const stillValid = (segment: Segment): boolean => !log.isClosed && !log.isOffline && log.truncations === truncations && log.segments.includes(segment);
  // Pass 1: the latest offset of every key in the cleanable segments.
  const latest = new Map<string, number>();
  const leftAlone = new Set<Segment>();
  for (const segment of cleanable) {
    await yieldToEventLoop();
    if (!stillValid(segment)) return NOTHING;
    if (!addLatestOffsets(log, fs, segment, latest)) leftAlone.add(segment);
  }
  // Pass 2: rewrite each segment that has something to drop.
  const result: CompactionResult = { segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, recordsRemoved: 0 };
  let tombstonesKept = 0;
  for (const segment of cleanable) {
    await yieldToEventLoop();
    if (!stillValid(segment)) return result;
    if (leftAlone.has(segment)) continue;
    const { batches, removed, tombstones } = filterSegment(log, fs, segment, latest, nowMs);
    tombstonesKept += tombstones;
    if (removed === 0) continue;
    result.segmentsCleaned++;
    result.recordsRemoved += removed;
    result.bytesBefore += segment.sizeBytes;
    const replacement = swapInCleaned(log, fs, segment, batches, nowMs);
    result.bytesAfter += replacement?.sizeBytes ?? 0;
  }
  lastPass.set(log, { cleanableEnd, tombstonesKept });
  return result;
}

const lastPass = new WeakMap<PartitionLogImpl, { cleanableEnd: number; tombstonesKept: number }>();

function swapInCleaned(log: PartitionLogImpl, fs: StorageFs, segment: Segment, batches: Buffer[], nowMs: number): Segment | null {
  if (batches.length === 0) {
    // Nothing left: drop the segment (indexes first, so a crash leaves a log whose
    // indexes are rebuilt, never indexes of a log that is gone).
    log.replaceSegment(segment, null);
    segment.close();
    for (const path of [segment.indexPath, segment.timeIndexPath, segment.logPath]) if (fs.existsSync(path)) fs.unlinkSync(path);
    fs.fsyncDirSync(segment.dir);
    return null;
  }
  const cleanedLog = segment.logPath + CLEANED_SUFFIX;
  const cleanedIndex = segment.indexPath + CLEANED_SUFFIX;
  const cleanedTimeIndex = segment.timeIndexPath + CLEANED_SUFFIX;
  const logFd = fs.openSync(cleanedLog, 'w+');
  let position = 0;
  for (const batch of batches) {
    writeFullySync(fs, logFd, batch, position);
    position += batch.length;
  }
  fs.fdatasyncSync(logFd);
  const scan = scanSegment(fs, logFd, segment.baseOffset, position, log.config.indexIntervalBytes, false);
  // The cleaned segment is closed: its indexes end with its last batch, like a roll leaves them.
  if (scan.state.lastBatchRelativeOffset >= 0) {
    if (scan.offsetIndex.lastRelativeOffset() !== scan.state.lastBatchRelativeOffset) {
      scan.offsetIndex.append(scan.state.lastBatchRelativeOffset, scan.state.lastBatchPosition);
    }
    if (scan.timeIndex.lastRelativeOffset() !== scan.state.lastBatchRelativeOffset) {
      scan.timeIndex.append(Math.max(scan.state.maxTimestamp, scan.timeIndex.lastTimestamp()), scan.state.lastBatchRelativeOffset);
    }
  }
  writeSynced(fs, cleanedIndex, scan.offsetIndex.encodeFile());
  writeSynced(fs, cleanedTimeIndex, scan.timeIndex.encodeFile());
  fs.unlinkSync(segment.indexPath);
  if (fs.existsSync(segment.timeIndexPath)) fs.unlinkSync(segment.timeIndexPath);
  fs.renameSync(cleanedLog, segment.logPath);
  fs.renameSync(cleanedIndex, segment.indexPath);
  fs.renameSync(cleanedTimeIndex, segment.timeIndexPath);
  fs.fsyncDirSync(segment.dir);
  const replacement = Segment.open(fs, segment.dir, segment.baseOffset, log.config.indexIntervalBytes, logFd, scan.state, null, nowMs);
  log.replaceSegment(segment, replacement);
  segment.close();
  return replacement;
}

function writeSynced(fs: StorageFs, path: string, data: Buffer): void {
  const fd = fs.openSync(path, 'w');
  try {
    writeFullySync(fs, fd, data, 0);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
