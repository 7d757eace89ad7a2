// `npx tsx bench/cli.ts produce | consume | e2e | group | report` (run from the repository,
// after `npm run build`): end-to-end benchmarks through the client SDK. They live here, not
// in the `spool` CLI, so the published package carries neither them nor their dependencies
// (hdr-histogram-js). With no --broker (and no SPOOL_BROKER) a bench starts its own broker
// (dist/cli/main.js serve) as a separate process on a temp data dir
// (harness/broker-process.ts) and removes it afterwards;
// with --broker it targets that broker (creating, and afterwards deleting, its own topics).
// Output: a table on stdout, or with --json one JSON object per run; a progress bar on
// stderr when stderr is a terminal. `report` turns JSON Lines into the README's markdown.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseFsyncPolicy } from '../src/broker/index.js';
import { formatError } from '../src/cli/errors.js';
import { choiceOption, integerOption, parseAcks, parseBytes, parseDurationMs, type Acks } from '../src/cli/args.js';
import { benchBroker, type BenchBroker } from './harness/broker-process.js';
import { benchConsume } from './harness/consume.js';
import { stageTraceOn } from '../src/util/stage-trace.js';
import { benchE2e } from './harness/e2e.js';
import { stageReport } from './harness/stages.js';
import { benchGroup } from './harness/group-bench.js';
import { benchShare } from './harness/share-bench.js';
import { machineInfo, type MachineInfo } from './harness/machine.js';
import { formatReport, replaceBetweenMarkers, RESULTS_END, RESULTS_START } from './harness/markdown.js';
import { benchProduce } from './harness/produce.js';
import { BENCH_COMMAND, printResults, type BenchResult } from './harness/result.js';

/** The repository root, for the git commit stamped into results. */
const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));

interface CommonOptions {
  fsync: string;
  json: boolean;
  timeoutMs: number;
}

