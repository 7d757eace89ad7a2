// Retention for cleanup.policy=delete: whole closed segments are deleted, oldest first,
// while the oldest is past retention.ms (its largest timestamp is older than
// now - retention.ms) or the partition is larger than retention.bytes by at least that
// segment. The active segment is never deleted; a segment still being flushed after its
// roll is left for the next run. The log start offset moves to the first kept segment
// and is checkpointed (deleteOldestSegments) before the files go, so it survives restart.

import type { PartitionLogImpl } from './partition-log.js';

/** Returns the number of segments deleted. */
export function applyRetention(log: PartitionLogImpl, nowMs: number): number {
  if (log.isOffline || log.config.cleanupPolicy !== 'delete') return 0;
  const { retentionMs, retentionBytes } = log.config;
  if (retentionMs < 0 && retentionBytes < 0) return 0;
  let remainingBytes = log.sizeBytes;
  let count = 0;
  const segments = log.segments;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    if (segment.flushing) break;
    const expired = retentionMs >= 0 && nowMs - segment.maxTimestamp > retentionMs;
    const oversize = retentionBytes >= 0 && remainingBytes - segment.sizeBytes >= retentionBytes;
    if (!expired && !oversize) break;
    remainingBytes -= segment.sizeBytes;
    count++;
  }
  if (count > 0) log.deleteOldestSegments(count);
  return count;
}
