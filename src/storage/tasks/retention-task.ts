// Background task "retention": applies retention.ms / retention.bytes to every
// partition of every delete-policy topic (see ../retention.ts).

import type { Clock } from '../../util/clock.js';
import type { PartitionLogImpl } from '../partition-log.js';
import { applyRetention } from '../retention.js';
import type { BackgroundTask } from './scheduler.js';

export function retentionTask(logs: () => Iterable<PartitionLogImpl>, clock: Clock, intervalMs: number, warn: (message: string) => void): BackgroundTask {
  return {
    name: 'retention',
    intervalMs,
    run() {
      for (const log of logs()) {
        try {
          const deleted = applyRetention(log, clock.nowMs());
          if (deleted > 0) warn(`retention: deleted ${deleted} segment(s) of ${log.topic}-${log.partition}, log start offset ${log.logStartOffset}`);
        } catch (error) {
          warn(`retention of ${log.topic}-${log.partition} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  };
}