function fsyncOption(value: string): string {
  try {
    parseFsyncPolicy(value);
    return value;
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** `--rates 1000,5000,20000`: positive integers, in the order given. */
function rateList(value: string): number[] {
  const rates = value.split(',').map((part) => Number(part.trim()));
  if (rates.length === 0 || rates.some((rate) => !Number.isInteger(rate) || rate < 1)) throw new InvalidArgumentError('expected a comma-separated list of positive integers, e.g. 1000,5000,20000');
  return rates;
}

function memberCounts(value: string): number[] {
  const counts = value.split(',').map((part) => Number(part.trim()));
  if (counts.length === 0 || counts.some((count) => !Number.isInteger(count) || count < 1 || count > 64)) {
    throw new InvalidArgumentError(`--members must be a list of counts 1-64 like 1,2,4, got '${value}'`);
  }
  return counts;
}

function commonOptions(command: Command): Command {
  return command
    .option('--fsync <mode>', 'fsync policy of the broker the bench starts: always | <ms> | never', fsyncOption, '1000')
    .option('--json', 'one JSON object per run on stdout instead of the table', false)
    .option('--timeout-ms <ms>', 'give up on a run after this long (reported as incomplete)', parseDurationMs, 300_000);
}

/** Runs `body` against the bench's broker (own or --broker), stopping an own one afterwards. */
async function withBroker(command: Command, options: CommonOptions, body: (broker: BenchBroker, machine: MachineInfo) => Promise<BenchResult[]>): Promise<void> {
  // Ctrl-C: exit through process.exit so the own broker is killed and its temp dir removed.
  const interrupted = (): never => process.exit(130);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const broker = await benchBroker(command, options.fsync);
  if (!broker.own && command.getOptionValueSource('fsync') === 'cli') {
    process.stderr.write(`bench: --fsync applies only to a broker the bench starts; ${broker.address} keeps its own policy\n`);
  }
  try {
    const results = await body(broker, machineInfo(PACKAGE_ROOT));
    printResults(results, options.json);
    if (results.some((result) => !result.complete)) process.exitCode = 1;
  } finally {
    await broker.stop();
  }
}

/** `--compression`, shared by the subcommands that produce. */
function compressionOption(): Option {
  return new Option('--compression <codec>', 'batch compression').argParser(choiceOption('--compression', ['none', 'gzip'] as const)).default('none');
}

export function registerBench(bench: Command): void {
  registerProduce(bench);
  registerConsume(bench);
  registerE2e(bench);
  registerGroup(bench);
  registerShare(bench);
  registerReport(bench);
}

interface ShareOptions extends CommonOptions {
  messages: number;
  size: number;
  consumers: number;
  maxRecords: number;
  processes: boolean;
}

function registerShare(bench: Command): void {
  commonOptions(
    bench
      .command('share')
      .description('share group work queue: --consumers share consumers drain a fresh 1-partition topic, accepting each message')
      .option('--messages <n>', 'messages to fill the topic with', integerOption('--messages', 1), 1_000_000)
      .option('--size <bytes>', 'message value size', parseBytes, 100)
      .option('--consumers <n>', 'share consumers (one Client each, in this process)', integerOption('--consumers', 1), 4)
      .option('--max-records <n>', 'records one ShareFetch acquires at most', integerOption('--max-records', 1), 500)
      .option('--processes', 'each consumer in its own process (default: all in the bench process)', false),
  ).action(async (options: ShareOptions, command: Command) => {
    await withBroker(command, options, async (broker, machine) => [
      await benchShare({ messages: options.messages, size: options.size, consumers: options.consumers, maxRecords: options.maxRecords, processes: options.processes, timeoutMs: options.timeoutMs }, broker, machine),
    ]);
  });
}

interface ProduceOptions extends CommonOptions {
  messages: number;
  size: number;
  partitions: number;
  producers: number;
  acks: Acks;
  batchBytes?: number;
  lingerMs?: number;
  compression: 'none' | 'gzip';
}

function registerProduce(bench: Command): void {
  commonOptions(
    bench
      .command('produce')
      .description('producer throughput: --messages of --size bytes, acknowledged')
      .option('--messages <n>', 'messages in total', integerOption('--messages', 1), 1_000_000)
      .option('--size <bytes>', 'message value size', parseBytes, 100)
      .option('--partitions <n>', 'partitions of the bench topic', integerOption('--partitions', 1), 1)
      .option('--producers <n>', 'producer processes (messages are split among them)', integerOption('--producers', 1), 1)
      .option('--acks <acks>', '0 | 1 | all', parseAcks, 'all' as Acks)
      .option('--batch-bytes <size>', 'producer batchBytes (default 256KiB)', parseBytes)
      .option('--linger-ms <ms>', 'producer lingerMs (default 5)', parseDurationMs)
      .addOption(compressionOption()),
  ).action(async (options: ProduceOptions, command: Command) => {
    await withBroker(command, options, async (broker, machine) => [
      await benchProduce(
        {
          messages: options.messages,
          size: options.size,
          partitions: options.partitions,
          producers: options.producers,
          acks: options.acks,
          compression: options.compression,
          timeoutMs: options.timeoutMs,
          ...(options.batchBytes !== undefined ? { batchBytes: options.batchBytes } : {}),
          ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
        },
        broker,
        machine,
      ),
    ]);
  });
}

interface ConsumeOptions extends CommonOptions {
  messages: number;
  size: number;
  partitions: number;
  consumers: number;
  topic?: string;
}

function registerConsume(bench: Command): void {
  commonOptions(
    bench
      .command('consume')
      .description('replay from the beginning by one consumer or a group of N')
      .option('--messages <n>', 'messages to fill the fresh topic with', integerOption('--messages', 1), 1_000_000)
      .option('--size <bytes>', 'message value size', parseBytes, 100)
      .option('--partitions <n>', 'partitions of the fresh topic', integerOption('--partitions', 1), 1)
      .option('--consumers <n>', '1: one consumer, all partitions assigned; N: a group of N member processes', integerOption('--consumers', 1), 1)
      .option('--topic <name>', 'replay this existing topic instead of filling a fresh one'),
  ).action(async (options: ConsumeOptions, command: Command) => {
    await withBroker(command, options, async (broker, machine) => [
      await benchConsume(
        {
          messages: options.messages,
          size: options.size,
          partitions: options.partitions,
          consumers: options.consumers,
          timeoutMs: options.timeoutMs,
          ...(options.topic !== undefined ? { topic: options.topic } : {}),
        },
        broker,
        machine,
      ),
    ]);
  });
}

interface E2eOptions extends CommonOptions {
  rate: number;
  rates?: number[];
  duration: number;
  size: number;
  partitions: number;
  acks: Acks;
  lingerMs: number;
  maxWaitMs: number;
  compression: 'none' | 'gzip';
  pacer: 'worker' | 'timer';
}

function registerE2e(bench: Command): void {
  commonOptions(
    bench
      .command('e2e')
      .description('latency from send to receive at a fixed --rate for a --duration')
      .option('--rate <msgs>', 'messages per second', integerOption('--rate', 1), 5000)
      .option('--rates <list>', 'a latency-vs-load curve: one run per rate (e.g. 1000,5000,20000,50000,100000), each on a fresh topic of the same broker', rateList)
      .option('--duration <time>', 'how long to send (e.g. 10s)', parseDurationMs, 10_000)
      .option('--size <bytes>', 'message value size (at least 8)', parseBytes, 100)
      .option('--partitions <n>', 'partitions of the bench topic', integerOption('--partitions', 1), 1)
      .option('--acks <acks>', '0 | 1 | all', parseAcks, 'all' as Acks)
      .option('--linger-ms <ms>', 'producer lingerMs', parseDurationMs, 0)
      .option('--max-wait-ms <ms>', 'consumer long-poll maxWaitMs', parseDurationMs, 500)
      .addOption(new Option('--pacer <kind>', 'worker: a worker thread releases each message on time; timer: 1 ms setTimeout ticks').argParser(choiceOption('--pacer', ['worker', 'timer'] as const)).default('worker'))
      .addOption(compressionOption()),
  ).action(async (options: E2eOptions, command: Command) => {
    const rates = options.rates ?? [options.rate];
    if (stageTraceOn && (options.partitions !== 1 || rates.length !== 1)) throw new Error('SPOOL_STAGE_TRACE needs --partitions 1 and one rate (the trace is keyed by offset)');
    await withBroker(command, options, async (broker, machine) => {
      const results: BenchResult[] = [];
      for (const ratePerSec of rates) {
        results.push(
          await benchE2e(
            {
              ratePerSec,
              durationMs: options.duration,
              size: options.size,
              partitions: options.partitions,
              acks: options.acks,
              lingerMs: options.lingerMs,
              maxWaitMs: options.maxWaitMs,
              compression: options.compression,
              pacer: options.pacer,
              drainMs: Math.min(options.timeoutMs, 30_000),
            },
            broker,
            machine,
          ),
        );
      }
      return results;
    });
    // The broker has stopped and written its trace file.
    if (stageTraceOn) process.stderr.write(`${stageReport()}\n`);
  });
}

interface GroupOptions extends CommonOptions {
  messages: number;
  size: number;
  partitions: number;
  members: number[];
  sessionTimeoutMs: number;
  failover: boolean;
}

function registerGroup(bench: Command): void {
  commonOptions(
    bench
      .command('group')
      .description('consumer-group throughput of 1/2/4 member processes and the failover time when one is killed')
      .option('--messages <n>', 'messages to fill the topic with', integerOption('--messages', 1), 1_000_000)
      .option('--size <bytes>', 'message value size', parseBytes, 100)
      .option('--partitions <n>', 'partitions of the topic', integerOption('--partitions', 1), 8)
      .option('--members <counts>', 'group sizes to measure', memberCounts, [1, 2, 4])
      .option('--session-timeout-ms <ms>', 'session timeout of the failover group', parseDurationMs, 3000)
      .option('--no-failover', 'skip the failover measurement'),
  ).action(async (options: GroupOptions, command: Command) => {
    await withBroker(command, options, (broker, machine) =>
      benchGroup(
        {
          messages: options.messages,
          size: options.size,
          partitions: options.partitions,
          memberCounts: options.members,
          sessionTimeoutMs: options.sessionTimeoutMs,
          failover: options.failover,
          timeoutMs: options.timeoutMs,
        },
        broker,
        machine,
      ),
    );
  });
}

function registerReport(bench: Command): void {
  bench
    .command('report <files...>')
    .description('markdown tables (spool vs peers, spool bench runs, machine, commands) from JSON Lines files')
    .option('--readme <file>', `replace the text between ${RESULTS_START} and ${RESULTS_END} in this file instead of printing`)
    .action((files: string[], options: { readme?: string }) => {
      const markdown = formatReport(files.map((name) => ({ name, text: readFileSync(name, 'utf8') })));
      if (options.readme === undefined) process.stdout.write(`${markdown}\n`);
      else writeFileSync(options.readme, replaceBetweenMarkers(readFileSync(options.readme, 'utf8'), markdown));
    });
}

/** Exits once stdout has taken the output: a worker or socket left behind never keeps it alive. */
async function exitWhenFlushed(): Promise<void> {
  await new Promise<void>((resolve) => {
    if (process.stdout.destroyed || !process.stdout.writable) resolve();
    else process.stdout.write('', () => resolve());
  });
  process.exit(process.exitCode ?? 0);
}

const program = new Command();
program
  .name(BENCH_COMMAND)
  .description('end-to-end benchmarks of spool through the SDK (own broker process unless --broker is given)')
  .option('--broker <host:port>', 'benchmark this running broker instead (env SPOOL_BROKER)', process.env['SPOOL_BROKER'] ?? '127.0.0.1:9400')
  .configureOutput({ outputError: (text, write) => write(`bench: ${text.replace(/^error: /, '')}`) });
registerBench(program);
for (const command of program.commands) command.hook('postAction', exitWhenFlushed);
program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${formatError(error)}\n`);
  process.exit(1);
});
