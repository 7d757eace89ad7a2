// Result records of the end-to-end benchmarks and their two outputs: one JSON object per
// run (JSON Lines, for machines) and one aligned text table (for people), with spool's
// ratio to every other system.
//
// Units: MB is 2^20 bytes (as Kafka's producer-perf-test reports MB/sec); bytes count
// message values only, not keys, headers or protocol overhead. Latencies are milliseconds.

import type { MachineInfo } from './machine.js';
import type { LatencySummary } from './histogram.js';
import type { TargetSettings, Workload, WorkloadId } from './workloads.js';
import { WorkloadIds } from './workloads.js';

export const BYTES_PER_MB = 2 ** 20;

/** The rate and latency fields every result record has (peer harness and `spool bench`). */
export interface RateFields {
  /** Messages that completed (acknowledged, or received for a replay). */
  messages: number;
  bytes: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  /** Latency percentiles; absent for replays. */
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  maxMs?: number;
  /** False when the run hit its timeout or an error before every message completed. */
  complete: boolean;
}

export interface RunResult extends RateFields {
  system: string;
  workload: WorkloadId;
  title: string;
  /** 1-based index of this run among the repeats of (system, workload). */
  run: number;
  /** Messages the workload asked for. */
  targetMessages: number;
  error?: string;
  messageBytes: number;
  ratePerSec?: number;
  acks: string;
  fsyncMode: string;
  driving: string;
  serverVersion?: string;
  clientVersion?: string;
  commit: string;
  dirty: boolean;
  node: string;
  cpuModel: string;
  cpus: number;
  /** 1-minute load average just before the run (other work on the machine). */
  loadAverage: number;
  date: string;
}

export interface Measurement {
  messages: number;
  bytes: number;
  seconds: number;
  latency?: LatencySummary;
  complete: boolean;
  error?: string;
}

export function makeResult(input: {
  system: string;
  workload: Workload;
  run: number;
  measurement: Measurement;
  settings: TargetSettings;
  machine: MachineInfo;
}): RunResult {
  const { system, workload, run, measurement, settings, machine } = input;
  const seconds = measurement.seconds;
  const result: RunResult = {
    system,
    workload: workload.id,
    title: workload.title,
    run,
    messages: measurement.messages,
    targetMessages: workload.messages,
    bytes: measurement.bytes,
    seconds: round(seconds, 3),
    msgsPerSec: seconds > 0 ? Math.round(measurement.messages / seconds) : 0,
    mbPerSec: seconds > 0 ? round(measurement.bytes / BYTES_PER_MB / seconds, 2) : 0,
    complete: measurement.complete,
    messageBytes: workload.messageBytes,
    acks: settings.acks,
    fsyncMode: settings.fsyncMode,
    driving: settings.driving,
    commit: machine.commit,
    dirty: machine.dirty,
    node: machine.node,
    cpuModel: machine.cpuModel,
    cpus: machine.cpus,
    loadAverage: machine.loadAverage,
    date: new Date().toISOString(),
  };
  if (measurement.latency && measurement.latency.count > 0) {
    result.p50Ms = round(measurement.latency.p50Ms, 3);
    result.p99Ms = round(measurement.latency.p99Ms, 3);
    result.p999Ms = round(measurement.latency.p999Ms, 3);
    result.maxMs = round(measurement.latency.maxMs, 3);
  }
  if (measurement.error !== undefined) result.error = measurement.error;
  if (workload.ratePerSec !== undefined) result.ratePerSec = workload.ratePerSec;
  if (settings.serverVersion !== undefined) result.serverVersion = settings.serverVersion;
  if (settings.clientVersion !== undefined) result.clientVersion = settings.clientVersion;
  return result;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function toJsonLine(result: RunResult): string {
  return JSON.stringify(result);
}

/** Parses JSON Lines written by toJsonLine; blank lines are skipped. */
export function parseJsonLines(text: string): RunResult[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as RunResult);
}

/** The headline number of a workload: msgs/s for throughput and replay, p99 for W4. */
function isLatencyWorkload(result: RunResult): boolean {
  return result.ratePerSec !== undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor((sorted.length - 1) / 2);
  return sorted[middle] ?? 0;
}

/**
 * One record per (system, workload): the run whose headline number is the median of the
 * repeats (the lower median for an even count), so every field comes from one real run.
 * Incomplete runs are used only when no complete run exists. `runs` says how many there were.
 */
