// `npx tsx bench/scale.ts [options]` (after `npm run build`): how the broker's costs grow
// with partitions, connections, consumer groups, heartbeating members and log size. Every
// point starts a fresh broker process (dist/cli/main.js serve) on a fresh temp directory
// (harness/scale/points.ts); the sections and what each measures are in bench/README.md
// ("Scale"). Output: one JSON object per point on stdout with --json (or appended to --out),
// else the markdown tables; `report <files> [--svg chart.svg]` turns JSON lines into the
// README tables and chart. `--tiny` runs every section at toy sizes (the test suite runs it).

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { machineInfo } from './harness/machine.js';
import { connectionsPoint, groupsPoint, heartbeatsPoint, idlePoint, partitionsPoint, recoveryPoints, type ScalePoint, type ScaleSettings } from './harness/scale/points.js';
import { formatScaleReport, parseScaleRecords, scaleChartSvg, type ScaleRecord } from './harness/scale/report.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
const SECTION_NAMES = ['partitions', 'connections', 'idle', 'groups', 'heartbeats', 'recovery'] as const;

function counts(name: string): (value: string) => number[] {
  return (value) => {
    const list = value.split(',').map((part) => Number(part.trim()));
    if (list.length === 0 || list.some((count) => !Number.isSafeInteger(count) || count < 1)) throw new InvalidArgumentError(`${name} must be a list of positive integers like 1,10,100, got '${value}'`);
    return list;
  };
}

function count(name: string): (value: string) => number {
  return (value) => counts(name)(value)[0]!;
}

interface RunOptions {
  tiny: boolean;
  sections: string[];
  partitions: number[];
  connections: number[];
  idleConnections: number[];
  groups: number[];
  heartbeatMembers: number[];
  membersPerGroup: number;
  recoveryLogMib: number[];
  recoveryTailMib: number[];
  messages: number;
  size: number;
  ulimitN: number;
  json: boolean;
  out?: string;
}

const TINY: Partial<RunOptions> = {
  partitions: [1, 10],
  connections: [2],
  idleConnections: [10],
  groups: [2],
  heartbeatMembers: [20],
  membersPerGroup: 10,
  recoveryLogMib: [2],
  recoveryTailMib: [1],
  messages: 2000,
};

async function run(given: RunOptions, command: string): Promise<void> {
  const options = given.tiny ? { ...given, ...TINY } : given;
  const settings: ScaleSettings = {
    messages: options.messages,
    messageBytes: options.size,
    openFileLimit: options.ulimitN === 0 ? undefined : options.ulimitN,
    producerProcesses: 4,
    consumerProcesses: 4,
    connectionPartitions: 10,
    groupPartitions: 10,
    heartbeatConnections: 2,
    heartbeatProcesses: 2,
    heartbeatMeasureMs: options.tiny ? 1000 : 10_000,
    recoverySegmentBytes: options.tiny ? 1024 * 1024 : 64 * 1024 * 1024,
    timeoutMs: options.tiny ? 60_000 : 600_000,
  };
  const wanted = new Set(options.sections);
  const records: ScaleRecord[] = [];
  const emit = (point: ScalePoint): void => {
    const record: ScaleRecord = { tool: 'spool bench scale', ...point, command, ...machineInfo(PACKAGE_ROOT) };
    records.push(record);
    const line = JSON.stringify(record);
    if (options.out !== undefined) appendFileSync(options.out, `${line}\n`);
    if (options.json) process.stdout.write(`${line}\n`);
    process.stderr.write(`scale: ${point.section} ${point.size}${point.complete ? '' : ` FAILED: ${String(point.error)}`}\n`);
  };
  if (wanted.has('partitions')) for (const partitions of options.partitions) emit(await partitionsPoint(partitions, settings));
  if (wanted.has('connections')) for (const connections of options.connections) emit(await connectionsPoint(connections, settings));
  if (wanted.has('idle')) for (const connections of options.idleConnections) emit(await idlePoint(connections));
  if (wanted.has('groups')) for (const groups of options.groups) emit(await groupsPoint(groups, settings));
  if (wanted.has('heartbeats')) for (const members of options.heartbeatMembers) emit(await heartbeatsPoint(members, options.membersPerGroup, settings));
  if (wanted.has('recovery')) for (const logMiB of options.recoveryLogMib) for (const point of await recoveryPoints(logMiB, options.recoveryTailMib, settings)) emit(point);
  if (!options.json) process.stdout.write(`${formatScaleReport(records)}\n`);
  if (records.some((record) => !record.complete)) process.exitCode = 1;
}

const program = new Command('scale')
  .description('scale benchmark: partitions, connections, groups, heartbeats, recovery (each point on a fresh broker)')
  .option('--tiny', 'toy sizes of every section (the test suite runs this)', false)
  .option('--sections <list>', `which sections, of ${SECTION_NAMES.join(',')}`, (value: string) => {
    const list = value.split(',').map((part) => part.trim());
    const unknown = list.filter((name) => !(SECTION_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0) throw new InvalidArgumentError(`unknown section(s) ${unknown.join(', ')}; known: ${SECTION_NAMES.join(', ')}`);
    return list;
  }, [...SECTION_NAMES])
  .option('--partitions <list>', 'partition counts of the one topic', counts('--partitions'), [1, 10, 100, 1000, 10_000])
  .option('--connections <list>', 'producer connection counts', counts('--connections'), [1, 10, 100, 1000])
  .option('--idle-connections <list>', 'idle connection counts (RSS cost)', counts('--idle-connections'), [1000])
  .option('--groups <list>', 'consumer group counts', counts('--groups'), [1, 10, 100])
  .option('--heartbeat-members <list>', 'members heartbeating once per second each', counts('--heartbeat-members'), [1000, 10_000])
  .option('--members-per-group <n>', 'members per group in the heartbeat section', count('--members-per-group'), 100)
  .option('--recovery-log-mib <list>', 'log sizes checkpointed before the tail', counts('--recovery-log-mib'), [100, 1000])
  .option('--recovery-tail-mib <list>', 'unflushed tails written before kill -9', counts('--recovery-tail-mib'), [16, 64])
  .option('--messages <n>', 'messages per point (partitions, connections; per group for groups)', count('--messages'), 200_000)
  .option('--size <bytes>', 'message size', count('--size'), 100)
  .option('--ulimit-n <n>', 'open-file limit of the broker in the partitions section (0: inherited)', (value: string) => Number(value), 1024)
  .option('--json', 'one JSON object per point on stdout instead of the tables', false)
  .option('--out <file>', 'also append each JSON object to this file')
  .action(async (options: RunOptions) => {
    await run(options, `npx tsx bench/scale.ts ${process.argv.slice(2).join(' ')}`.trim());
  });

program
  .command('report')
  .description('markdown tables (and --svg chart) from JSON lines files')
  .argument('<files...>')
  .option('--svg <file>', 'write the chart here')
  .action((files: string[], options: { svg?: string }) => {
    const records = files.flatMap((file) => parseScaleRecords(readFileSync(file, 'utf8')));
    process.stdout.write(`${formatScaleReport(records)}\n`);
    if (options.svg !== undefined) writeFileSync(options.svg, scaleChartSvg(records));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`scale: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
