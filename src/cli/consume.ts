// `spool consume <topic>`: prints messages to stdout, one per line (text: the value; json:
// one object). Without --group every partition (or --partition P) is assigned directly;
// with --group the consumer joins the group via subscribe. stdout is written with
// backpressure (a slow reader slows fetching) and a closed pipe (`| head`) is a quiet stop.
// Stops after --max-messages, after --timeout-ms without a message, or on SIGINT/SIGTERM;
// in every case the consumer is closed (leaving the group and committing) before exit.

import { Command, Option } from 'commander';
import type { ConsumedMessage } from '../client/index.js';
import { choiceOption, integerOption, parseDurationMs, parseInteger, parseIsoTime } from './args.js';
import { connect, settleWithin, type Connection } from './connect.js';
import { OutputWriter } from './output.js';
import { consumeShared } from './consume-share.js';
import { describeTopicPartitions } from './topic-info.js';

interface ConsumeOptions {
  group?: string;
  shareGroup?: string;
  sessionTimeoutMs?: number;
  fromBeginning?: boolean;
  offset?: number;
  fromTime?: number;
  partition?: number;
  maxMessages?: number;
  timeoutMs?: number;
  format: 'text' | 'json';
}

export function registerConsume(program: Command): void {
  program
    .command('consume <topic>')
    .description('print messages to stdout, one per line')
    .option('--group <group>', 'join this consumer group (partitions are shared, offsets committed)')
    .option('--share-group <group>', 'join this share group: records are shared one by one among its members, each acknowledged once printed')
    .option('--session-timeout-ms <ms>', 'group session timeout', parseDurationMs)
    .option('--from-beginning', 'start at the earliest offset (default: only new messages)')
    .option('--offset <n>', 'start at this offset (in each consumed partition)', integerOption('--offset'))
    .option('--from-time <iso>', 'start at the first message with a timestamp >= this ISO-8601 time', parseIsoTime)
    .option('--partition <p>', 'consume only this partition (default: all partitions)', integerOption('--partition'))
    .option('--max-messages <n>', 'exit after this many messages', integerOption('--max-messages', 1))
    .option('--timeout-ms <ms>', 'exit when no message arrives for this long', parseDurationMs)
    .addOption(
      new Option('--format <format>', 'text: the value per line; json: one object per line')
        .argParser(choiceOption('--format', ['text', 'json'] as const))
        .default('text'),
    )
    .action(async (topic: string, options: ConsumeOptions, command: Command) => {
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
          const format = options.format === 'json' ? formatJson : formatText;
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
/** The group part of the consumer API (issue 4); checked at run time so this builds before it lands. */
interface GroupConsumer {
  subscribe(options: { topics: string[]; fromBeginning?: boolean }): Promise<void> | void;
}

async function consume(connection: Connection, topic: string, options: ConsumeOptions): Promise<void> {
  const partitions = await describeTopicPartitions(connection, topic);
  if (options.partition !== undefined && options.partition >= partitions) {
    throw new Error(`topic ${topic} has ${partitions} partition${partitions === 1 ? '' : 's'}; --partition ${options.partition} does not exist`);
  }
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
  try {
    await position(consumer, topic, partitions, options);
    await pump(consumer, out, stopper, options);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopper.dispose();
    // Closing leaves the group and commits; bounded so a broken connection cannot hang exit.
    await settleWithin(consumer.close(), 5000);
    await out.end();
  }
}

/** Subscribes (group) or assigns partitions and seeks to the requested start. */
async function position(consumer: Consumer, topic: string, partitions: number, options: ConsumeOptions): Promise<void> {
  if (options.group !== undefined) {
    const groupConsumer = consumer as unknown as Partial<GroupConsumer>;
    if (typeof groupConsumer.subscribe !== 'function') throw new Error('consumer groups are not supported by this client yet');
    await groupConsumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning === true });
    return;
  }
  const selected = options.partition !== undefined ? [options.partition] : Array.from({ length: partitions }, (_, index) => index);
  const start: number | 'earliest' | 'latest' = options.fromBeginning === true ? 'earliest' : (options.offset ?? 'latest');
  await consumer.assign(selected.map((partition) => ({ topic, partition, offset: start })));
  if (options.fromTime !== undefined) {
    const timestamp = options.fromTime;
    await Promise.all(selected.map(async (partition) => consumer.seekToTimestamp({ topic, partition, timestamp })));
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

async function pump(consumer: Consumer, out: OutputWriter, stopper: Stopper, options: ConsumeOptions): Promise<void> {
  const format = options.format === 'json' ? formatJson : formatText;
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
    out.write(format(result.value));
    count++;
    stopper.touch();
    if (out.mustWait) {
      await Promise.race([out.drained(), stopper.stopped]);
      stopper.touch();
    }
    if (out.closed) return;
  }
}

function formatText(message: ConsumedMessage): string {
  return message.value === null ? 'null\n' : `${message.value.toString('utf8')}\n`;
}

/** timestamp is epoch milliseconds (a number); key, value and header values are UTF-8 strings or null. */
function formatJson(message: ConsumedMessage): string {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name] = value.toString('utf8');
  return `${JSON.stringify({
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value === null ? null : message.value.toString('utf8'),
    headers,
  })}\n`;
}
