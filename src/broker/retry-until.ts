// Retrying a request between brokers until a deadline: on an error whose code is in
// `retriable`, wait (from `firstWaitMs`, doubling, at most 1 s) and try again, unless the
// next wait would pass the deadline or `stopped()` says the broker is closing: then the
// last failure is thrown. Any other error is thrown at once. Used by the share-state
// persister and the dead-letter sink of a cluster.

import { isSpoolError, type SpoolError } from '../util/errors.js';

export interface RetryUntilOptions {
  retriable: ReadonlySet<number>;
  deadlineMs: number;
  firstWaitMs: number;
  stopped?: () => boolean;
}

export async function retryUntil<T>(attempt: () => Promise<T>, options: RetryUntilOptions): Promise<T> {
  const deadline = Date.now() + options.deadlineMs;
  let waitMs = options.firstWaitMs;
  for (;;) {
    let failure: SpoolError;
    try {
      return await attempt();
    } catch (error) {
      if (!isSpoolError(error) || !options.retriable.has(error.errorCode)) throw error;
      failure = error;
    }
    if (Date.now() + waitMs > deadline || options.stopped?.() === true) throw failure;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    waitMs = Math.min(waitMs * 2, 1000);
  }
}
