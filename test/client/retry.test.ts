// Proves the retry policy: exponential delays capped at maxRetryTimeMs with +-factor
// jitter, only retriable SpoolErrors retried, the attempt budget respected, and sleeps
// cancelled by an abort signal; runs on vitest fake timers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RetryPolicy, sleep } from '../../src/client/retry.js';
import { Errors, SpoolError } from '../../src/util/errors.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RetryPolicy', () => {
  it('grows delays exponentially up to the cap', () => {
    const policy = new RetryPolicy({ initialRetryTimeMs: 100, maxRetryTimeMs: 1000, factor: 0 }, () => 0.5);
    expect([0, 1, 2, 3, 4, 5].map((attempt) => policy.delayMs(attempt))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitters within +-factor', () => {
    const low = new RetryPolicy({ initialRetryTimeMs: 100, factor: 0.2 }, () => 0);
    const high = new RetryPolicy({ initialRetryTimeMs: 100, factor: 0.2 }, () => 0.999999);
    expect(low.delayMs(0)).toBe(80);
    expect(high.delayMs(0)).toBe(120);
  });

  it('retries retriable errors and returns the first success', async () => {
    vi.useFakeTimers();
    const policy = new RetryPolicy({ retries: 3, initialRetryTimeMs: 10, factor: 0 });
    let calls = 0;
    const result = policy.run(async () => {
      calls++;
      if (calls < 3) throw new SpoolError(Errors.NETWORK_ERROR);
      return 'ok';
    });
    await vi.advanceTimersByTimeAsync(10 + 20);
    await expect(result).resolves.toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after retries + 1 attempts with the last error', async () => {
    vi.useFakeTimers();
    const policy = new RetryPolicy({ retries: 2, initialRetryTimeMs: 10, factor: 0 });
    let calls = 0;
    const result = policy.run(async () => {
      calls++;
      throw new SpoolError(Errors.BROKER_NOT_AVAILABLE, `attempt ${calls}`);
    });
    const settled = expect(result).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE', message: 'attempt 3' });
    await vi.advanceTimersByTimeAsync(1000);
    await settled;
    expect(calls).toBe(3);
  });

  it('does not retry errors that are not retriable', async () => {
    const policy = new RetryPolicy({ retries: 5 });
    let calls = 0;
    await expect(
      policy.run(async () => {
        calls++;
        throw new SpoolError(Errors.UNKNOWN_TOPIC);
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await expect(policy.run(async () => Promise.reject(new Error('plain')))).rejects.toThrow('plain');
    expect(calls).toBe(1);
  });

  it('stops sleeping when the signal aborts', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort(new Error('closed'));
    await expect(slept).rejects.toThrow('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
