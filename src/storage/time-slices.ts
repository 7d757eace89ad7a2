// Long control-path file work (creating or deleting a topic of thousands of partitions,
// ~1-2 ms of synchronous file calls each) done in slices that yield to the event loop, so
// the broker serves its other clients in between. Storage cannot use the broker's
// slices.ts (layers point down); this is the same idea for a loop that already awaits.

/** Work done before yielding: other clients wait at most about this long per slice. */
export const STORAGE_SLICE_MS = 5;

export class TimeSlices {
  private deadlineMs: number;

  constructor(private readonly sliceMs = STORAGE_SLICE_MS) {
    this.deadlineMs = performance.now() + sliceMs;
  }

  /** Yields (setImmediate: after pending I/O callbacks) when the slice's time is used up; true if it yielded. */
  async yieldIfDue(): Promise<boolean> {
    if (performance.now() < this.deadlineMs) return false;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.deadlineMs = performance.now() + this.sliceMs;
    return true;
  }
}
