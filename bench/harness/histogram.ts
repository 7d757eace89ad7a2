// Latency histogram for the end-to-end benchmarks: an HdrHistogram (hdr-histogram-js)
// recording microseconds, so percentiles come from log-linear buckets with 3 significant
// digits (relative error <= 0.1%) in constant memory, not from a sorted array of every
// sample. Values are read back in milliseconds.

import * as hdr from 'hdr-histogram-js';

/** Highest value tracked without resizing: 5 minutes in microseconds. */
const HIGHEST_TRACKABLE_MICROS = 5 * 60 * 1_000_000;

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export class LatencyHistogram {
  private readonly histogram: hdr.Histogram;

  constructor() {
    // The pure JS implementation: the WebAssembly one needs an async init and is not
    // faster for a few million recordValue calls.
    this.histogram = hdr.build({
      bitBucketSize: 32,
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_TRACKABLE_MICROS,
      numberOfSignificantValueDigits: 3,
      autoResize: true,
    });
  }

  /** Records one latency of `ms` milliseconds (`count` times, for a batch acked at once). */
  recordMs(ms: number, count = 1): void {
    // A latency below one microsecond is recorded as one microsecond; negative values come
    // only from clock misuse by the caller.
    const micros = Math.max(1, Math.round(ms * 1000));
    if (count === 1) this.histogram.recordValue(micros);
    else if (count > 1) this.histogram.recordValueWithCount(micros, count);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Value at `percentile` (0-100) in milliseconds; 0 when empty. */
  percentileMs(percentile: number): number {
    if (this.histogram.totalCount === 0) return 0;
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    const empty = this.histogram.totalCount === 0;
    return {
      count: this.histogram.totalCount,
      p50Ms: this.percentileMs(50),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: empty ? 0 : this.histogram.maxValue / 1000,
      meanMs: empty ? 0 : this.histogram.mean / 1000,
    };
  }

  reset(): void {
    this.histogram.reset();
  }

  /** Adds every value of `other` (e.g. the histograms of several producer processes). */
  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  /** Compressed base64 (HdrHistogram's standard encoding), to send a histogram between processes. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  static decode(encoded: string): LatencyHistogram {
    const histogram = new LatencyHistogram();
    histogram.histogram.add(hdr.decodeFromCompressedBase64(encoded, 32, false));
    return histogram;
  }
}
