// Coming back from a full disk (used by PartitionLogImpl.retryAfterNoSpace, run by the
// disk-space-retry task): a probe that shows space is back, and the repair of the active
// segment from its file before appends resume.

import { join } from 'node:path';
import type { StorageFs } from './fs.js';
import { writeFullySync } from './fs.js';
import { Segment } from './segment.js';
import { scanSegment } from './segment-scan.js';
import type { TopicConfig } from './types.js';

/** What the probe writes and fsyncs to see that space is back (one max-size batch fits). */
const PROBE_BYTES = 1024 * 1024;
/** In the partition directory; `.tmp`, so recovery removes one a crash left behind. */
const PROBE_FILE_NAME = 'disk-space-probe.tmp';
let probeZeros: Buffer | null = null;

/** Writes, fsyncs and removes a probe file in `dir`; throws the disk's error when it cannot. */
export function probeDiskSpace(fs: StorageFs, dir: string): void {
  const path = join(dir, PROBE_FILE_NAME);
  const fd = fs.openSync(path, 'w');
  try {
    probeZeros ??= Buffer.alloc(PROBE_BYTES);
    writeFullySync(fs, fd, probeZeros, 0);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(path);
  }
}

/**
 * Rebuilds the active segment's state from its file, as recovery would: the failed append
 * may have left a torn tail (when its own truncation failed too) or memory ahead of the
 * file (an index write failed after the log write was taken back). The tail is cut to the
 * last whole valid batch and the indexes are rewritten. Returns the replacement segment,
 * which takes over the open .log fd (the old object is dropped unclosed).
 */
export function rescanActiveSegment(fs: StorageFs, active: Segment, config: TopicConfig, nowMs: number, warn: (message: string) => void): Segment {
  const fileBytes = fs.fileSizeSync(active.logFd);
  const contiguous = config.cleanupPolicy !== 'compact';
  const scan = scanSegment(fs, active.logFd, active.baseOffset, fileBytes, config.indexIntervalBytes, contiguous);
  if (scan.validBytes < fileBytes) {
    fs.ftruncateSync(active.logFd, scan.validBytes);
    warn(`truncated ${fileBytes - scan.validBytes} bytes of a failed write from ${active.logPath}`);
  }
  active.closeIndexFds();
  const indexes = { offsetIndex: scan.offsetIndex, timeIndex: scan.timeIndex };
  return Segment.open(fs, active.dir, active.baseOffset, config.indexIntervalBytes, active.logFd, scan.state, indexes, nowMs);
}
