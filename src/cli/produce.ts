// `spool produce <topic>`: one message per stdin line. stdin is read as a stream of
// chunks and split into lines as Buffers (no per-line string decoding); each chunk's
// lines go out as one send() without waiting for it, with a bounded number of sends in
// flight, so 100k lines take well under a second of CLI work. A summary (count and the
// offset range per partition) goes to stderr at the end.

import { Command, Option } from 'commander';
import type { Readable } from 'node:stream';
import { choiceOption, collectKeyValue, integerOption, parseAcks, parseBytes, parseDurationMs, type Acks } from './args.js';
import { connect, topicOf, type Connection } from './connect.js';
import { decodeBytes, ENCODINGS, parseDelimiter, type Encoding } from './message-format.js';
import { describeTopicPartitions } from './topic-info.js';

/**
 * Splits a byte stream into lines (\n, with a trailing \r dropped) as Buffer views, calling
 * onLine for each and onChunkEnd after each chunk. A last line without a newline is still a
 * line; the empty "line" after a final newline is not.
 */
export async function forEachLine(
  input: Readable,
  onLine: (line: Buffer) => Promise<void> | void,
  onChunkEnd: () => Promise<void> | void,
  shouldStop: () => boolean,
  delimiter: Buffer = NEWLINE_DELIMITER,
): Promise<void> {
  // Only the newline delimiter drops a trailing \r (files written on Windows).
  const dropCarriageReturn = delimiter.equals(NEWLINE_DELIMITER);
  let carry: Buffer | null = null;
  for await (const piece of input as AsyncIterable<Buffer | string>) {
    if (shouldStop()) return;
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    const data: Buffer = carry !== null ? Buffer.concat([carry, chunk]) : chunk;
    let lineStart = 0;
    for (let newline = data.indexOf(delimiter, lineStart); newline !== -1; newline = data.indexOf(delimiter, lineStart)) {
      const lineEnd = dropCarriageReturn && newline > lineStart && data[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      const pending = onLine(data.subarray(lineStart, lineEnd));
      if (pending !== undefined) await pending; // only when a send must wait: no promise per line
      lineStart = newline + delimiter.length;
    }
    carry = lineStart < data.length ? data.subarray(lineStart) : null;
    await onChunkEnd();
  }
  if (carry !== null && !shouldStop()) {
    await onLine(dropCarriageReturn && carry[carry.length - 1] === CARRIAGE_RETURN ? carry.subarray(0, carry.length - 1) : carry);
  }
}

/** Sends awaited in flight at most; a slow broker then slows stdin reading (backpressure). */
const MAX_SENDS_IN_FLIGHT = 32;
/** Lines per send() call at most. */
const MAX_MESSAGES_PER_SEND = 4096;
const NEWLINE_DELIMITER = Buffer.from('\n');
const CARRIAGE_RETURN = 0x0d;

interface ProduceOptions {
  topic?: string;
  key?: string;
  keySeparator?: string;
  partition?: number;
  header?: Array<[string, string]>;
  acks: Acks;
  lingerMs?: number;
  batchBytes?: number;
  compression: 'none' | 'gzip';
  delimiter: Buffer;
  encoding: Encoding;
}

interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer;
  headers?: Record<string, string>;
  partition?: number;
}

export function registerProduce(program: Command): void {
  program
    .command('produce [topic]')
    .option('-t, --topic <topic>', 'the topic (instead of the argument, kcat style)')
    .description('send one message per stdin line (summary on stderr)')
    .option('-k, --key <key>', 'the same key for every message')
    .option('-K, --key-separator <separator>', 'split each line at the first separator into key and value')
    .option('-p, --partition <p>', 'send every message to this partition', integerOption('--partition'))
    .option('-D, --delimiter <delimiter>', 'split stdin at this instead of newlines (escapes \\n \\t \\0 \\xNN)', parseDelimiter, NEWLINE_DELIMITER)
    .addOption(
      new Option('--encoding <encoding>', 'how keys and values on stdin (and --key) are written: utf8, hex, base64')
        .argParser(choiceOption('--encoding', ENCODINGS))
        .default('utf8'),
    )
    .option('--header <key=value>', 'a header on every message (repeatable)', collectKeyValue('--header key=value'))
    .option('--acks <acks>', 'wait for: 0 nothing, 1 the write, all the write and the fsync policy', parseAcks, 'all' as Acks)
    .option('--linger-ms <ms>', 'how long the producer waits to fill a batch', parseDurationMs)
    .option('--batch-bytes <size>', 'largest batch the producer builds per partition (e.g. 256KiB)', parseBytes)
    .addOption(
      new Option('--compression <codec>', 'batch compression').argParser(choiceOption('--compression', ['none', 'gzip'] as const)).default('none'),
    )
    .action(async (topicArgument: string | undefined, options: ProduceOptions, command: Command) => {
      const topic = topicOf(topicArgument, options.topic, command);
      if (options.key !== undefined && options.keySeparator !== undefined) {
        command.error('--key and --key-separator cannot be used together');
      }
      if (options.keySeparator === '') command.error('--key-separator must not be empty');
      const connection = connect(command, 'spool-produce');
      try {
        await produce(connection, topic, options, process.stdin);
      } finally {
        await connection.close();
      }
    });
}

interface PartitionSummary {
  count: number;
  firstOffset: number;
  lastOffset: number;
}

