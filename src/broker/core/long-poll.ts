// The long poll shared by Fetch and ShareFetch: park on partitions (FetchWaiters), and on
// each wake (a produce to one of them, a share release, shutdown) try again on the next
// turn of the event loop (a burst of appends wakes it once) until the attempt has an
// answer, maxWaitMs passes, or the connection closes (null: nothing is answered). No
// polling: the parked request owns its one maxWaitMs timer.

import type { BrokerContext, RequestScope } from '../context.js';
import type { ParkedFetch } from '../waiters.js';

export interface LongPoll<T> {
  /** Partition keys (waiters.partitionKey) to wake on. */
  keys: string[];
  maxWaitMs: number;
  /** On each wake: the answer when ready, undefined to keep waiting. */
  retry(): T | undefined;
  /** The answer when maxWaitMs passes. */
  atDeadline(): T;
  /** The answer when the broker already holds maxParkedFetches. */
  notParked: T;
}

export function longPoll<T>(ctx: BrokerContext, scope: RequestScope, poll: LongPoll<T>): Promise<T | null> {
  // The connection closed before the request could park: nothing will read an answer.
  if (scope.signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve) => {
    let wakeScheduled = false;
    let done = false;
    const finish = (answer: T | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.waiters.unpark(parked);
      scope.signal.removeEventListener('abort', onAbort);
      resolve(answer);
    };
    const parked: ParkedFetch = {
      wake() {
        if (wakeScheduled || done) return;
        wakeScheduled = true;
        setImmediate(() => {
          wakeScheduled = false;
          if (done) return;
          const answer = poll.retry();
          if (answer !== undefined) finish(answer);
        });
      },
    };
    const onAbort = (): void => finish(null);
    const timer = setTimeout(() => finish(poll.atDeadline()), poll.maxWaitMs);
    scope.signal.addEventListener('abort', onAbort, { once: true });
    if (!ctx.waiters.park(parked, poll.keys)) finish(poll.notParked);
  });
}