export function medianRuns(results: RunResult[]): Array<RunResult & { runs: number }> {
  const groups = new Map<string, RunResult[]>();
  for (const result of results) {
    const key = `${result.system}\u0000${result.workload}`;
    const group = groups.get(key);
    if (group) group.push(result);
    else groups.set(key, [result]);
  }
  const chosen: Array<RunResult & { runs: number }> = [];
  for (const group of groups.values()) {
    const complete = group.filter((r) => r.complete);
    const pool = complete.length > 0 ? complete : group;
    const headline = (r: RunResult): number => (isLatencyWorkload(r) ? (r.p99Ms ?? Infinity) : r.msgsPerSec);
    const target = median(pool.map(headline));
    const pick = pool.find((r) => headline(r) === target) ?? pool[0];
    if (pick) chosen.push({ ...pick, runs: group.length });
  }
  return chosen;
}

/**
 * spool's ratio to `result`'s system for the headline number: spool msgs/s ÷ theirs for
 * W1-W3 (above 1: spool is faster), spool p99 ÷ theirs for W4 (below 1: spool is faster).
 * Undefined when either side is missing.
 */
export function spoolRatio(result: RunResult, spool: RunResult | undefined): number | undefined {
  if (!spool) return undefined;
  if (isLatencyWorkload(result)) {
    if (!result.p99Ms || spool.p99Ms === undefined) return undefined;
    return spool.p99Ms / result.p99Ms;
  }
  if (!result.msgsPerSec) return undefined;
  return spool.msgsPerSec / result.msgsPerSec;
}

function formatNumber(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatMs(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 100 ? formatNumber(value, 0) : value >= 10 ? formatNumber(value, 1) : formatNumber(value, 2);
}

/**
 * The one table: a row per (workload, system), median of repeats, with spool's ratio.
 * `baseline` is the system the ratio column compares with (default "spool").
 */
export function formatTable(results: RunResult[], options: { baseline?: string } = {}): string {
  const baseline = options.baseline ?? 'spool';
  const rows = medianRuns(results);
  const order = (id: WorkloadId): number => WorkloadIds.indexOf(id);
  rows.sort((a, b) => order(a.workload) - order(b.workload) || a.system.localeCompare(b.system));
  const header = ['workload', 'system', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', `${baseline} ratio`, 'runs'];
  const lines: string[][] = [header];
  for (const row of rows) {
    const spool = rows.find((r) => r.system === baseline && r.workload === row.workload);
    const ratio = spoolRatio(row, spool);
    const ratioText = ratio === undefined ? '-' : `${formatNumber(ratio, 2)}x ${isLatencyWorkload(row) ? 'p99' : 'msgs/s'}`;
    lines.push([
      `${row.workload} ${row.title}`,
      row.complete ? row.system : `${row.system} (incomplete)`,
      formatNumber(row.msgsPerSec),
      formatNumber(row.mbPerSec, 1),
      formatMs(row.p50Ms),
      formatMs(row.p99Ms),
      formatMs(row.p999Ms),
      ratioText,
      String(row.runs),
    ]);
  }
  const widths = header.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)));
  const numeric = new Set([2, 3, 4, 5, 6, 8]);
  const render = (line: string[]): string =>
    line
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const separator = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(header), separator, ...lines.slice(1).map(render)].join('\n');
}

/** A one-paragraph footer naming the settings a reader needs to judge the table. */
export function formatSettings(results: RunResult[]): string {
  const seen = new Map<string, RunResult>();
  for (const result of results) if (!seen.has(result.system)) seen.set(result.system, result);
  const lines: string[] = [];
  for (const [system, result] of seen) {
    lines.push(`${system}: fsync ${result.fsyncMode}; acks ${result.acks}; ${result.driving}`);
  }
  const first = results[0];
  if (first) {
    const loads = results.map((r) => r.loadAverage).filter((load) => typeof load === 'number');
    const loadText = loads.length > 0 ? `, 1-min load average ${Math.min(...loads)}-${Math.max(...loads)} at run starts` : '';
    lines.push(`machine: ${first.cpus} x ${first.cpuModel}, Node ${first.node}, commit ${first.commit}${first.dirty ? ' (dirty)' : ''}${loadText}`);
  }
  return lines.join('\n');
}
