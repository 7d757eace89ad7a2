// The segment list of a partition log over its life: when the active segment rolls and
// how (a new active segment at the log end, the closed one fsynced in the background),
// which segments the recovery point vouches for, and the closing, abandoning and deleting
// of segment files. PartitionLogImpl calls these and turns what they throw into its
// offline state.

import type { StorageFs } from './fs.js';
import { Segment } from './segment.js';
import { MAX_RELATIVE_OFFSET } from './segment-scan.js';
import type { FsyncPolicy, TopicConfig } from './types.js';

/** Closed segments (newest first) whose indexes stay in memory after a roll. */
const KEEP_LOADED_CLOSED_SEGMENTS = 2;

/**
 * Whether an append of `incomingBytes` taking `offsetCount` offsets must go to a new
 * segment: the active one would pass segment.bytes, is older than segment.ms, or could
 * not name the offsets in its u32 relative offsets. An empty active segment never rolls.
 */
export function needsRoll(active: Segment, incomingBytes: number, offsetCount: number, nowMs: number, config: TopicConfig): boolean {
  if (active.isEmpty) return false;
  const full = active.sizeBytes + incomingBytes > config.segmentBytes;
  const old = active.rollBaseMs >= 0 && nowMs - active.rollBaseMs >= config.segmentMs;
  const offsetsOverflow = active.nextOffset + offsetCount - 1 - active.baseOffset > MAX_RELATIVE_OFFSET;
  return full || old || offsetsOverflow;
}

/** Whether a non-empty active segment is older than segment.ms (the segment-roll task). */
export function isPastSegmentMs(active: Segment, nowMs: number, config: TopicConfig): boolean {
  return !active.isEmpty && active.rollBaseMs >= 0 && nowMs - active.rollBaseMs >= config.segmentMs;
}

/**
 * The synchronous part of a roll: closes the active segment's indexes and appends a new
 * active segment at its end. With `always` and `interval`, the new file's directory entry
 * is made durable before an fsynced append in it is acknowledged (fdatasync of the file
 * does not cover its name). Returns the closed segment.
 */
export function startNextSegment(fs: StorageFs, dir: string, segments: Segment[], config: TopicConfig, fsync: FsyncPolicy): Segment {
  const old = segments[segments.length - 1]!;
  old.finalizeIndexes();
  segments.push(Segment.create(fs, dir, old.nextOffset, config.indexIntervalBytes));
  if (fsync.kind !== 'never') fs.fsyncDirSync(dir);
  return old;
}

/** After a roll, older closed segments give their in-memory indexes back; a read loads them again. */
export function unloadOldIndexes(segments: readonly Segment[]): void {
  for (let i = 0; i < segments.length - 1 - KEEP_LOADED_CLOSED_SEGMENTS; i++) segments[i]!.unloadIndexes();
}

/**
 * Every segment wholly below this offset is fsynced with its indexes; recovery trusts
 * those and scans the rest.
 */
export function recoveryPointOf(segments: readonly Segment[]): number {
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    if (segment.flushing || segment.durableOffset < segment.nextOffset) return segment.baseOffset;
  }
  return segments[segments.length - 1]!.baseOffset;
}

/** Closed segments whose post-roll fsync has not completed (failed, after ENOSPC). */
export function unflushedClosedSegments(segments: readonly Segment[]): Segment[] {
  return segments.slice(0, -1).filter((segment) => segment.durableOffset < segment.nextOffset);
}

/** Whether an fsync or post-roll flush of any segment is still in flight. */
export function hasFsyncInFlight(segments: readonly Segment[]): boolean {
  return segments.some((segment) => segment.flushing || segment.commit.busy);
}

/**
 * How many of the oldest closed segments lie wholly below `offset` and may go (not one
 * being flushed, nor any after it: deletion keeps a prefix order).
 */
export function closedSegmentsBelow(segments: readonly Segment[], offset: number): number {
  let count = 0;
  while (count < segments.length - 1 && !segments[count]!.flushing && segments[count + 1]!.baseOffset <= offset) count++;
  return count;
}

/** Closes each segment's files and deletes them. */
export function deleteSegments(segments: readonly Segment[]): void {
  for (const segment of segments) {
    segment.close();
    segment.deleteFiles();
  }
}

/** Waits until no group-commit fsync or post-roll flush of any segment is in flight. */
export async function settleSegments(segments: readonly Segment[]): Promise<void> {
  await Promise.all(segments.map((segment) => segment.commit.idle()));
  await Promise.all(segments.map((segment) => segment.flushDone));
}

/** For crash tests: closes the files without any of close()'s work, as kill -9 would. */
export function abandonSegments(segments: readonly Segment[]): void {
  for (const segment of segments) {
    try {
      segment.close();
    } catch {
      // A crash does not close files cleanly either; nothing to do.
    }
  }
}
