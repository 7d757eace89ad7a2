// `spool consume <topic>`: prints messages to stdout, one per line (text: the value; json:
// one object). Without --group every partition (or --partition P) is assigned directly;
// with --group the consumer joins the group via subscribe. stdout is written with
// backpressure (a slow reader slows fetching) and a closed pipe (`| head`) is a quiet stop.
// Stops after --max-messages, after --timeout-ms without a message, or on SIGINT/SIGTERM;
// in every case the consumer is closed (leaving the group and committing) before exit.

import { Command, InvalidArgumentError, Option } from 'commander';
import type { ConsumedMessage } from '../client/index.js';
import { choiceOption, integerOption, parseDurationMs, parseInteger, parseIsoTime } from './args.js';
import { ENCODINGS, messageFormatter, parseDelimiter, parseFormat, type Encoding } from './message-format.js';
import { connect, topicOf, settleWithin, type Connection } from './connect.js';
import { OutputWriter } from './output.js';
import { consumeShared } from './consume-share.js';
import { describeTopicPartitions } from './topic-info.js';

/** --offset: an absolute offset, a count back from the end (-10), or end/beginning. */
export type OffsetOption = { kind: 'absolute'; offset: number } | { kind: 'fromEnd'; count: number } | { kind: 'end' } | { kind: 'beginning' };

export function parseOffsetOption(value: string): OffsetOption {
  const text = value.trim();
  if (text === 'end' || text === 'latest') return { kind: 'end' };
  if (text === 'beginning' || text === 'earliest') return { kind: 'beginning' };
  if (/^-\d+$/.test(text)) return { kind: 'fromEnd', count: parseInteger(text.slice(1), '--offset -N') };
  if (/^\d+$/.test(text)) return { kind: 'absolute', offset: parseInteger(text, '--offset') };
  throw new InvalidArgumentError(`--offset must be an offset, -N (N before the end), end or beginning, got '${value}'`);
}

interface ConsumeOptions {
  topic?: string;
  group?: string;
  shareGroup?: string;
  sessionTimeoutMs?: number;
  fromBeginning?: boolean;
  offset?: OffsetOption;
  fromTime?: number;
  partition?: number;
  maxMessages?: number;
  timeoutMs?: number;
  exitAtEnd?: boolean;
  format: string;
  encoding: Encoding;
  delimiter: Buffer;
}

