// The long poll shared by Fetch and ShareFetch: park on partitions (FetchWaiters), and on
// each wake (a produce to one of them, a share release, shutdown) try again as soon as the
// code that appended is done (see wake(): a microtask; the appends of one request wake it
// once) until the attempt has an answer, maxWaitMs passes, or the connection closes (null:
// nothing is answered). No polling: the parked request owns its one maxWaitMs timer.

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

/** A wake is queued as a microtask and has not run yet (at most one at a time: see wake()). */
let microtaskWakeQueued = false;

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
        const retry = (): void => {
          wakeScheduled = false;
          if (done) return;
          const answer = poll.retry();
          if (answer !== undefined) finish(answer);
        };
        // The first fetch woken by a burst retries in a microtask, not on setImmediate: as soon
        // as the produce request that appended (every partition of it) has been handled, before
        // other I/O of this turn, so its answer leaves in the same flush as the produce ack (no
        // timer and no event-loop phase on the reply path). Every other fetch woken by the same
        // burst retries on setImmediate, one per callback: between two of those the answered
        // one's completion (microtasks) has charged its bytes to its connection's response
        // budget, which the next one's read must see (1,000 parked fetches of one connection
        // must not each read the whole append: test/broker/fetch-limits.test.ts).
        if (microtaskWakeQueued) {
          setImmediate(retry);
          return;
        }
        microtaskWakeQueued = true;
        queueMicrotask(() => {
          microtaskWakeQueued = false;
          retry();
        });
      },
    };
    const onAbort = (): void => finish(null);
    const timer = setTimeout(() => finish(poll.atDeadline()), poll.maxWaitMs);
    scope.signal.addEventListener('abort', onAbort, { once: true });
    if (!ctx.waiters.park(parked, poll.keys)) finish(poll.notParked);
  });
}
