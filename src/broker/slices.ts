// Long request work split into slices that yield to the event loop, so one request that
// names thousands of partitions (ListOffsets by timestamp decodes a batch per entry,
// ~0.1 ms each) does not stall every other client for the whole of it.

/** Work done before yielding; other clients wait at most about this long per slice. */
export const SLICE_MS = 5;

/**
 * `items.map(work)`, in order. Runs synchronously (and returns the array) while the work
 * fits in one slice; past it, continues after a setImmediate per slice and returns a
 * promise. `work` must not depend on running in the same turn as its neighbours.
 */
export function mapInSlices<T, R>(items: readonly T[], work: (item: T, index: number) => R, sliceMs = SLICE_MS): R[] | Promise<R[]> {
  const results: R[] = [];
  const runSlice = (): boolean => {
    const deadline = performance.now() + sliceMs;
    while (results.length < items.length) {
      results.push(work(items[results.length]!, results.length));
      if (performance.now() >= deadline) break;
    }
    return results.length === items.length;
  };
  if (runSlice()) return results;
  return new Promise<R[]>((resolve, reject) => {
    const next = (): void => {
      try {
        if (runSlice()) resolve(results);
        else setImmediate(next);
      } catch (error) {
        reject(error);
      }
    };
    setImmediate(next);
  });
}

/** `then(value)` now when `value` is not a promise, after it otherwise. */
export function thenMaybe<T, R>(value: T | Promise<T>, then: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `work` on each item, one after another (each awaited), yielding to the event loop
 * whenever a slice's worth of time has passed: for work that is asynchronous but does
 * much of it synchronously (topic creation opens and fsyncs files), so a request with a
 * thousand items does not start them all in one turn.
 */
export async function mapSequentially<T, R>(items: readonly T[], work: (item: T) => Promise<R> | R, sliceMs = SLICE_MS): Promise<R[]> {
  const results: R[] = [];
  let deadline = performance.now() + sliceMs;
  for (const item of items) {
    results.push(await work(item));
    if (performance.now() >= deadline) {
      await yieldToEventLoop();
      deadline = performance.now() + sliceMs;
    }
  }
  return results;
}
