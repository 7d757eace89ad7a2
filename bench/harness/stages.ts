// The send-to-receive breakdown of `bench/cli.ts e2e` run with SPOOL_STAGE_TRACE=<directory>
// (src/util/stage-trace.ts): the bench process stamps scheduled/enqueued/delivered and the
// SDK's written/clientRead, the broker process stamps brokerRead/appended/ackFlushed/
// fetchAnswered/fetchFlushed, all per offset on the machine's monotonic clock. After the
// broker has stopped (and written its file), this merges the two and prints, per step, the
// p50/p99/p99.9 of its duration and its mean share among the slowest 1% of messages (the
// ones that make the p99), plus each process's event-loop delay and GC pauses.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STAGE_TRACE_DIRECTORY, traceSnapshot, type StageTraceFile } from '../../src/util/stage-trace.js';

const STEPS: Array<[string, string, string]> = [
  ['pacer (schedule -> send())', 'scheduled', 'enqueued'],
  ['client send path (send() -> socket write)', 'enqueued', 'written'],
  ['wire + broker loop (write -> broker read)', 'written', 'brokerRead'],
  ['append', 'brokerRead', 'appended'],
  ['fetch wake + read (append -> fetch answer)', 'appended', 'fetchAnswered'],
  ['fetch answer write (-> socket)', 'fetchAnswered', 'fetchFlushed'],
  ['wire + client loop (-> client read)', 'fetchFlushed', 'clientRead'],
  ['client decode + deliver', 'clientRead', 'delivered'],
  ['TOTAL (schedule -> deliver)', 'scheduled', 'delivered'],
  ['(side) produce ack (append -> ack write)', 'appended', 'ackFlushed'],
];

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

export function stageReport(): string {
  const own = traceSnapshot();
  const files: StageTraceFile[] = [own];
  for (const name of readdirSync(STAGE_TRACE_DIRECTORY)) {
    if (!name.startsWith('stages-') || name === `stages-${own.pid}.json`) continue;
    files.push(JSON.parse(readFileSync(join(STAGE_TRACE_DIRECTORY, name), 'utf8')) as StageTraceFile);
  }
  const stages = new Map<string, number[]>();
  for (const file of files) for (const [name, values] of Object.entries(file.stages)) if (values.some((value) => value > 0)) stages.set(name, values);
  const total = (key: number): number => (stages.get('delivered')?.[key] ?? 0) - (stages.get('scheduled')?.[key] ?? 0);
  const count = stages.get('delivered')?.length ?? 0;
  const complete: number[] = [];
  for (let key = 0; key < count; key++) {
    if (STEPS.every(([, from, to]) => (stages.get(from)?.[key] ?? 0) > 0 && (stages.get(to)?.[key] ?? 0) > 0)) complete.push(key);
  }
  const totals = complete.map(total).sort((a, b) => a - b);
  const tailFrom = percentile(totals, 0.99);
  const tail = complete.filter((key) => total(key) >= tailFrom);
  const lines = [`stage breakdown (µs; ${complete.length} of ${count} messages with every stamp; slowest 1% = ${tail.length} messages with total >= ${tailFrom} µs)`];
  lines.push(`${'step'.padEnd(46)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'p99.9'.padStart(7)} ${'mean in slowest 1%'.padStart(19)}`);
  for (const [label, from, to] of STEPS) {
    const duration = (key: number): number => stages.get(to)![key]! - stages.get(from)![key]!;
    const sorted = complete.map(duration).sort((a, b) => a - b);
    const tailMean = tail.length === 0 ? NaN : tail.reduce((sum, key) => sum + duration(key), 0) / tail.length;
    lines.push(`${label.padEnd(46)} ${fmt(percentile(sorted, 0.5))} ${fmt(percentile(sorted, 0.99))} ${fmt(percentile(sorted, 0.999))} ${fmt(tailMean).padStart(19)}`);
  }
  for (const file of files) {
    const pauses = [...file.gcPausesMs].sort((a, b) => a - b);
    const gcTotal = pauses.reduce((sum, value) => sum + value, 0);
    lines.push(
      `process ${file.pid} (${file.argv.join(' ').slice(-40)}): event-loop delay p50 ${file.loopDelayMs.p50} ms, p99 ${file.loopDelayMs.p99} ms, p99.9 ${file.loopDelayMs.p999} ms, max ${file.loopDelayMs.max} ms; ` +
        `GC ${pauses.length} pauses (${file.minorGcCount} scavenges), total ${gcTotal.toFixed(1)} ms, max ${(pauses.at(-1) ?? 0).toFixed(2)} ms`,
    );
  }
  return lines.join('\n');
}

function fmt(value: number): string {
  return (Number.isFinite(value) ? Math.round(value).toString() : '-').padStart(7);
}
