// `npx tsx bench/cli.ts report <files...>`: the README's Results section as markdown, generated from
// JSON Lines: records of the peer harness (bench/peers, report.ts) and of `bench/cli.ts --json`
// (result.ts). It prints
//   1. spool vs peers: the median run per (workload, system) of the peer files, plus every
//      `bench/cli.ts` run that reproduces a peer workload (comparableTo W1/W2/W3) as system
//      "spool bench"; the ratio column compares each row with "spool bench" where such a run
//      exists for the workload, else with the peer run of spool;
//   2. every `spool bench` run;
//   3. the machine, dates, load averages, and the exact commands.

import { BENCH_COMMAND, BENCH_HEADER, benchRow, formatMs, runnableCommand, type BenchResult } from './result.js';
import { medianRuns, spoolRatio, type RunResult } from './report.js';
import { WORKLOADS, WorkloadIds, type WorkloadId } from './workloads.js';

type AnyRecord = (RunResult & { tool?: undefined }) | BenchResult;

export function parseRecords(text: string): AnyRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as AnyRecord);
}

function isBench(record: AnyRecord): record is BenchResult {
  return record.tool === 'spool bench';
}

const SPOOL_BENCH = 'spool bench';

/** A `spool bench` run that reproduces a peer workload, in the peer harness's record shape. */
function asPeerRecord(result: BenchResult, workload: WorkloadId): RunResult {
  const record: RunResult = {
    system: SPOOL_BENCH,
    workload,
    title: WORKLOADS[workload].title,
    run: 1,
    messages: result.messages,
    targetMessages: WORKLOADS[workload].messages,
    bytes: result.bytes,
    seconds: result.seconds,
    msgsPerSec: result.msgsPerSec,
    mbPerSec: result.mbPerSec,
    complete: result.complete,
    messageBytes: result.messageBytes,
    acks: result.acks,
    fsyncMode: result.fsyncMode,
    driving: runnableCommand(result.command),
    commit: result.commit,
    dirty: result.dirty,
    node: result.node,
    cpuModel: result.cpuModel,
    cpus: result.cpus,
    loadAverage: result.loadAverage,
    date: result.date,
  };
  if (result.p50Ms !== undefined) record.p50Ms = result.p50Ms;
  if (result.p99Ms !== undefined) record.p99Ms = result.p99Ms;
  if (result.p999Ms !== undefined) record.p999Ms = result.p999Ms;
  if (result.maxMs !== undefined) record.maxMs = result.maxMs;
  return record;
}

