// Entry point of the peer benchmarks (bench/peers/run.sh calls it; the servers are
// started by servers.sh, this only connects to them).
//
//   tsx bench/peers/main.ts run --system nats|redis|rabbitmq|spool --port N
//       [--workloads W1,W3,W2,W4] [--run 1] [--scale 1] [--json results.jsonl]
//     Runs the workloads in the order given against one server, prints a JSON line per
//     workload on stdout and appends it to --json. W3 replays the stream W1 wrote in the
//     same invocation, so W1 must come before W3.
//   tsx bench/peers/main.ts table results.jsonl...
//     Prints the one table (median of the repeats, spool's ratio to each system).

import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from '../harness/machine.js';
import { formatSettings, formatTable, makeResult, parseJsonLines, toJsonLine, type RunResult } from '../harness/report.js';
import { runWorkload } from '../harness/runner.js';
import { parseWorkloadIds, scaleWorkload, WORKLOADS, type Target, type WorkloadId } from '../harness/workloads.js';
import { NATS_TUNING, NatsTarget } from './nats.js';
import { RABBIT_TUNING, RabbitTarget } from './rabbitmq.js';
import { REDIS_TUNING, RedisTarget } from './redis.js';
import { SPOOL_TUNING, SpoolTarget } from './spool.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function debianVersion(packageName: string): string | undefined {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', packageName], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // Not installed from a Debian package: leave the version out.
  }
}

function npmVersion(packageName: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(resolve(REPO, 'node_modules', packageName, 'package.json'), 'utf8')) as { version?: string };
    return manifest.version;
  } catch {
    return undefined; // Not installed: leave the version out.
  }
}

/** Tuning overrides for experiments: PEER_BATCH (messages per publish call), PEER_WINDOW (in flight). */
function tuning<T extends { batchMessages: number; maxInFlightMessages: number }>(defaults: T): T {
  const batch = Number(process.env['PEER_BATCH'] ?? '');
  const window = Number(process.env['PEER_WINDOW'] ?? '');
  return {
    ...defaults,
    ...(batch > 0 ? { batchMessages: batch } : {}),
    ...(window > 0 ? { maxInFlightMessages: window } : {}),
  };
}

function makeTarget(system: string, port: number): Target {
  switch (system) {
    case 'nats':
      return new NatsTarget(port, tuning(NATS_TUNING), { server: `nats-server ${debianVersion('nats-server') ?? '?'}`, client: `nats ${npmVersion('nats') ?? '?'}` });
    case 'redis':
      return new RedisTarget(port, tuning(REDIS_TUNING), { server: `redis-server ${debianVersion('redis-server') ?? '?'}`, client: `ioredis ${npmVersion('ioredis') ?? '?'}` });
    case 'rabbitmq':
      return new RabbitTarget(port, tuning(RABBIT_TUNING), {
        server: `rabbitmq-server ${debianVersion('rabbitmq-server') ?? '?'}`,
        client: `rabbitmq-stream-js-client ${npmVersion('rabbitmq-stream-js-client') ?? '?'}`,
      });
    case 'spool': {
      const manifest = JSON.parse(readFileSync(resolve(REPO, 'package.json'), 'utf8')) as { version?: string };
      const version = manifest.version ?? '?';
      const versions = { server: `spool ${version} (this repo, dist/)`, client: `spool SDK ${version} (dist/)` };
      return new SpoolTarget(port, process.env['SPOOL_FSYNC'] ?? '1000', tuning(SPOOL_TUNING), versions);
    }
    default:
      throw new Error(`unknown system ${system} (nats, redis, rabbitmq, spool)`);
  }
}

async function runCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      system: { type: 'string' },
      port: { type: 'string' },
      workloads: { type: 'string', default: 'W1,W3,W2,W4' },
      run: { type: 'string', default: '1' },
      scale: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  if (!values.system || !values.port) throw new Error('run needs --system and --port');
  const port = Number(values.port);
  const run = Number(values.run);
  const scale = Number(values.scale);
  const ids = parseWorkloadIds(values.workloads);
  const w1Index = ids.indexOf('W1');
  const w3Index = ids.indexOf('W3');
  if (w3Index >= 0 && (w1Index < 0 || w1Index > w3Index)) throw new Error('W3 replays W1: list W1 before W3');

  const machine = machineInfo(REPO);
  const target = makeTarget(values.system, port);
  const suffix = Math.random().toString(36).slice(2, 8);
  const streamOf = (id: WorkloadId): string => `bench-${id.toLowerCase()}-${run}-${suffix}`;
  await target.setup();
  try {
    for (const id of ids) {
      const workload = scaleWorkload(WORKLOADS[id], scale);
      const stream = streamOf(workload.replayOf ?? id);
      process.stderr.write(`${target.name} ${id} (${workload.title}) run ${run}... `);
      const machineNow = { ...machine, loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
      const measurement = await runWorkload(target, workload, stream);
      const result = makeResult({ system: target.name, workload, run, measurement, settings: target.settings, machine: machineNow });
      process.stderr.write(
        `${result.msgsPerSec} msg/s, ${result.mbPerSec} MB/s` +
          (result.p99Ms !== undefined ? `, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms` : '') +
          (result.complete ? '' : ` INCOMPLETE: ${result.error ?? ''}`) +
          '\n',
      );
      const line = toJsonLine(result);
      process.stdout.write(`${line}\n`);
      if (values.json) appendFileSync(values.json, `${line}\n`);
      // Free the disk as soon as nothing needs the stream any more (W1 waits for W3).
      if (id !== 'W1' || w3Index < 0) await target.deleteStream(stream);
      if (id === 'W3') await target.deleteStream(streamOf('W1'));
    }
  } finally {
    await target.close();
  }
}

function tableCommand(files: string[]): void {
  if (files.length === 0) throw new Error('table needs at least one results.jsonl');
  const results: RunResult[] = files.flatMap((file) => parseJsonLines(readFileSync(file, 'utf8')));
  process.stdout.write(`${formatTable(results)}\n\n${formatSettings(results)}\n`);
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'run') await runCommand(rest);
  else if (command === 'table') tableCommand(rest);
  else throw new Error('usage: main.ts run --system S --port N [...] | main.ts table results.jsonl...');
} catch (error) {
  process.stderr.write(`bench/peers: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
