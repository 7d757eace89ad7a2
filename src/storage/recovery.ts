// Start-up recovery of one partition directory. Per file kind:
//   *.tmp, *.cleaned, *.deleted   leftovers of an interrupted atomic write, compaction swap
//                                 or delete: removed.
//   .index / .timeindex without a .log: removed.
//   .log below the recovery point (every later segment starts at or before the
//        checkpoint's recoveryPoint), or the last .log after a clean shutdown: trusted.
//        Its indexes are checked cheaply (header, whole entries, the last entry names the
//        last batch of the log, which ends exactly at the end of the file); when the
//        check fails they are rebuilt from a scan.
//   any other .log: scanned batch by batch (CRC included) with records' validBatchPrefix,
//        and, unless the topic is compacted, offsets must follow each other exactly. The
//        file is truncated at the first torn or corrupt batch and reported
//        { file, validBytes, truncatedBytes } (a result, not an exception); later
//        segments are dropped (and reported) because they were written after the damage.
//        Its indexes are rebuilt from the scan.
// Segments wholly below the checkpoint's log start offset (retention crashed between
// checkpointing the new start and deleting the files) are deleted.
// After recovery the partition holds exactly the whole valid batches that reached the
// files, and the next append continues at the offset after the last of them.

import { join } from 'node:path';
import { BatchLayout, LOG_OVERHEAD } from '../records/index.js';
import { assert } from '../util/assert.js';
import type { StorageFs } from './fs.js';
import { readFullySync, readWholeFileSync } from './fs.js';
import { INDEX_HEADER_BYTES, OffsetIndexFormat, TimeIndexFormat, readInt64 } from './index-format.js';
import type { Checkpoint } from './metadata.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, TEMP_SUFFIX, parseSegmentFileName, segmentFileName } from './names.js';
import { OffsetIndex } from './offset-index.js';
import { Segment } from './segment.js';
import { SCAN_HEADER_BYTES, type SegmentState, addClosingEntries, scanSegment } from './segment-scan.js';
import { TimeIndex } from './time-index.js';
import type { RecoveryReport, TopicConfig } from './types.js';

export interface RecoveredPartition {
  segments: Segment[];
  logStartOffset: number;
  reports: RecoveryReport[];
  /** Segments whose .log was scanned batch by batch (0 after a clean shutdown). */
  segmentsScanned: number;
  /** Segments trusted after the cheap check of their indexes. */
  segmentsTrusted: number;
}

export interface RecoverOptions {
  fs: StorageFs;
  dir: string;
  checkpoint: Checkpoint | null;
  config: TopicConfig;
  nowMs: number;
  warn: (message: string) => void;
  /**
   * Given (LogManager.open): the fdatasync of each scanned .log and rebuilt index is left
   * to the caller (sync-batch.ts runs them concurrently, before the checkpoint that
   * vouches for them is written). Absent: each is fdatasynced here, at once.
   */
  deferSync?: (path: string) => void;
}

