// `spool dlq list|replay|purge <group>`: the dead-letter topic `<group>.dlq` of a share group
// (src/groups/README.md "Share groups"). Replay and purge read the DLQ as the share group
// `<group>.dlq-replay`, so a record replayed or purged is accepted there and never handled
// twice (running replay again continues where the last one stopped); list shows every
// record of the topic.

import type { Command } from 'commander';
import type { ConsumedMessage, ShareMessage } from '../client/index.js';
import { integerOption } from './args.js';
import { withConnection, type Connection } from './connect.js';
import { formatTable } from './output.js';

const DLQ_HEADER_PREFIX = 'spool.dlq.';
/** Replay/purge stop when no record arrives for this long (the DLQ is drained). */
const IDLE_MS = 500;

const dlqTopic = (group: string): string => `${group}.dlq`;
const replayGroup = (group: string): string => `${group}.dlq-replay`;

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('dead letters of a share group: list, replay, purge');

  dlq
    .command('list <group>')
    .description('every record of <group>.dlq: origin, deliveries, last error')
    .option('--max <n>', 'show at most this many', integerOption('--max', 1))
    .action(async (group: string, options: { max?: number }, command: Command) => {
      await withConnection(command, async (connection) => {
        const rows: Array<Array<string | number>> = [];
        await readDlq(connection, group, options.max, (message) => {
          const header = (name: string): string => message.headers[DLQ_HEADER_PREFIX + name]?.toString('utf8') ?? '';
          rows.push([message.offset, `${header('topic')}/${header('partition')}@${header('offset')}`, header('delivery-count'), header('error'), message.value?.toString('utf8') ?? 'null']);
        });
        if (rows.length > 0) process.stdout.write(formatTable(['OFFSET', 'ORIGIN', 'DELIVERIES', 'ERROR', 'VALUE'], rows));
      });
    });

  dlq
    .command('replay <group>')
    .description('republish dead letters to their origin topic and partition (or --to-topic) and mark them replayed')
    .option('--to-topic <topic>', 'republish here instead of the origin topic')
    .option('--max <n>', 'replay at most this many', integerOption('--max', 1))
    .action(async (group: string, options: { toTopic?: string; max?: number }, command: Command) => {
      await withConnection(command, async (connection) => {
        const producer = connection.client.producer({ acks: 'all' });
        try {
          const count = await drain(connection, group, options.max, async (message) => {
            const origin = message.headers[`${DLQ_HEADER_PREFIX}topic`]?.toString('utf8');
            const partition = Number(message.headers[`${DLQ_HEADER_PREFIX}partition`]?.toString('utf8'));
            const topic = options.toTopic ?? origin;
            if (topic === undefined) throw new Error(`dead letter at offset ${message.offset} has no ${DLQ_HEADER_PREFIX}topic header; use --to-topic`);
            const headers = message.headerList.filter(([name]) => !name.startsWith(DLQ_HEADER_PREFIX));
            await producer.send({
              topic,
              messages: [{ key: message.key, value: message.value, headers, timestamp: message.timestamp, ...(options.toTopic === undefined && Number.isInteger(partition) ? { partition } : {}) }],
            });
          });
          process.stdout.write(`replayed ${count} dead letter(s) of ${group}\n`);
        } finally {
          await producer.close();
        }
      });
    });

  dlq
    .command('purge <group>')
    .description('mark every dead letter handled without republishing it')
    .action(async (group: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        const count = await drain(connection, group, undefined, async () => {});
        process.stdout.write(`purged ${count} dead letter(s) of ${group}\n`);
      });
    });
}

/** Reads <group>.dlq from the start to its current end (no group). */
async function readDlq(connection: Connection, group: string, max: number | undefined, each: (message: ConsumedMessage) => void): Promise<void> {
  const topic = dlqTopic(group);
  const [end] = await connection.request(() => connection.client.admin().listOffsets({ topic }));
  const endOffset = end?.offset ?? 0;
  if (endOffset === 0) return;
  const consumer = connection.client.consumer();
  try {
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    let count = 0;
    for await (const message of consumer) {
      each(message);
      count++;
      if (message.offset + 1 >= endOffset || (max !== undefined && count >= max)) break;
    }
  } finally {
    await consumer.close();
  }
}

/** Handles then accepts each dead letter in the replay share group, until idle or max. */
async function drain(connection: Connection, group: string, max: number | undefined, handle: (message: ShareMessage) => Promise<void>): Promise<number> {
  const consumer = connection.client.shareConsumer({ groupId: replayGroup(group), maxRecords: 100, maxWaitMs: IDLE_MS });
  let count = 0;
  try {
    await consumer.subscribe({ topics: [dlqTopic(group)] });
    const iterator = consumer[Symbol.asyncIterator]();
    while (max === undefined || count < max) {
      let idleTimer: NodeJS.Timeout | undefined;
      const idle = new Promise<'idle'>((resolve) => (idleTimer = setTimeout(() => resolve('idle'), IDLE_MS * 2)));
      const next = iterator.next();
      const result = await Promise.race([next, idle]);
      clearTimeout(idleTimer);
      if (result === 'idle') {
        next.catch(() => undefined);
        break;
      }
      if (result.done === true) break;
      await handle(result.value);
      await result.value.ack();
      count++;
    }
  } finally {
    await consumer.close();
  }
  return count;
}
