// Background task "log-cleaner": compacts every partition of every compact-policy topic
// (see ../compaction.ts). A disk failure puts only that partition offline; a stored batch
// that does not decode never does (compaction leaves its segment as it is and warns).

import type { Clock } from '../../util/clock.js';
import { compactPartition } from '../compaction.js';
import type { StorageFs } from '../fs.js';
import type { PartitionLogImpl } from '../partition-log.js';
import type { BackgroundTask } from './scheduler.js';

export function cleanerTask(logs: () => Iterable<PartitionLogImpl>, fs: StorageFs, clock: Clock, intervalMs: number, warn: (message: string) => void): BackgroundTask {
  return {
    name: 'log-cleaner',
    intervalMs,
    async run() {
      for (const log of [...logs()]) {
        try {
          await compactPartition(log, fs, clock.nowMs());
        } catch (error) {
          log.goOffline(error, 'compaction');
          warn(`compaction of ${log.topic}-${log.partition} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  };
}