export function registerConsume(program: Command): void {
  program
    .command('consume [topic]')
    .option('-t, --topic <topic>', 'the topic (instead of the argument, kcat style)')
    .description('print messages to stdout, one per line')
    .option('-G, --group <group>', 'join this consumer group (partitions are shared, offsets committed)')
    .option('--share-group <group>', 'join this share group: records are shared one by one among its members, each acknowledged once printed')
    .option('--session-timeout-ms <ms>', 'group session timeout', parseDurationMs)
    .option('--from-beginning', 'start at the earliest offset (default: only new messages)')
    .option('-o, --offset <n>', 'start at: an offset, -N (N before the end), end, beginning (in each consumed partition)', parseOffsetOption)
    .option('--from-time <iso>', 'start at the first message with a timestamp >= this ISO-8601 time', parseIsoTime)
    .option('-p, --partition <p>', 'consume only this partition (default: all partitions)', integerOption('--partition'))
    .option('-c, --max-messages <n>', 'exit after this many messages', integerOption('--max-messages', 1))
    .option('--timeout-ms <ms>', 'exit when no message arrives for this long', parseDurationMs)
    .option('-e, --exit-at-end', 'exit once every assigned partition is read up to its end (as of the start)')
    .option('-f, --format <format>', "text (the value), json (one object), or a template like '%k %v %p %o %T %h'", parseFormat, 'text')
    .addOption(
      new Option('--encoding <encoding>', 'how keys, values and header values are printed')
        .argParser(choiceOption('--encoding', ENCODINGS))
        .default('utf8'),
    )
    .option('-D, --delimiter <delimiter>', 'written after each message (escapes \\n \\t \\0 \\xNN)', parseDelimiter, Buffer.from('\n'))
    .action(async (topicArgument: string | undefined, options: ConsumeOptions, command: Command) => {
      const topic = topicOf(topicArgument, options.topic, command);
      const starts = [options.fromBeginning === true, options.offset !== undefined, options.fromTime !== undefined].filter(Boolean).length;
      if (starts > 1) command.error('use only one of --from-beginning, --offset, --from-time');
      if (options.group !== undefined && (options.offset !== undefined || options.fromTime !== undefined || options.partition !== undefined)) {
        command.error('--offset, --from-time and --partition cannot be used with --group (the group assigns partitions; use `spool group reset`)');
      }
      if (options.sessionTimeoutMs !== undefined && options.group === undefined) command.error('--session-timeout-ms needs --group');
      if (options.timeoutMs !== undefined && options.timeoutMs < 0) command.error('--timeout-ms must be >= 0');
      if (options.shareGroup !== undefined && (options.group !== undefined || starts > 0 || options.partition !== undefined)) {
        command.error('--share-group takes no --group, --partition or start position (the share group tracks what is done)');
      }
      const connection = connect(command, 'spool-consume');
      try {
        if (options.shareGroup !== undefined) {
          const formatter = messageFormatter(options.format, options.encoding);
          const delimiter = options.delimiter.toString('utf8');
          const format = (message: ConsumedMessage): string => `${formatter(message)}${delimiter}`;
          await consumeShared(connection, topic, { shareGroup: options.shareGroup, format, ...(options.maxMessages !== undefined ? { maxMessages: options.maxMessages } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
          return;
        }
        await consume(connection, topic, options);
      } finally {
        await connection.close();
      }
    });
}

type Consumer = ReturnType<Connection['client']['consumer']>;

async function consume(connection: Connection, topic: string, options: ConsumeOptions): Promise<void> {
  const partitions = await describeTopicPartitions(connection, topic);
  if (options.partition !== undefined && options.partition >= partitions) {
    throw new Error(`topic ${topic} has ${partitions} partition${partitions === 1 ? '' : 's'}; --partition ${options.partition} does not exist`);
  }
  const selected = options.partition !== undefined ? [options.partition] : Array.from({ length: partitions }, (_, index) => index);
  // -e: the end of every partition as of now; a partition is done once read up to it.
  const ends = options.exitAtEnd === true ? await endOffsets(connection, topic) : null;
  const consumer = connection.client.consumer({
    ...(options.group !== undefined ? { groupId: options.group } : {}),
    ...(options.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
  });
  const out = new OutputWriter(process.stdout);
  const stopper = new Stopper();
  out.onClosed(() => stopper.stop());
  const onSignal = (): void => stopper.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stopWatchingBroker = watchBroker(connection);
  try {
    await position(connection, consumer, topic, selected, options);
    const atEnd = ends !== null ? new EndTracker(consumer, topic, ends, stopper) : null;
    try {
      await pump(consumer, out, stopper, options, atEnd);
    } finally {
      atEnd?.dispose();
    }
  } finally {
    stopWatchingBroker();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopper.dispose();
    // Closing leaves the group and commits; bounded so a broken connection cannot hang exit.
    await settleWithin(consumer.close(), 5000);
    await out.end();
  }
}

async function endOffsets(connection: Connection, topic: string): Promise<Map<number, number>> {
  const offsets = await connection.request(() => connection.client.admin().listOffsets({ topic, timestamp: 'latest' }));
  return new Map(offsets.map((entry) => [entry.partition, entry.offset]));
}

/**
 * One stderr line when the broker goes away while consuming and one when it is back, so a
 * user sees an outage instead of a silent terminal (the client keeps retrying meanwhile).
 */
function watchBroker(connection: Connection): () => void {
  let down = false;
  const onDown = (event: { broker?: string; error?: unknown }): void => {
    if (down || event.error === undefined) return;
    down = true;
    const reason = event.error instanceof Error ? `: ${event.error.message}` : '';
    process.stderr.write(`spool: warning: lost the broker at ${connection.address}${reason}; retrying\n`);
  };
  const onUp = (): void => {
    if (!down) return;
    down = false;
    process.stderr.write(`spool: broker at ${connection.address} is back\n`);
  };
  const client = connection.client as unknown as NodeJS.EventEmitter;
  client.on('disconnect', onDown);
  client.on('connect.error', onDown);
  client.on('connect', onUp);
  return () => {
    client.off('disconnect', onDown);
    client.off('connect.error', onDown);
    client.off('connect', onUp);
  };
}

/** Subscribes (group) or assigns partitions at the requested start, resolved to offsets. */
async function position(connection: Connection, consumer: Consumer, topic: string, selected: number[], options: ConsumeOptions): Promise<void> {
  if (options.group !== undefined) {
    await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning === true });
    return;
  }
  const offset = options.offset;
  let starts: (partition: number) => number | 'earliest' | 'latest' = () => (options.fromBeginning === true ? 'earliest' : 'latest');
  if (offset?.kind === 'absolute') starts = () => offset.offset;
  else if (offset?.kind === 'end') starts = () => 'latest';
  else if (offset?.kind === 'beginning') starts = () => 'earliest';
  else if (offset?.kind === 'fromEnd') {
    const admin = connection.client.admin();
    const [earliest, latest] = await connection.request(() =>
      Promise.all([admin.listOffsets({ topic, timestamp: 'earliest' }), admin.listOffsets({ topic, timestamp: 'latest' })]),
    );
    const first = new Map(earliest.map((entry) => [entry.partition, entry.offset]));
    const end = new Map(latest.map((entry) => [entry.partition, entry.offset]));
    // Never before the log start: -10 on a partition holding 4 messages reads those 4.
    starts = (partition) => Math.max(first.get(partition) ?? 0, (end.get(partition) ?? 0) - offset.count);
  }
  await consumer.assign(selected.map((partition) => ({ topic, partition, offset: starts(partition) })));
  if (options.fromTime !== undefined) {
    const timestamp = options.fromTime;
    await Promise.all(selected.map(async (partition) => consumer.seekToTimestamp({ topic, partition, timestamp })));
  }
}

/** How often -e looks at positions that moved without a message (e.g. past a compacted tail). */
const END_CHECK_INTERVAL_MS = 100;

/**
 * -e: stops the consumer once every assigned partition's position has reached the end
 * offset taken at the start. Messages at or past that end are not printed, so the output is
 * exactly the partitions' contents as of the start. Checked after each message and on a
 * short timer (an empty partition, or a group's assignment arriving later).
 */
class EndTracker {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly consumer: Consumer,
    private readonly topic: string,
    private readonly ends: Map<number, number>,
    private readonly stopper: Stopper,
  ) {
    this.timer = setInterval(() => this.check(), END_CHECK_INTERVAL_MS);
    this.check();
  }

  /** False for a message past its partition's end (not to be printed). */
  wanted(message: ConsumedMessage): boolean {
    return message.offset < (this.ends.get(message.partition) ?? Number.POSITIVE_INFINITY);
  }

  check(): void {
    const assigned = this.consumer.assigned().filter((entry) => entry.topic === this.topic);
    if (assigned.length === 0) return; // a group member before its first assignment
    for (const entry of assigned) {
      const position = this.consumer.position(entry);
      const end = this.ends.get(entry.partition) ?? 0;
      if (position < 0 || position < end) return;
    }
    this.stopper.stop();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

const STOPPED = Symbol('stopped');
const IDLE = Symbol('idle');

/** One promise that resolves when the user (SIGINT), the pipe (EPIPE) or the idle timer says stop. */
class Stopper {
  readonly stopped: Promise<typeof STOPPED | typeof IDLE>;
  private resolveStop!: (reason: typeof STOPPED | typeof IDLE) => void;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();

  constructor() {
    this.stopped = new Promise((resolve) => (this.resolveStop = resolve));
  }

  stop(): void {
    this.resolveStop(STOPPED);
  }

  /** Starts the idle timer: one timer re-armed for the remaining time, not one per message. */
  watchIdle(timeoutMs: number): void {
    const check = (): void => {
      const idleMs = Date.now() - this.lastActivity;
      if (idleMs >= timeoutMs) this.resolveStop(IDLE);
      else this.idleTimer = setTimeout(check, timeoutMs - idleMs);
    };
    this.lastActivity = Date.now();
    this.idleTimer = setTimeout(check, timeoutMs);
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  dispose(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
  }
}

async function pump(consumer: Consumer, out: OutputWriter, stopper: Stopper, options: ConsumeOptions, atEnd: EndTracker | null): Promise<void> {
  const format = messageFormatter(options.format, options.encoding);
  const delimiter = options.delimiter.toString('utf8');
  // kcat habit: a template that already ends with a newline gets no second delimiter.
  const separator = options.format !== 'text' && options.format !== 'json' && /\\n$/.test(options.format) && delimiter === '\n' ? '' : delimiter;
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  if (options.timeoutMs !== undefined) stopper.watchIdle(options.timeoutMs);
  const iterator = consumer[Symbol.asyncIterator]();
  let count = 0;
  while (count < maxMessages) {
    const next = iterator.next();
    const result = await Promise.race([next, stopper.stopped]);
    if (result === STOPPED || result === IDLE) {
      // The pending next() settles when the consumer closes; its outcome no longer matters.
      next.catch(() => undefined);
      return;
    }
    if (result.done === true) return;
    if (atEnd !== null && !atEnd.wanted(result.value)) {
      atEnd.check();
      continue;
    }
    out.write(`${format(result.value)}${separator}`);
    count++;
    stopper.touch();
    atEnd?.check();
    if (out.mustWait) {
      await Promise.race([out.drained(), stopper.stopped]);
      stopper.touch();
    }
    if (out.closed) return;
  }
}
