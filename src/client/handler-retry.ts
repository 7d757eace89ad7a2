// What happens when a run() handler (eachMessage / eachBatch) throws. It used to end run()
// at once while the group member went on heartbeating and holding its partitions, so
// nobody read them again (lag grew forever). Now, as in kafkajs, the handler is called again
// with the consumer's retry policy (every error counts, not only retriable ones: a handler
// fails for reasons of its own); when the retries are used up, `restartOnFailure(error)`
// decides: true restarts (a group member leaves and rejoins, so the partitions may move and
// the message is delivered again from the last commit; without a group the partition is
// sought back to the message), false ends run() with the error after the member has left
// the group. The consumer does the restart and the leaving; this module only decides.

import { sleep, type RetryPolicy } from './retry.js';

/** true / false, or a function deciding per error (kafkajs's retry.restartOnFailure). */
export type RestartOnFailure = boolean | ((error: Error) => boolean | Promise<boolean>);

/** ok: a retry succeeded. dropped: stop (closed, or the partition was sought or revoked meanwhile). restart: see above. */
export type HandlerOutcome = 'ok' | 'dropped' | 'restart';

export interface HandlerRetryOptions {
  policy: RetryPolicy;
  /** Aborted when the consumer closes: the retries stop. */
  signal: AbortSignal;
  /** false once the message no longer belongs to the reader (sought, revoked). */
  stillValid(): boolean;
  restartOnFailure: RestartOnFailure;
  /** Told before each retry. */
  onRetry?(error: Error, attempt: number, delayMs: number): void;
  /** Told when the retries are used up, with the last error and restartOnFailure's answer. */
  onGiveUp?(error: Error, restart: boolean): void;
}

/**
 * Calls `invoke` again after `first` failed, with backoff, up to the policy's retries.
 * Resolves with the outcome, or rejects with the last error when restartOnFailure says no.
 */
export async function retryHandler(first: unknown, invoke: () => unknown, options: HandlerRetryOptions): Promise<HandlerOutcome> {
  let error = asError(first);
  const { policy, signal } = options;
  for (let attempt = 0; attempt < policy.options.retries; attempt++) {
    const delayMs = policy.delayMs(attempt);
    options.onRetry?.(error, attempt, delayMs);
    try {
      await sleep(delayMs, signal);
    } catch {
      return 'dropped'; // closed: the message stays unprocessed and is delivered again later
    }
    if (!options.stillValid()) return 'dropped';
    try {
      await invoke();
      return 'ok';
    } catch (retryError) {
      error = asError(retryError);
    }
  }
  if (signal.aborted || !options.stillValid()) return 'dropped';
  const restart = await shouldRestart(options.restartOnFailure, error);
  options.onGiveUp?.(error, restart);
  if (restart) return 'restart';
  throw error;
}

async function shouldRestart(restartOnFailure: RestartOnFailure, error: Error): Promise<boolean> {
  if (typeof restartOnFailure === 'boolean') return restartOnFailure;
  try {
    return (await restartOnFailure(error)) === true;
  } catch {
    return false; // a throwing decision is a "no": the error ends run() rather than looping
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
