// Markdown tables and a small SVG chart from the scale benchmark's JSON lines
// (`npx tsx bench/scale.ts report <files> [--svg chart.svg]`). One table per section, rows
// by size; a "per unit" column divides the cost by the work so superlinear growth shows
// as a growing number. The chart: one panel per section, log-log, cost vs size, with a
// dashed line of slope 1 (linear) through the first point for comparison.

import type { ScalePoint } from './points.js';

export type ScaleRecord = ScalePoint & { command?: string; date?: string; loadAverage?: number; cpuModel?: string; cpus?: number; node?: string; commit?: string };

const show = (value: unknown, digits = 0): string => {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number') return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return String(value);
};

function table(headers: string[], rows: string[][]): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

const num = (record: ScaleRecord, key: string): number | undefined => (typeof record[key] === 'number' ? (record[key] as number) : undefined);

function status(record: ScaleRecord): string {
  return record.complete ? '' : ` (incomplete: ${String(record.error ?? '?').slice(0, 80)})`;
}

const SECTIONS: Record<string, { title: string; headers: string[]; row: (record: ScaleRecord) => string[] }> = {
  partitions: {
    title: 'Partitions: one topic, keyed 100 B messages over all partitions, acks all, one producer',
    headers: ['partitions', 'msg/s', 'p99 ms', 'broker CPU %', 'create topic ms', 'RSS after run MiB', 'fds after run', 'start after kill -9 ms (segments scanned)', 'clean stop ms', 'start after clean stop ms', 'RSS after start MiB', 'ulimit -n'],
    row: (r) => [
      show(r['partitions']) + status(r),
      show(r['msgsPerSec']),
      show(r['p99Ms'], 1),
      show(r['brokerCpuPercent']),
      show(r['createTopicMs']),
      show(r['rssAfterRunMiB']),
      show(r['fdsAfterRun']),
      `${show(r['crashStartupMs'])} (${show(r['segmentsScanned'])})`,
      show(r['cleanStopMs']),
      show(r['cleanStartupMs']),
      show(r['rssAfterCleanStartMiB']),
      show(r['openFileLimit']),
    ],
  },
  connections: {
    title: 'Producer connections: keyed 100 B messages, acks all, send() of 100, 1,000 unacknowledged per connection',
    headers: ['connections', 'processes', 'msg/s', 'p50 ms', 'p99 ms', 'max ms', 'broker CPU %', 'RSS after run MiB'],
    row: (r) => [show(r['connections']) + status(r), show(r['processes']), show(r['msgsPerSec']), show(r['p50Ms'], 1), show(r['p99Ms'], 1), show(r['maxMs'], 1), show(r['brokerCpuPercent']), show(r['rssAfterRunMiB'])],
  },
  idle: {
    title: 'Idle connections: each did one ApiVersions request',
    headers: ['connections', 'RSS before MiB', 'RSS after MiB', 'KiB per connection', 'fds after'],
    row: (r) => [show(r['connections']) + status(r), show(r['rssBeforeMiB']), show(r['rssAfterMiB']), show(r['kibPerConnection']), show(r['fdsAfter'])],
  },
  groups: {
    title: 'Consumer groups reading one topic at once (one member each)',
    headers: ['groups', 'processes', 'messages per group', 'time to read all s', 'first group done s', 'aggregate msg/s', 'broker CPU %', 'RSS after run MiB'],
    row: (r) => [show(r['groups']) + status(r), show(r['processes']), show(r['messagesPerGroup']), show(r['seconds'], 2), show(r['firstGroupSeconds'], 2), show(r['msgsPerSec']), show(r['brokerCpuPercent']), show(r['rssAfterRunMiB'])],
  },
  heartbeats: {
    title: 'Coordinator: members heartbeating once per second each (raw ConsumerGroupHeartbeat)',
    headers: ['members', 'groups x members', 'join all ms', 'answers/s', 'errors', 'broker CPU %', 'broker CPU us per heartbeat', 'driver CPU % (busiest)', 'p50 ms', 'p99 ms', 'max ms', 'RSS MiB'],
    row: (r) => {
      const cpu = num(r, 'brokerCpuPercent');
      const answers = num(r, 'answersPerSec');
      const perHeartbeat = cpu !== undefined && answers ? (cpu / 100 / answers) * 1e6 : undefined;
      return [show(r['members']) + status(r), `${show(r['groups'])} x ${show(r['membersPerGroup'])}`, show(r['joinMs']), show(r['answersPerSec']), show(r['errors']), show(r['brokerCpuPercent'], 1), show(perHeartbeat, 1), show(r['driverCpuPercent']), show(r['p50Ms'], 2), show(r['p99Ms'], 2), show(r['maxMs'], 1), show(r['rssAfterRunMiB'])];
    },
  },
  recovery: {
    title: 'Recovery after kill -9: a checkpointed log, then an unflushed tail',
    headers: ['log MiB', 'tail MiB', 'segment MiB', 'start after kill -9 ms', 'segments scanned / trusted', 'start after clean stop ms'],
    row: (r) => [
      show(r['logMiB']) + status(r),
      show(r['tailMiB']),
      show(num(r, 'segmentBytes') === undefined ? undefined : num(r, 'segmentBytes')! / 2 ** 20),
      show(r['crashStartupMs']),
      `${show(r['segmentsScanned'])} / ${show(r['segmentsTrusted'])}`,
      show(r['cleanStartupMs']),
    ],
  },
};

export function parseScaleRecords(text: string): ScaleRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as ScaleRecord)
    .filter((record) => typeof record.section === 'string');
}