const number = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function markdownTable(header: string[], rows: string[][], numericFrom: number): string {
  const align = header.map((_, column) => (column >= numericFrom ? '---:' : '---'));
  return [header, align, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

function peerSection(peers: RunResult[]): string {
  const rows = medianRuns(peers);
  const order = (id: WorkloadId): number => WorkloadIds.indexOf(id);
  rows.sort((a, b) => order(a.workload) - order(b.workload) || a.system.localeCompare(b.system));
  const lines = rows.map((row) => {
    const baseline = rows.find((r) => r.system === SPOOL_BENCH && r.workload === row.workload) ?? rows.find((r) => r.system === 'spool' && r.workload === row.workload);
    const ratio = spoolRatio(row, baseline);
    const latency = row.ratePerSec !== undefined;
    return [
      `${row.workload} ${row.title}`,
      row.complete ? row.system : `${row.system} (incomplete)`,
      number(row.msgsPerSec),
      number(row.mbPerSec, 1),
      formatMs(row.p50Ms),
      formatMs(row.p99Ms),
      formatMs(row.p999Ms),
      ratio === undefined ? '-' : `${number(ratio, 2)}x ${latency ? 'p99' : 'msgs/s'}`,
      String(row.runs),
      String(row.loadAverage),
      row.date.slice(0, 16).replace('T', ' '),
    ];
  });
  return markdownTable(['workload', 'system', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'spool ratio', 'runs', 'load', 'date (UTC)'], lines, 2);
}

function range(values: number[]): string {
  if (values.length === 0) return '-';
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${low}-${high}`;
}

export function formatReport(files: Array<{ name: string; text: string }>): string {
  const records = files.flatMap((file) => parseRecords(file.text).map((record) => ({ file: file.name, record })));
  const bench = records.map((entry) => entry.record).filter(isBench);
  const peers = records.map((entry) => entry.record).filter((record): record is RunResult => !isBench(record));
  const comparable = bench.flatMap((result) => (result.comparableTo && result.complete ? [asPeerRecord(result, result.comparableTo)] : []));
  const out: string[] = [];

  if (peers.length > 0 || comparable.length > 0) {
    out.push('#### spool vs peers', '');
    out.push(peerSection([...peers, ...comparable]), '');
    out.push(
      '`spool ratio`: msgs/s of spool ÷ the row\'s msgs/s for W1-W3 (above 1: spool is faster); p99 of spool ÷ the row\'s p99 for W4 ' +
        '(above 1: spool is worse). "spool" in the ratio is the `spool bench` row of the workload where there is one, else the peer harness\'s spool row. `load`: the 1-minute load average when the shown (median) run started; rows measured at very different loads compare poorly.',
      '',
    );
  }
  if (bench.length > 0) {
    out.push('#### spool bench', '');
    const header = [...BENCH_HEADER, 'size B', 'acks', 'fsync', 'load'];
    const rows = bench.map((result) => [...benchRow(result), String(result.messageBytes), result.acks, result.fsyncMode, String(result.loadAverage)]);
    out.push(markdownTable(header, rows, 2), '');
  }

  const all = records.map((entry) => entry.record);
  const first = all[0];
  if (first) {
    const machines = [...new Set(all.map((record) => `${record.cpus} x ${record.cpuModel}, Node ${record.node}`))];
    const commits = [...new Set(all.map((record) => `${record.commit}${record.dirty ? ' (dirty)' : ''}`))];
    const dates = all.map((record) => record.date).sort();
    out.push('#### Machine and commands', '');
    out.push(`- Machine: ${machines.join('; ')}.`);
    out.push(`- Runs: ${dates[0]} to ${dates[dates.length - 1]}; commits ${commits.join(', ')}.`);
    out.push(`- 1-minute load average at run starts: ${range(all.map((record) => record.loadAverage))} (the machine is shared; compare within a table, not across days).`);
    const peerFiles = [...new Set(records.filter((entry) => !isBench(entry.record)).map((entry) => entry.file))];
    if (peerFiles.length > 0) out.push(`- Peers: \`npm run bench:peers\` (bench/peers/run.sh; see bench/peers/README.md), JSON lines in ${peerFiles.map((file) => `\`${file}\``).join(', ')}.`);
    const commands = [...new Set(bench.map((result) => runnableCommand(result.command)))];
    if (commands.length > 0) {
      out.push('- spool bench (`npm run build` first; broker started by the bench as its own process unless `--broker` is given):', '', '```sh', ...commands, '```');
    }
    out.push('', `Regenerate this section: \`${BENCH_COMMAND} report ${files.map((file) => file.name).join(' ')}\`.`);
  }
  return out.join('\n');
}

export const RESULTS_START = '<!-- spool bench report: start -->';
export const RESULTS_END = '<!-- spool bench report: end -->';

/** `text` with everything between the two markers replaced by `markdown` (markers kept). */
export function replaceBetweenMarkers(text: string, markdown: string): string {
  const start = text.indexOf(RESULTS_START);
  const end = text.indexOf(RESULTS_END);
  if (start < 0 || end < start) throw new Error(`the file has no ${RESULTS_START} ... ${RESULTS_END} markers`);
  return `${text.slice(0, start + RESULTS_START.length)}\n\n${markdown}\n\n${text.slice(end)}`;
}
