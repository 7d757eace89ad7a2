// Retention for cleanup.policy=delete: whole closed segments are deleted, oldest first,
// while the oldest is past retention.ms (its largest timestamp is older than
// now - retention.ms) or the partition is larger than retention.bytes by at least that
// segment. The active segment is never deleted; a segment still being flushed after its
// roll is left for the next run. The log start offset moves to the first kept segment
// and is checkpointed (deleteOldestSegments) before the files go, so it survives restart.
//
// Whatever the cleanup policy, closed segments wholly below the log start offset go too
// (Kafka's log-start-offset breach): DeleteRecords leaves a segment that was still being
// flushed when it ran, and this run deletes it once the flush is done.

import type { PartitionLogImpl } from './partition-log.js';

/** Returns the number of segments deleted. */
export function applyRetention(log: PartitionLogImpl, nowMs: number): number {
  if (log.isOffline) return 0;
  const segments = log.segments;
  let count = 0;
  let remainingBytes = log.sizeBytes;
  while (count < segments.length - 1 && !segments[count]!.flushing && segments[count + 1]!.baseOffset <= log.logStartOffset) {
    remainingBytes -= segments[count]!.sizeBytes;
    count++;
  }
  const { retentionMs, retentionBytes } = log.config;
  if (log.config.cleanupPolicy !== 'delete' || (retentionMs < 0 && retentionBytes < 0)) {
    if (count > 0) log.deleteOldestSegments(count);
    return count;
  }
  for (let i = count; i < segments.length - 1; i++) {
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
