// Retry with exponential backoff and jitter (kafkajs's policy: delay = min(max,
// initial * multiplier^attempt), randomised by +-factor). Only retriable SpoolErrors are
// retried; every sleep is cancellable so close() never leaves a timer behind.

import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (so retries + 1 attempts in all). Default 5. */
  retries?: number;
  /** Delay before the first retry. Default 300 ms. */
  initialRetryTimeMs?: number;
  /** Upper bound of one delay. Default 30 000 ms. */
  maxRetryTimeMs?: number;
  /** Growth of the delay per retry. Default 2. */
  multiplier?: number;
  /** Jitter: the delay is randomised within +-factor of itself. Default 0.2. */
  factor?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 5,
  initialRetryTimeMs: 300,
  maxRetryTimeMs: 30_000,
  multiplier: 2,
  factor: 0.2,
};

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RetryPolicy {
  readonly options: Required<RetryOptions>;

  constructor(options: RetryOptions = {}, private readonly random: () => number = Math.random) {
    this.options = { ...DEFAULT_RETRY, ...definedOnly(options) };
  }

  /** The delay before retry number `attempt` (0 = the first retry). */
  delayMs(attempt: number): number {
    const { initialRetryTimeMs, maxRetryTimeMs, multiplier, factor } = this.options;
    const base = Math.min(maxRetryTimeMs, initialRetryTimeMs * Math.pow(multiplier, attempt));
    const jitter = 1 + factor * (2 * this.random() - 1);
    return Math.max(0, Math.min(maxRetryTimeMs, Math.round(base * jitter)));
  }

  /**
   * Runs `operation` until it succeeds, fails with an error that is not retriable, or
   * has failed retries + 1 times (the last error is thrown, with the attempt count in
   * its message when it is a retriable one).
   */
  async run<T>(
    operation: (attempt: number) => Promise<T>,
    options: { signal?: AbortSignal; retries?: number; onRetry?: (error: unknown, attempt: number, delayMs: number) => void } = {},
  ): Promise<T> {
    const retries = options.retries ?? this.options.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        if (!isRetriable(error) || attempt >= retries || options.signal?.aborted) throw error;
        const delayMs = this.delayMs(attempt);
        options.onRetry?.(error, attempt, delayMs);
        await sleep(delayMs, options.signal);
      }
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  const result: Partial<T> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) (result as Record<string, unknown>)[key] = entry;
  return result;
}