export function recoverPartition(options: RecoverOptions): RecoveredPartition {
  const { fs, dir, checkpoint, config, nowMs, warn, deferSync } = options;
  fs.mkdirSync(dir);
  const reports: RecoveryReport[] = [];
  const logBases: number[] = [];
  const indexBases = new Set<number>();
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(TEMP_SUFFIX) || name.endsWith(CLEANED_SUFFIX) || name.endsWith(DELETED_SUFFIX)) {
      fs.rmSync(join(dir, name));
      warn(`recovery: removed leftover ${join(dir, name)}`);
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (!parsed) continue;
    if (parsed.kind === 'log') logBases.push(parsed.baseOffset);
    else indexBases.add(parsed.baseOffset);
  }
  logBases.sort((a, b) => a - b);
  const logSet = new Set(logBases);
  for (const base of indexBases) {
    if (logSet.has(base)) continue;
    for (const kind of ['index', 'timeindex'] as const) {
      const path = join(dir, segmentFileName(base, kind));
      if (fs.existsSync(path)) fs.unlinkSync(path);
    }
  }

  const contiguous = config.cleanupPolicy !== 'compact';
  const segments: Segment[] = [];
  let damaged = false;
  let segmentsScanned = 0;
  let segmentsTrusted = 0;
  for (let i = 0; i < logBases.length; i++) {
    const base = logBases[i]!;
    const logPath = join(dir, segmentFileName(base, 'log'));
    if (damaged) {
      // Written after a torn or corrupt batch: not part of the log any more.
      const fd = fs.openSync(logPath, 'r');
      const size = fs.fileSizeSync(fd);
      fs.closeSync(fd);
      for (const kind of ['log', 'index', 'timeindex'] as const) {
        const path = join(dir, segmentFileName(base, kind));
        if (fs.existsSync(path)) fs.unlinkSync(path);
      }
      reports.push({ file: logPath, validBytes: 0, truncatedBytes: size, rebuiltIndex: false });
      warn(`recovery: removed ${logPath} (${size} bytes) after damage in an earlier segment`);
      continue;
    }
    const logFd = fs.openSync(logPath, 'r+');
    const fileBytes = fs.fileSizeSync(logFd);
    const last = i === logBases.length - 1;
    const trusted =
      checkpoint !== null && (last ? checkpoint.cleanShutdown : logBases[i + 1]! <= checkpoint.recoveryPoint);
    if (trusted) {
      const state = verifySegment(fs, dir, base, logFd, fileBytes);
      if (state && (!last || state.nextOffset === checkpoint.recoveryPoint)) {
        segments.push(Segment.open(fs, dir, base, config.indexIntervalBytes, logFd, state, null, nowMs));
        segmentsTrusted++;
        continue;
      }
    }
    const scan = scanSegment(fs, logFd, base, fileBytes, config.indexIntervalBytes, contiguous);
    // A cleanly closed log holds only what appends wrote, and appends roll before any
    // batch passes u32 from its segment base: stopping there would drop acknowledged,
    // fsynced batches. That is a bug in append or scan, never damage (the batch passed its
    // CRC and sits exactly in offset sequence), so it stops the process.
    assert(
      !(checkpoint?.cleanShutdown === true && scan.stop === 'offset-overflow'),
      `recovery would drop acknowledged batches of ${logPath} at ${scan.validBytes} bytes: relative offset past u32`,
    );
    segmentsScanned++;
    const truncatedBytes = fileBytes - scan.validBytes;
    // A closed segment gets its closing index entries, as a roll gives them, so the next
    // start trusts it after the cheap check instead of scanning it again (forever). The
    // last segment stays as appends leave it: it is the active one.
    if (!last && truncatedBytes === 0) addClosingEntries(scan);
    const rebuiltIndex = !indexesMatch(fs, dir, base, scan.offsetIndex, scan.timeIndex);
    if (truncatedBytes > 0) {
      fs.ftruncateSync(logFd, scan.validBytes);
      damaged = true;
      warn(`recovery: truncated ${logPath} at ${scan.validBytes} bytes, dropping ${truncatedBytes} bytes of torn or corrupt data`);
    } else if (rebuiltIndex) {
      warn(`recovery: rebuilt the indexes of ${logPath}`);
    }
    if (truncatedBytes > 0 || rebuiltIndex) reports.push({ file: logPath, validBytes: scan.validBytes, truncatedBytes, rebuiltIndex });
    // What was scanned may have been only in the page cache: make it durable before the
    // recovery point moves past it (now, or in the caller's batch before its checkpoint).
    if (deferSync) deferSync(logPath);
    else fs.fdatasyncSync(logFd);
    segments.push(Segment.open(fs, dir, base, config.indexIntervalBytes, logFd, scan.state, { offsetIndex: scan.offsetIndex, timeIndex: scan.timeIndex }, nowMs, undefined, deferSync));
  }

  if (segments.length === 0) {
    segments.push(Segment.create(fs, dir, checkpoint?.logStartOffset ?? 0, config.indexIntervalBytes));
  }
  const logEndOffset = segments[segments.length - 1]!.nextOffset;
  const logStartOffset = Math.min(checkpoint?.logStartOffset ?? segments[0]!.baseOffset, logEndOffset);
  // Segments wholly below the log start offset: retention checkpointed the new start and
  // crashed before deleting their files. Finish the job.
  while (segments.length > 1 && segments[1]!.baseOffset <= logStartOffset) {
    const segment = segments.shift()!;
    segment.close();
    segment.deleteFiles();
    warn(`recovery: removed ${segment.logPath}, below the log start offset ${logStartOffset}`);
  }
  assertLogEnd(fs, segments);
  return { segments, logStartOffset, reports, segmentsScanned, segmentsTrusted };
}

/**
 * The pair of the append-side checks, read back from the files: segments are in offset
 * order, and the log end is the last valid batch's last offset + 1 (that batch ending
 * exactly at the end of its file).
 */
