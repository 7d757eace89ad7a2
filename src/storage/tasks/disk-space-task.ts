// Background task "disk-space-retry": brings partitions that went offline for
// NOT_ENOUGH_SPACE (ENOSPC) back online once space returns. For each such partition it
// asks the log to probe (write and fsync a 1 MiB probe file in the partition directory)
// and, when that works, to repair its active segment from the disk and come back online
// (PartitionLogImpl.retryAfterNoSpace). Partitions offline for any other disk error
// (EIO: KAFKA_STORAGE_ERROR) stay offline until restart: that error is sticky. When one
// probe still finds the disk full, the run ends: the others share the disk, and the next
// run (default every 5 s) tries again.

import { Errors } from '../../util/errors.js';
import type { PartitionLogImpl } from '../partition-log.js';
import type { BackgroundTask } from './scheduler.js';

export function diskSpaceRetryTask(logs: () => Iterable<PartitionLogImpl>, intervalMs: number): BackgroundTask {
  return {
    name: 'disk-space-retry',
    intervalMs,
    run() {
      for (const log of [...logs()]) {
        if (log.isClosed || log.offlineCode !== Errors.NOT_ENOUGH_SPACE.name) continue;
        if (!log.retryAfterNoSpace() && log.offlineCode === Errors.NOT_ENOUGH_SPACE.name) return;
      }
    },
  };
}
