// The segment work of a follower's truncation (PartitionLogImpl.truncateTo, Kafka's
// truncateTo, and truncateFullyAndStartAt): which files go and which segment is cut.
//
// Crash safety is the caller's order: the recovery checkpoint is first rewritten (durably)
// with a recovery point at or below the first segment touched and cleanShutdown false, so
// a crash at any later step makes the next start scan that segment (and everything after
// it that is left), which yields whole valid batches: the old log, the new one, or a prefix
// in between; leader-epoch entries past the recovered end are dropped on load. Segments
// are deleted newest first, so a crash leaves a prefix of them.

import type { StorageFs } from './fs.js';
import { Segment } from './segment.js';

/**
 * Deletes the segments after `keep` and cuts segment `keep` (then the active one) at the
 * batch holding `offset` (a cut inside a batch drops the whole batch; past its last batch,
 * nothing), rebuilding its indexes. `contiguous`: the topic is not compacted (no offset gaps).
 */
export function cutSegmentsAt(segments: Segment[], keep: number, offset: number, contiguous: boolean): void {
  while (segments.length - 1 > keep) {
    const removed = segments.pop()!;
    removed.close();
    removed.deleteFiles();
  }
  const segment = segments[segments.length - 1]!;
  const location = segment.findBatch(offset);
  segment.truncateTo(location ? location.position : segment.sizeBytes, contiguous);
}

/**
 * Deletes every segment and returns the new segment list: one empty segment at `offset`.
 * Its directory entry is not fsynced yet (the caller does that, with the `always` and
 * `interval` policies, once the list is in place).
 */
export function restartSegmentsAt(fs: StorageFs, dir: string, segments: readonly Segment[], offset: number, indexIntervalBytes: number): Segment[] {
  for (let i = segments.length - 1; i >= 0; i--) {
    segments[i]!.close();
    segments[i]!.deleteFiles();
  }
  return [Segment.create(fs, dir, offset, indexIntervalBytes)];
}
