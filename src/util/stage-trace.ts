// Per-stage timestamps for the send-to-receive latency breakdown (`bench/cli.ts e2e` with
// SPOOL_STAGE_TRACE=<directory>, see bench/README.md). Off unless that variable names a
// directory when the module loads: then every hook is one test of a module constant, which
// the JIT folds away, so the hot paths pay nothing.
//
// When on, each process keeps, per stage, one timestamp per record offset (CLOCK_MONOTONIC
// via process.hrtime, the same clock in every process of the machine, in microseconds)
// and writes them to <directory>/stages-<pid>.json when it exits, together with its
// event-loop delay percentiles and its GC pauses. Keys are the offsets of ONE partition
// (the e2e bench: one producer, a fresh 1-partition topic): the broker's marks move
// monotonically over the offsets it appended, acknowledged and answered to fetches, and
// the client's over the records it wrote and read. With more partitions the keys collide
// and the breakdown means nothing.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

export const Stage = {
  /** bench: the message's scheduled send time. */
  scheduled: 0,
  /** bench: producer.send() called. */
  enqueued: 1,
  /** client: the Produce request carrying the record handed to the socket. */
  written: 2,
  /** broker: the socket read that delivered the Produce frame. */
  brokerRead: 3,
  /** broker: appended to the log (the synchronous write returned). */
  appended: 4,
  /** broker: the Produce answer written to the socket. */
  ackFlushed: 5,
  /** broker: a Fetch answer holding the record was read (at once or on a long-poll wake). */
  fetchAnswered: 6,
  /** broker: that Fetch answer written to the socket. */
  fetchFlushed: 7,
  /** client: the socket read that delivered the Fetch answer. */
  clientRead: 8,
  /** bench: the record handed to eachBatch. */
  delivered: 9,
} as const;
export type StageId = (typeof Stage)[keyof typeof Stage];
export const STAGE_NAMES = Object.keys(Stage) as Array<keyof typeof Stage>;

const DIRECTORY = process.env['SPOOL_STAGE_TRACE'] ?? '';
/** True when SPOOL_STAGE_TRACE was set at load: guard every hook with it. */
export const stageTraceOn = DIRECTORY !== '';
/** Offsets traced per stage (8 bytes each): 100k msg/s for 11 s. Tables grow by doubling up to it, so a short run's trace stays small (its own GC cost). */
const CAPACITY = 1_100_000;
const INITIAL_ENTRIES = 65_536;

const stamps: Float64Array[] = [];
let highestKey = -1;

/** Microseconds on the machine-wide monotonic clock. */
export function traceNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Stamps offsets [fromKey, toKey) of `stage` with `timeUs` (the first stamp of a key wins). */
export function stampRange(stage: StageId, fromKey: number, toKey: number, timeUs: number): void {
  if (!stageTraceOn) return;
  const end = Math.min(toKey, CAPACITY);
  let table = (stamps[stage] ??= new Float64Array(INITIAL_ENTRIES));
  if (end > table.length) {
    const grown = new Float64Array(Math.min(CAPACITY, Math.max(end, table.length * 2)));
    grown.set(table);
    table = stamps[stage] = grown;
  }
  for (let key = Math.max(0, fromKey); key < end; key++) if (table[key] === 0) table[key] = timeUs;
  if (end - 1 > highestKey) highestKey = end - 1;
}

export function stamp(stage: StageId, key: number, timeUs = traceNowUs()): void {
  stampRange(stage, key, key + 1, timeUs);
}

/**
 * A stage the broker passes over offsets in order: `ready(end)` says offsets below `end`
 * reached the previous step, `reached(timeUs)` stamps every offset ready but not yet stamped.
 */
export class StageMark {
  private readyEnd = 0;
  private stampedEnd = 0;
  constructor(private readonly stage: StageId) {}
  ready(end: number): void {
    if (end > this.readyEnd) this.readyEnd = end;
  }
  reached(timeUs: number): void {
    if (this.stampedEnd >= this.readyEnd) return;
    stampRange(this.stage, this.stampedEnd, this.readyEnd, timeUs);
    this.stampedEnd = this.readyEnd;
  }
}

/** The time of the latest socket read of this process (broker: any connection; client: any). */
export const traceReads = { lastReadUs: 0 };

/** The broker's ordered stages (produce answers, fetch reads, fetch answers). */
export const brokerMarks = {
  ackFlushed: new StageMark(Stage.ackFlushed),
  fetchAnswered: new StageMark(Stage.fetchAnswered),
  fetchFlushed: new StageMark(Stage.fetchFlushed),
};

/** The client's ordered stages: records written in Produce requests, records read from Fetch answers. */
export const clientMarks = {
  writtenEnd: 0,
  clientRead: new StageMark(Stage.clientRead),
};

let loopDelay: IntervalHistogram | undefined;
const gcPausesMs: number[] = [];
/** Scavenges (young generation) among them; the rest are mark-sweep steps and finalizations. */
let minorGcCount = 0;

function start(): void {
  // 1 ms resolution: the delays of interest are around a millisecond. Its own timer runs
  // only while tracing.
  loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPausesMs.push(entry.duration);
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGcCount++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  process.on('exit', () => writeTrace());
}

export interface StageTraceFile {
  pid: number;
  argv: string[];
  /** Per stage name, the timestamps (µs) of offsets 0..n-1; 0 = not stamped. */
  stages: Record<string, number[]>;
  loopDelayMs: { p50: number; p99: number; p999: number; max: number; count: number };
  gcPausesMs: number[];
  minorGcCount: number;
}

/** This process's trace so far (the bench reads its own without a file). */
export function traceSnapshot(): StageTraceFile {
  const stages: Record<string, number[]> = {};
  STAGE_NAMES.forEach((name, index) => {
    const table = stamps[index];
    if (table) stages[name] = Array.from(table.subarray(0, Math.min(table.length, highestKey + 1)));
  });
  const histogram = loopDelay;
  const ms = (nanoseconds: number): number => Math.round(nanoseconds / 1000) / 1000;
  const file: StageTraceFile = {
    pid: process.pid,
    argv: process.argv.slice(1, 3),
    stages,
    loopDelayMs: histogram
      ? { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), p999: ms(histogram.percentile(99.9)), max: ms(histogram.max), count: histogram.count }
      : { p50: 0, p99: 0, p999: 0, max: 0, count: 0 },
    gcPausesMs,
    minorGcCount,
  };
  return file;
}

/** The directory SPOOL_STAGE_TRACE names ('' when off). */
export const STAGE_TRACE_DIRECTORY = DIRECTORY;

function writeTrace(): void {
  const file = traceSnapshot();
  writeFileSync(join(DIRECTORY, `stages-${process.pid}.json`), JSON.stringify(file));
}

if (stageTraceOn) start();
