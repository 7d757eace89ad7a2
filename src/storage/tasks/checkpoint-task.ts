// Background task "recovery-checkpoint": writes each partition's recovery checkpoint
// (atomic write) when its recovery point or log start offset moved, so a restart scans
// only the segments written since.

import type { PartitionLogImpl } from '../partition-log.js';
import type { BackgroundTask } from './scheduler.js';

export function checkpointTask(logs: () => Iterable<PartitionLogImpl>, intervalMs: number, warn: (message: string) => void): BackgroundTask {
  return {
    name: 'recovery-checkpoint',
    intervalMs,
    run() {
      for (const log of logs()) {
        if (log.isOffline) continue;
        try {
          log.writeCheckpoint(false);
        } catch (error) {
          warn(`checkpoint of ${log.topic}-${log.partition} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  };
}