function assertLogEnd(fs: StorageFs, segments: Segment[]): void {
  for (let i = 1; i < segments.length; i++) {
    assert(segments[i - 1]!.nextOffset <= segments[i]!.baseOffset, `recovered segments overlap at ${segments[i]!.logPath}`);
  }
  const last = segments[segments.length - 1]!;
  if (last.isEmpty) {
    assert(last.nextOffset === last.baseOffset, `empty recovered segment ${last.logPath} has a log end past its base`);
    return;
  }
  const header = Buffer.allocUnsafe(SCAN_HEADER_BYTES);
  assert(readFullySync(fs, last.logFd, header, last.lastBatchPosition) === SCAN_HEADER_BYTES, `recovered ${last.logPath}: last batch header unreadable`);
  const lastBase = readInt64(header, 0);
  const lastOffset = lastBase + header.readInt32BE(BatchLayout.LAST_OFFSET_DELTA);
  const end = last.lastBatchPosition + header.readInt32BE(BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
  assert(end === last.sizeBytes, `recovered ${last.logPath}: last batch ends at ${end}, file at ${last.sizeBytes}`);
  assert(last.nextOffset === lastOffset + 1, `recovered log end ${last.nextOffset} is not the last valid offset ${lastOffset} + 1 in ${last.logPath}`);
}

/**
 * The cheap start-up check of a trusted segment: both index files have a good header and
 * whole entries, and their last entries name the last batch of the log, which ends at the
 * end of the file. Returns the segment's state, or null when the indexes must be rebuilt.
 */
export function verifySegment(fs: StorageFs, dir: string, base: number, logFd: number, fileBytes: number): SegmentState | null {
  const offsetTail = readIndexTail(fs, join(dir, segmentFileName(base, 'index')), OffsetIndexFormat.entryBytes, OffsetIndexFormat.magic);
  const timeTail = readIndexTail(fs, join(dir, segmentFileName(base, 'timeindex')), TimeIndexFormat.entryBytes, TimeIndexFormat.magic);
  if (!offsetTail || !timeTail) return null;
  if (fileBytes === 0) return offsetTail.count === 0 && timeTail.count === 0 ? Segment.emptyState(base) : null;
  if (offsetTail.count === 0 || timeTail.count === 0) return null;
  const relativeOffset = offsetTail.last.readUInt32BE(0);
  const position = offsetTail.last.readUInt32BE(4);
  const maxTimestamp = readInt64(timeTail.last, 0);
  if (timeTail.last.readUInt32BE(8) !== relativeOffset) return null;
  if (position + SCAN_HEADER_BYTES > fileBytes) return null;
  const header = Buffer.allocUnsafe(SCAN_HEADER_BYTES);
  if (readFullySync(fs, logFd, header, position) !== SCAN_HEADER_BYTES) return null;
  const lastBase = readInt64(header, 0);
  const totalBytes = header.readInt32BE(BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
  if (lastBase !== base + relativeOffset || position + totalBytes !== fileBytes) return null;
  const lastOffset = lastBase + header.readInt32BE(BatchLayout.LAST_OFFSET_DELTA);
  if (readFullySync(fs, logFd, header, 0) !== SCAN_HEADER_BYTES) return null;
  if (readInt64(header, 0) < base) return null;
  return {
    sizeBytes: fileBytes,
    nextOffset: lastOffset + 1,
    maxTimestamp,
    lastBatchRelativeOffset: relativeOffset,
    lastBatchPosition: position,
    firstBatchTimestamp: readInt64(header, BatchLayout.MAX_TIMESTAMP),
  };
}

function readIndexTail(fs: StorageFs, path: string, entryBytes: number, magic: number): { count: number; last: Buffer } | null {
  if (!fs.existsSync(path)) return null;
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fileSizeSync(fd);
    if (size < INDEX_HEADER_BYTES || (size - INDEX_HEADER_BYTES) % entryBytes !== 0) return null;
    const header = Buffer.allocUnsafe(INDEX_HEADER_BYTES);
    readFullySync(fs, fd, header, 0);
    if (header.readUInt32BE(0) !== magic || header.readUInt16BE(6) !== entryBytes || header.readUInt16BE(4) !== 1) return null;
    const count = (size - INDEX_HEADER_BYTES) / entryBytes;
    const last = Buffer.alloc(entryBytes);
    if (count > 0) readFullySync(fs, fd, last, size - entryBytes);
    return { count, last };
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the index files on disk hold exactly the entries a scan produced. */
function indexesMatch(fs: StorageFs, dir: string, base: number, offsetIndex: OffsetIndex, timeIndex: TimeIndex): boolean {
  const indexPath = join(dir, segmentFileName(base, 'index'));
  const timeIndexPath = join(dir, segmentFileName(base, 'timeindex'));
  if (!fs.existsSync(indexPath) || !fs.existsSync(timeIndexPath)) return false;
  const onDiskOffsets = OffsetIndex.decode(readWholeFileSync(fs, indexPath));
  const onDiskTimes = TimeIndex.decode(readWholeFileSync(fs, timeIndexPath));
  if (!onDiskOffsets || !onDiskTimes) return false;
  if (onDiskOffsets.entryCount !== offsetIndex.entryCount || onDiskTimes.entryCount !== timeIndex.entryCount) return false;
  for (let i = 0; i < offsetIndex.entryCount; i++) {
    const a = onDiskOffsets.entry(i);
    const b = offsetIndex.entry(i);
    if (a.relativeOffset !== b.relativeOffset || a.position !== b.position) return false;
  }
  for (let i = 0; i < timeIndex.entryCount; i++) {
    const a = onDiskTimes.entry(i);
    const b = timeIndex.entry(i);
    if (a.relativeOffset !== b.relativeOffset || a.timestamp !== b.timestamp) return false;
  }
  return true;
}