async function produce(connection: Connection, topic: string, options: ProduceOptions, input: Readable): Promise<void> {
  const partitions = await describeTopicPartitions(connection, topic);
  if (options.partition !== undefined && options.partition >= partitions) {
    throw new Error(`topic ${topic} has ${partitions} partition${partitions === 1 ? '' : 's'}; --partition ${options.partition} does not exist`);
  }
  const producer = connection.client.producer({
    acks: options.acks,
    compression: options.compression,
    ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
    ...(options.batchBytes !== undefined ? { batchBytes: options.batchBytes } : {}),
  });
  const window = new SendWindow((messages) => producer.send({ topic, messages }));
  const toMessage = messageBuilder(options);
  let batch: OutgoingMessage[] = [];
  let lineCount = 0;
  const sendBatch = async (): Promise<void> => {
    if (batch.length === 0) return;
    window.send(batch);
    batch = [];
    await window.waitForRoom();
  };

  // Ctrl-C while typing (or while a pipe is still feeding): stop reading, but still send
  // and flush what was read, print the summary, and exit 130.
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    input.destroy();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await forEachLine(
      input,
      (line) => {
        batch.push(toMessage(line));
        lineCount++;
        return batch.length >= MAX_MESSAGES_PER_SEND ? sendBatch() : undefined;
      },
      // Send what each chunk completed, so an interactive user sees each line go out promptly.
      sendBatch,
      () => window.failure !== null,
      options.delimiter,
    );
  } catch (error) {
    // Destroying stdin on a signal ends the stream with a premature-close error: expected.
    if (!interrupted) throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) process.exitCode = 130;
  if (window.failure === null) await sendBatch();
  await window.drain();
  try {
    if (window.failure === null) await producer.flush();
  } finally {
    await producer.close().catch((error: unknown) => window.fail(error));
  }
  process.stderr.write(formatSummary(topic, window.sent, window.summary, options.acks));
  if (window.failure !== null) {
    if (window.sent < lineCount) process.stderr.write(`spool: ${lineCount - window.sent} of ${lineCount} lines read were not acknowledged\n`);
    throw window.failure;
  }
}

/** Line -> message per the key, separator, header and partition options. */
function messageBuilder(options: ProduceOptions): (line: Buffer) => OutgoingMessage {
  const headers = options.header && options.header.length > 0 ? Object.fromEntries(options.header) : undefined;
  const separator = options.keySeparator !== undefined ? parseDelimiter(options.keySeparator) : undefined;
  const key = options.key !== undefined ? decodeBytes(Buffer.from(options.key, 'utf8'), options.encoding, '--key') : undefined;
  return (line) => {
    const message: OutgoingMessage = { value: line };
    if (separator !== undefined) {
      const at = line.indexOf(separator);
      // A line without the separator has no key: the whole line is the value.
      if (at !== -1) {
        message.key = decodeBytes(line.subarray(0, at), options.encoding, 'a key');
        message.value = line.subarray(at + separator.length);
      }
    } else if (key !== undefined) message.key = key;
    message.value = decodeBytes(message.value, options.encoding, 'a value');
    if (headers !== undefined) message.headers = headers;
    if (options.partition !== undefined) message.partition = options.partition;
    return message;
  };
}

/**
 * send() calls in flight without awaiting each: at most MAX_SENDS_IN_FLIGHT, the first
 * failure kept (later sends are not started), acknowledged offsets tallied per partition.
 */
class SendWindow {
  readonly summary = new Map<number, PartitionSummary>();
  sent = 0;
  failure: unknown = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly sendMessages: (messages: OutgoingMessage[]) => Promise<Array<{ partition: number; offset: number }>>) {}

  send(messages: OutgoingMessage[]): void {
    const tracked: Promise<void> = this.sendMessages(messages)
      .then(
        (results) => {
          this.sent += results.length;
          recordResults(this.summary, results);
        },
        (error: unknown) => this.fail(error),
      )
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  fail(error: unknown): void {
    this.failure ??= error;
  }

  async waitForRoom(): Promise<void> {
    while (this.inFlight.size >= MAX_SENDS_IN_FLIGHT && this.failure === null) await Promise.race(this.inFlight);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

function recordResults(summary: Map<number, PartitionSummary>, results: Array<{ partition: number; offset: number }>): void {
  for (const result of results) {
    const entry = summary.get(result.partition);
    if (entry === undefined) summary.set(result.partition, { count: 1, firstOffset: result.offset, lastOffset: result.offset });
    else {
      entry.count++;
      if (result.offset < entry.firstOffset) entry.firstOffset = result.offset;
      if (result.offset > entry.lastOffset) entry.lastOffset = result.offset;
    }
  }
}

export function formatSummary(topic: string, count: number, summary: Map<number, PartitionSummary>, acks: Acks): string {
  const lines = [`produced ${count} message${count === 1 ? '' : 's'} to ${topic}${acks === 0 ? ' (acks=0: offsets not known)' : ''}`];
  if (acks !== 0) {
    for (const [partition, entry] of [...summary.entries()].sort((a, b) => a[0] - b[0])) {
      lines.push(`  partition ${partition}: ${entry.count} message${entry.count === 1 ? '' : 's'}, offsets ${entry.firstOffset}..${entry.lastOffset}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
