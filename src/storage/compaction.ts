// Log compaction for cleanup.policy=compact: closed segments are rewritten keeping, per
// key, only the record with the highest offset; a tombstone (null value) is kept until
// its segment's newest timestamp is older than delete.retention.ms, then dropped too.
// Records with a null key cannot be compacted and are kept.
//
// Offsets are kept: kept records are re-encoded (records' encodeBatch) into batches of
// runs of consecutive offsets, each batch's baseOffset the first offset of its run, so
// baseOffset + offsetDelta is the original offset of every record; gaps between batches
// are where records were removed. A read of a removed offset returns the next batch.
// Producer ids and sequences of rewritten batches are not kept (no idempotence yet).
// Each rewritten batch keeps its source batch's partitionLeaderEpoch: a follower's epoch
// cache (built from the batches it fetches, or rebuilt from the segments when the
// checkpoint is lost) and the OffsetForLeaderEpoch answers that truncate followers depend
// on it. The field sits before the CRC's range, so it is set after encoding.
//
// The swap is crash-safe: the cleaned log and its indexes are written as
// <base>.log.cleaned / .index.cleaned / .timeindex.cleaned and fsynced; then the old
// indexes are unlinked, the cleaned log renamed over the old one (the commit point), the
// cleaned indexes renamed into place and the directory fsynced. A crash before the
// commit point leaves the old log (recovery removes *.cleaned and rebuilds any missing
// index); after it, the new log (missing indexes are rebuilt from it).

import { BatchLayout, type CompressionName, type DecodedRecord, LOG_OVERHEAD, MIN_BATCH_LENGTH, decodeBatch, encodeBatch, readInt64, type RecordInput } from '../records/index.js';
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

/** The codec a rewritten batch gets, by its old codec: the same, but zstd (read only) -> gzip. */
const REWRITE_CODEC: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'gzip'];

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

function keyOf(record: DecodedRecord): string | null {
  return record.key === null ? null : record.key.toString('latin1');
}

/** Gives the event loop a turn between segments, so appends and fetches are not held up. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One cleaning pass over the closed segments of a compacted partition. Each segment is
 * read and rewritten synchronously, with a turn of the event loop between segments; a
 * segment that stopped being part of the log meanwhile (the partition closed or deleted)
 * ends the pass.
 */
export async function compactPartition(log: PartitionLogImpl, fs: StorageFs, nowMs: number): Promise<CompactionResult> {
  if (log.isOffline || log.isClosed || log.config.cleanupPolicy !== 'compact') return NOTHING;
  const closed = log.segments.slice(0, -1).filter((segment) => !segment.flushing);
  if (closed.length === 0) return NOTHING;
  // Skip a pass that cannot change anything: no new closed data since the last pass, and
  // no tombstone left waiting for delete.retention.ms.
  const closedEnd = closed[closed.length - 1]!.nextOffset;
  const previous = lastPass.get(log);
  if (previous && previous.closedEnd === closedEnd && previous.tombstonesKept === 0) return NOTHING;
  let tombstonesKept = 0;
  // Pass 1: the latest offset of every key in the closed segments. A segment holding a
  // batch that does not decode (written by an older version, or a bad disk) is left as it
  // is in pass 2: its other records stay, and keys hidden in the bad batch only mean
  // older records of those keys elsewhere are kept, so no good data is lost.
  const latest = new Map<string, number>();
  const leftAlone = new Set<Segment>();
  for (const segment of closed) {
    await yieldToEventLoop();
    if (log.isClosed || !log.segments.includes(segment)) return NOTHING;
    try {
      forEachSegmentBatch(fs, segment, (batch, position) => {
        const decoded = decodeForCleaner(log, segment, batch, position);
        if (decoded === null) {
          leftAlone.add(segment);
          return;
        }
        for (const record of decoded.records) {
          const key = keyOf(record);
          if (key !== null) latest.set(key, record.offset);
        }
      });
    } catch (error) {
      if (!(error instanceof StoredBatchError)) throw error;
      log.warn(`log cleaner: ${log.topic}-${log.partition}: ${error.message}; segment left as it is`);
      leftAlone.add(segment);
    }
  }
  // Pass 2: rewrite each segment that has something to drop.
  const result: CompactionResult = { segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, recordsRemoved: 0 };
  for (const segment of closed) {
    await yieldToEventLoop();
    if (log.isClosed || log.isOffline || !log.segments.includes(segment)) return result;
    if (leftAlone.has(segment)) continue;
    const tombstonesExpired = nowMs - segment.maxTimestamp > log.config.deleteRetentionMs;
    const batches: Buffer[] = [];
    let removed = 0;
    forEachSegmentBatch(fs, segment, (batch) => {
      // Pass 1 decoded every batch of this segment (it is closed, so its bytes are the same).
      const { header, records } = decodeBatch(batch, 0, { maxUncompressedBytes: log.config.maxMessageBytes });
      const compression = REWRITE_CODEC[header.compression] ?? 'none';
      let run: RecordInput[] = [];
      let runBase = -1;
      let runNext = -1;
      const flushRun = (): void => {
        if (run.length === 0) return;
        const rewritten = encodeBatch(run, { compression, baseOffset: runBase });
        rewritten.writeInt32BE(header.partitionLeaderEpoch, BatchLayout.PARTITION_LEADER_EPOCH);
        batches.push(rewritten);
        run = [];
      };
      for (const record of records) {
        const key = keyOf(record);
        const keep = key === null || (latest.get(key) === record.offset && (record.value !== null || !tombstonesExpired));
        if (keep && record.value === null && key !== null) tombstonesKept++;
        if (!keep) {
          removed++;
          continue;
        }
        if (record.offset !== runNext) {
          flushRun();
          runBase = record.offset;
        }
        run.push({ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp });
        runNext = record.offset + 1;
      }
      flushRun();
    });
    if (removed === 0) continue;
    result.segmentsCleaned++;
    result.recordsRemoved += removed;
    result.bytesBefore += segment.sizeBytes;
    const replacement = swapInCleaned(log, fs, segment, batches, nowMs);
    result.bytesAfter += replacement?.sizeBytes ?? 0;
  }
  lastPass.set(log, { closedEnd, tombstonesKept });
  return result;
}

const lastPass = new WeakMap<PartitionLogImpl, { closedEnd: number; tombstonesKept: number }>();

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
