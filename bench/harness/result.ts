// The result record of `bench/cli.ts` (one JSON object per run with --json) and its human
// table. Units as in report.ts: MB = 2^20 bytes of message values; latencies in ms.
// `tool: 'spool bench'` tells these records apart from the peer harness's (report.ts) when
// both are fed to `bench/cli.ts report`.

import type { LatencySummary } from './histogram.js';
import type { MachineInfo } from './machine.js';
import { BYTES_PER_MB, type RateFields } from './report.js';
import type { WorkloadId } from './workloads.js';

export type BenchWorkload = 'produce' | 'consume' | 'e2e' | 'group-throughput' | 'group-failover' | 'share';

export interface BenchResult extends RateFields {
  tool: 'spool bench';
  system: 'spool';
  workload: BenchWorkload;
  /** One line saying what ran, e.g. "1 producer, 1 partition, acks all". */
  title: string;
  /** share: each consumer's share of the messages, in percent. */
  splitPercent?: number[];
  /** group-failover: from SIGKILL of a member to its last partition consumed again. */
  failoverMs?: number;
  error?: string;
  messageBytes: number;
  acks: string;
  fsyncMode: string;
  partitions: number;
  producers?: number;
  consumers?: number;
  lingerMs?: number;
  batchBytes?: number;
  compression?: string;
  ratePerSec?: number;
  /** e2e: CPU time per message of this process (producer + consumer, all threads) and of the own broker process. */
  clientCpuUsPerMsg?: number;
  brokerCpuUsPerMsg?: number;
  /** The peer workload (bench/peers) this run matches, so the report can compare them. */
  comparableTo?: WorkloadId;
  /** "own" (started by the bench) or the address of an external broker. */
  broker: string;
  /** The command line that produced this record. */
  command: string;
  commit: string;
  dirty: boolean;
  node: string;
  cpuModel: string;
  cpus: number;
  loadAverage: number;
  date: string;
}

export interface BenchMeasurement {
  messages: number;
  bytes: number;
  seconds: number;
  latency?: LatencySummary | undefined;
  complete: boolean;
  error?: string | undefined;
}

export type BenchFields = Omit<
  BenchResult,
  'tool' | 'system' | 'messages' | 'bytes' | 'seconds' | 'msgsPerSec' | 'mbPerSec' | 'complete' | 'command' | 'commit' | 'dirty' | 'node' | 'cpuModel' | 'cpus' | 'loadAverage' | 'date'
>;

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** How a reader runs the benchmarks (from the repository root, after `npm run build`). */
export const BENCH_COMMAND = 'npx tsx bench/cli.ts';

/**
 * A recorded command as a reader runs it today: records made before the benchmarks left
 * the `spool` CLI (bench/results/*.jsonl) say `spool bench <subcommand> ...`.
 */
export function runnableCommand(command: string): string {
  return command.replace(/^spool bench /, `${BENCH_COMMAND} `);
}

/** The command line as typed, for the record ("npx tsx bench/cli.ts produce --messages 1000"). */
export function commandLine(): string {
  return [BENCH_COMMAND, ...process.argv.slice(2).map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))].join(' ');
}

export function makeBenchResult(fields: BenchFields, measurement: BenchMeasurement, machine: MachineInfo): BenchResult {
  const seconds = measurement.seconds;
  const result: BenchResult = {
    tool: 'spool bench',
    system: 'spool',
    ...fields,
    messages: measurement.messages,
    bytes: measurement.bytes,
    seconds: round(seconds, 3),
    msgsPerSec: seconds > 0 ? Math.round(measurement.messages / seconds) : 0,
    mbPerSec: seconds > 0 ? round(measurement.bytes / BYTES_PER_MB / seconds, 2) : 0,
    complete: measurement.complete,
    command: commandLine(),
    commit: machine.commit,
    dirty: machine.dirty,
    node: machine.node,
    cpuModel: machine.cpuModel,
    cpus: machine.cpus,
    loadAverage: machine.loadAverage,
    date: new Date().toISOString(),
  };
  const latency = measurement.latency;
  if (latency && latency.count > 0) {
    result.p50Ms = round(latency.p50Ms, 3);
    result.p99Ms = round(latency.p99Ms, 3);
    result.p999Ms = round(latency.p999Ms, 3);
    result.maxMs = round(latency.maxMs, 3);
  }
  if (measurement.error !== undefined) result.error = measurement.error;
  return result;
}

function formatNumber(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatMs(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 100 ? formatNumber(value, 0) : value >= 10 ? formatNumber(value, 1) : formatNumber(value, 2);
}

export function benchRow(result: BenchResult): string[] {
  return [
    result.workload,
    result.complete ? result.title : `${result.title} (INCOMPLETE${result.error ? `: ${result.error}` : ''})`,
    formatNumber(result.messages),
    formatNumber(result.seconds, 2),
    formatNumber(result.msgsPerSec),
    formatNumber(result.mbPerSec, 1),
    formatMs(result.p50Ms),
    formatMs(result.p99Ms),
    formatMs(result.p999Ms),
    result.failoverMs !== undefined ? `${formatNumber(result.failoverMs)} (failover)` : formatMs(result.maxMs),
  ];
}

export const BENCH_HEADER = ['workload', 'what', 'messages', 'seconds', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms'];

/** An aligned text table: a row per result, then the settings and the machine. */
export function formatBenchTable(results: BenchResult[]): string {
  const lines = [BENCH_HEADER, ...results.map(benchRow)];
  const widths = BENCH_HEADER.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)));
  const render = (line: string[]): string =>
    line.map((cell, column) => (column >= 2 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd();
  const first = results[0];
  const footer = first
    ? [
        `message ${first.messageBytes} B, acks ${first.acks}, ${first.fsyncMode}, broker ${first.broker}`,
        `machine: ${first.cpus} x ${first.cpuModel}, Node ${first.node}, commit ${first.commit}${first.dirty ? ' (dirty)' : ''}, load average ${first.loadAverage}, ${first.date}`,
      ]
    : [];
  const cpu = results
    .filter((result) => result.clientCpuUsPerMsg !== undefined)
    .map((result) => `cpu per message at ${formatNumber(result.ratePerSec)} msg/s: client ${formatNumber(result.clientCpuUsPerMsg, 1)} µs, broker ${result.brokerCpuUsPerMsg === undefined ? '-' : formatNumber(result.brokerCpuUsPerMsg, 1)} µs`);
  return [render(BENCH_HEADER), widths.map((width) => '-'.repeat(width)).join('  '), ...lines.slice(1).map(render), '', ...footer, ...cpu].join('\n');
}

/** Writes the results: one JSON object per line with --json, else the table. */
export function printResults(results: BenchResult[], json: boolean): void {
  if (json) for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${formatBenchTable(results)}\n`);
}