export function formatScaleReport(records: ScaleRecord[]): string {
  const parts: string[] = [];
  for (const [section, spec] of Object.entries(SECTIONS)) {
    const rows = records.filter((record) => record.section === section).sort((a, b) => a.size - b.size || (num(a, 'tailMiB') ?? 0) - (num(b, 'tailMiB') ?? 0));
    if (rows.length === 0) continue;
    const loads = rows.map((record) => record.loadAverage).filter((value): value is number => typeof value === 'number');
    const load = loads.length === 0 ? '' : ` (load average ${Math.min(...loads)}-${Math.max(...loads)})`;
    parts.push(`**${spec.title}**${load}\n\n${table(spec.headers, rows.map(spec.row))}`);
  }
  const first = records[0];
  if (first) {
    const dates = records.map((record) => record.date).filter((date): date is string => typeof date === 'string').sort();
    const commands = [...new Set(records.map((record) => record.command).filter((command): command is string => typeof command === 'string'))];
    parts.push(
      `Machine: ${first.cpuModel ?? '?'}, ${first.cpus ?? '?'} vCPUs, Node ${first.node ?? '?'}, commit ${first.commit ?? '?'}; ${dates[0] ?? '?'} to ${dates[dates.length - 1] ?? '?'}.\n` +
        `Commands:\n\n${commands.map((command) => `    ${command}`).join('\n')}`,
    );
  }
  return parts.join('\n\n');
}

/** What each chart panel plots: the cost that should grow at most linearly with the size. */
const PANELS: Array<{ section: string; label: string; value: (record: ScaleRecord) => number | undefined; filter?: (record: ScaleRecord) => boolean }> = [
  { section: 'partitions', label: 'partitions: start after kill -9 (ms)', value: (r) => num(r, 'crashStartupMs') },
  { section: 'partitions', label: 'partitions: RSS after run (MiB)', value: (r) => num(r, 'rssAfterRunMiB') },
  { section: 'heartbeats', label: 'heartbeats/s: broker CPU (%)', value: (r) => num(r, 'brokerCpuPercent') },
  { section: 'recovery', label: 'recovery: start after kill -9 (ms) vs log MiB', value: (r) => num(r, 'crashStartupMs'), filter: (r) => num(r, 'tailMiB') === 16 || num(r, 'tailMiB') === 1 },
];

/** A 2x2 grid of log-log panels; ~no dependencies, readable in a README. */
export function scaleChartSvg(records: ScaleRecord[]): string {
  const width = 320;
  const height = 220;
  const margin = { left: 48, right: 12, top: 28, bottom: 30 };
  const panels = PANELS.map((panel, index) => {
    const points = records
      .filter((record) => record.section === panel.section && record.complete && (panel.filter?.(record) ?? true))
      .map((record) => ({ x: record.size, y: panel.value(record) }))
      .filter((point): point is { x: number; y: number } => point.y !== undefined && point.y > 0 && point.x > 0)
      .sort((a, b) => a.x - b.x);
    const originX = (index % 2) * width;
    const originY = Math.floor(index / 2) * height;
    const out: string[] = [`<g transform="translate(${originX},${originY})">`, `<text x="${margin.left}" y="16" font-size="12">${panel.label}</text>`];
    if (points.length >= 1) {
      const logs = (values: number[]): [number, number] => {
        const low = Math.floor(Math.log10(Math.min(...values)));
        const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values))));
        return [low, high];
      };
      const [xLow, xHigh] = logs(points.map((point) => point.x));
      const [yLow, yHigh] = logs(points.map((point) => point.y));
      const px = (x: number): number => margin.left + ((Math.log10(x) - xLow) / (xHigh - xLow)) * (width - margin.left - margin.right);
      const py = (y: number): number => height - margin.bottom - ((Math.log10(y) - yLow) / (yHigh - yLow)) * (height - margin.top - margin.bottom);
      out.push(`<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" height="${height - margin.top - margin.bottom}" fill="none" stroke="#999"/>`);
      for (let decade = xLow; decade <= xHigh; decade++) out.push(`<text x="${px(10 ** decade).toFixed(1)}" y="${height - margin.bottom + 14}" font-size="10" text-anchor="middle">${(10 ** decade).toLocaleString('en-US')}</text>`);
      for (let decade = yLow; decade <= yHigh; decade++) out.push(`<text x="${margin.left - 4}" y="${(py(10 ** decade) + 3).toFixed(1)}" font-size="10" text-anchor="end">${(10 ** decade).toLocaleString('en-US')}</text>`);
      // Slope 1 through the first point: a cost that grows linearly would follow it.
      const first = points[0]!;
      const lastX = 10 ** xHigh;
      const linearY = first.y * (lastX / first.x);
      const clipY = Math.min(linearY, 10 ** yHigh);
      const clipX = first.x * (clipY / first.y);
      out.push(`<line x1="${px(first.x).toFixed(1)}" y1="${py(first.y).toFixed(1)}" x2="${px(clipX).toFixed(1)}" y2="${py(clipY).toFixed(1)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
      out.push(`<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="${points.map((point) => `${px(point.x).toFixed(1)},${py(point.y).toFixed(1)}`).join(' ')}"/>`);
      for (const point of points) out.push(`<circle cx="${px(point.x).toFixed(1)}" cy="${py(point.y).toFixed(1)}" r="3" fill="#1f6feb"/>`);
    } else out.push(`<text x="${margin.left}" y="${height / 2}" font-size="11">no data</text>`);
    out.push('</g>');
    return out.join('\n');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * 2}" height="${height * 2 + 20}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    `<text x="8" y="${height * 2 + 14}" font-size="10">log-log; dashed: linear growth from the first point. Generated by bench/scale.ts report --svg from the JSON lines.</text>`,
    '</svg>',
    '',
  ].join('\n');
}
