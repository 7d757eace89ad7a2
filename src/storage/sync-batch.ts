// A batch of fdatasyncs run together instead of one after another: start-up recovery's
// and a clean shutdown's.
//
// A scanned segment must be durable (its .log and its rebuilt .index and .timeindex)
// before a checkpoint vouches for it. Recovery used to fdatasync each of those files
// synchronously on the main thread as it went: three fdatasyncs per partition whose
// active segment is scanned, in series, which was ~95% of a start after kill -9 with many
// partitions (1,000 partitions: 5.2 s of a 5.4 s recovery, on this shared 2-vCPU VM where
// one fdatasync is 0.5-1.7 ms). Files synced concurrently through the thread pool cost
// 0.07-0.17 ms each here (the journal commits many of them at once).
//
// So LogManager.open collects the paths (add) and the checkpoint writes that depend on
// them (afterSynced) for a slice of partitions, and flush() fdatasyncs the paths at most
// MAX_SYNCS_IN_FLIGHT at a time, then runs the dependent writes in order: the ordering
// "files durable, then the checkpoint" is kept, only the waiting is overlapped. The files
// are reopened by path for the sync (the segment's own fd may have been closed by the file
// pool meanwhile): Linux fsync is per inode, so any fd of the file flushes its dirty pages.
//
// A clean shutdown (LogManager.close) had the same shape: per partition, fdatasync of the
// active .log and its two indexes, then the checkpoint's atomic write (fdatasync of the
// temp file, rename, fsync of meta/checkpoints): 5 syncs and a rename in series, ~10 ms per
// partition here, so 10,000 partitions took 100-130 s to stop. Now every partition adds its
// files and its staged checkpoint (written to <path>.tmp, not synced) to one batch; flush()
// syncs them all, the renames run after it, and one fsync of meta/checkpoints follows.

import type { StorageFs } from './fs.js';

/** Syncs in flight at once: enough to keep the thread pool busy, few fds. */
export const MAX_SYNCS_IN_FLIGHT = 16;

export class SyncBatch {
  private paths: string[] = [];
  private dependents: Array<() => void> = [];

  constructor(private readonly fs: StorageFs) {}

  /** Paths waiting for their fdatasync. */
  get size(): number {
    return this.paths.length;
  }

  add(path: string): void {
    this.paths.push(path);
  }

  /** Runs `write` after every path added so far is durable (at the next flush). */
  afterSynced(write: () => void): void {
    this.dependents.push(write);
  }

  /** fdatasyncs every path added, then runs the dependent writes in the order given. */
  async flush(): Promise<void> {
    const paths = this.paths;
    const dependents = this.dependents;
    this.paths = [];
    this.dependents = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const path = paths[next++]!;
        let fd: number;
        try {
          fd = this.fs.openSync(path, 'r');
        } catch (error) {
          // Removed after it was queued (recovery deletes segments wholly below the log
          // start offset after scanning them): nothing of it is left to make durable.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        try {
          await this.fs.fdatasync(fd);
        } finally {
          this.fs.closeSync(fd);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_SYNCS_IN_FLIGHT, paths.length) }, worker));
    for (const write of dependents) write();
  }
}
