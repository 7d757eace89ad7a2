// Background task "interval-flush" (fsync policy { kind: 'interval' }): every intervalMs,
// fdatasync the active segment of every partition (one group commit per file, shared
// with anything already waiting). What it promises: an acknowledged append is on disk
// at most about intervalMs later.

import type { PartitionLogImpl } from '../partition-log.js';
import type { BackgroundTask } from './scheduler.js';

export function flushTask(logs: () => Iterable<PartitionLogImpl>, intervalMs: number): BackgroundTask {
  return {
    name: 'interval-flush',
    intervalMs,
    async run() {
      const flushes: Array<Promise<void>> = [];
      for (const log of logs()) {
        // A failed flush puts the partition offline (PartitionLogImpl.flush).
        flushes.push(log.flush().catch(() => undefined));
      }
      await Promise.all(flushes);
    },
  };
}
