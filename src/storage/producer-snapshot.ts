// The producer snapshot of one partition log (`producer-state.snapshot`, format in
// producer-state.ts): loading it at open (and replaying the batch headers after it),
// writing it beside the recovery checkpoint, removing it when a truncation cuts below it.

import { join } from 'node:path';
import type { StorageFs } from './fs.js';
import { readWholeFileSync } from './fs.js';
import { segmentIndexFor } from './log-read.js';
import { writeFileAtomicSync } from './metadata.js';
import { PRODUCER_SNAPSHOT_FILE, type ProducerStateTable, replaySegmentHeaders } from './producer-state.js';
import type { Segment } from './segment.js';

export class ProducerSnapshotFile {
  readonly path: string;
  /** The endOffset of the snapshot on disk (-1: none written or loaded). */
  private endOffset = -1;

  constructor(
    private readonly fs: StorageFs,
    dir: string,
    private readonly table: ProducerStateTable,
    private readonly warn: (message: string) => void,
  ) {
    this.path = join(dir, PRODUCER_SNAPSHOT_FILE);
  }

  /**
   * Loads the producer snapshot and replays the batch headers after its endOffset; without
   * a usable snapshot, replays every segment's headers (see producer-state.ts).
   */
  load(segments: readonly Segment[], logEndOffset: number): void {
    let from = segments[0]!.baseOffset;
    const path = this.path;
    if (this.fs.existsSync(path)) {
      const endOffset = this.table.loadSnapshot(readWholeFileSync(this.fs, path));
      if (endOffset !== null && endOffset <= logEndOffset) {
        from = Math.max(from, endOffset);
        this.endOffset = endOffset;
      } else {
        // Past the recovered end (the log lost its unsynced tail) or unreadable: replay all.
        this.warn(`${path}: producer snapshot ${endOffset === null ? 'is unreadable' : `covers up to ${endOffset}, past the log end ${logEndOffset}`}; replaying every batch header`);
        this.table.reset();
      }
    }
    // A snapshot of the whole log (a clean close): nothing to replay, no header read.
    if (from >= logEndOffset) return;
    for (let i = segmentIndexFor(segments, from); i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.isEmpty) continue;
      let position = 0;
      if (from > segment.baseOffset) {
        const location = segment.findBatch(from);
        if (!location) continue;
        position = location.position;
      }
      replaySegmentHeaders(this.fs, segment.logFd, position, segment.sizeBytes, this.table);
    }
  }

  /**
   * With the checkpoint: the producer snapshot, when the state changed, at a clean close, or
   * when the recovery point passed the last snapshot (so a crash replays no more headers
   * than recovery scans anyway).
   */
  write(cleanShutdown: boolean, recoveryPoint: number, logEndOffset: number): void {
    const endOffset = logEndOffset;
    if (endOffset === this.endOffset) return;
    if (!this.table.dirty && !cleanShutdown && recoveryPoint <= this.endOffset) return;
    // Never fsynced (atomic for a process crash; no fsync per partition at shutdown either): a
    // snapshot lost or emptied by a power failure fails its CRC or covers more than the
    // recovered log, and the headers are replayed.
    writeFileAtomicSync(this.fs, this.path, this.table.encodeSnapshot(endOffset), false);
    this.table.dirty = false;
    this.endOffset = endOffset;
  }

  /** Before a truncation to `offset`: a snapshot that covers offsets past it goes. */
  removeIfPast(offset: number): void {
    if (this.endOffset <= offset) return;
    this.fs.unlinkSync(this.path);
    this.endOffset = -1;
  }

  /** Before the log restarts empty: any snapshot goes. */
  remove(): void {
    if (this.fs.existsSync(this.path)) this.fs.unlinkSync(this.path);
    this.endOffset = -1;
  }
}
