// Background task "segment-roll": rolls active segments older than segment.ms, so a
// partition that stops receiving appends still gets its last data into a closed segment
// that retention can delete (appends also check segment.ms).

import type { Clock } from '../../util/clock.js';
import type { PartitionLogImpl } from '../partition-log.js';
import type { BackgroundTask } from './scheduler.js';

export function segmentRollTask(logs: () => Iterable<PartitionLogImpl>, clock: Clock, intervalMs: number): BackgroundTask {
  return {
    name: 'segment-roll',
    intervalMs,
    run() {
      for (const log of logs()) {
        try {
          log.rollIfOld(clock.nowMs());
        } catch {
          // rollIfOld puts the partition offline on a disk error; callers see it there.
        }
      }
    },
  };
}
