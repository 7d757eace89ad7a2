// `spool topic create|list|describe|delete`: thin wrappers over the admin API.

import { Command, Option } from 'commander';
import { choiceOption, collectKeyValue, integerOption, parseBytes, parseDurationMs } from './args.js';
import { withConnection } from './connect.js';
import { formatBytes, formatTable } from './output.js';

interface CreateOptions {
  partitions: number;
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  segmentMs?: number;
  cleanupPolicy?: 'delete' | 'compact';
  maxMessageBytes?: number;
  config?: Array<[string, string]>;
}

export function registerTopic(program: Command): void {
  const topic = program.command('topic').description('create, list, describe and delete topics');

  topic
    .command('create <name>')
    .description('create a topic')
    .option('--partitions <n>', 'number of partitions', integerOption('--partitions', 1), 1)
    .option('--retention-ms <duration>', 'delete closed segments older than this (ms, or 30s/5m/12h/7d; -1 = forever)', parseDurationMs)
    .option('--retention-bytes <size>', 'keep at most this many bytes per partition (e.g. 1GiB; -1 = no limit)', parseBytes)
    .option('--segment-bytes <size>', 'roll a segment at this size (e.g. 64MiB)', parseBytes)
    .option('--segment-ms <duration>', 'roll a segment when its first batch is this old', parseDurationMs)
    .addOption(new Option('--cleanup-policy <policy>', 'delete old segments, or compact by key').argParser(choiceOption('--cleanup-policy', ['delete', 'compact'] as const)))
    .option('--max-message-bytes <size>', 'largest record batch accepted', parseBytes)
    .option('--config <key=value>', 'any topic config by its Kafka name (repeatable)', collectKeyValue('--config key=value'))
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const config = topicConfig(options);
      await withConnection(command, async (connection) => {
        await connection.request(() =>
          connection.client.admin().createTopics({
            topics: [{ topic: name, numPartitions: options.partitions, ...(Object.keys(config).length > 0 ? { config } : {}) }],
          }),
        );
        process.stdout.write(`created topic ${name} with ${options.partitions} partition${options.partitions === 1 ? '' : 's'}\n`);
      });
    });

  topic
    .command('list')
    .description('list topic names, one per line')
    .action(async (_options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        const names = await connection.request(() => connection.client.admin().listTopics());
        const sorted = [...names].sort();
        if (sorted.length > 0) process.stdout.write(`${sorted.join('\n')}\n`);
      });
    });

  topic
    .command('describe <name>')
    .description('partitions (start/end offsets, size, segments) and config of a topic')
    .action(async (name: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        const described = await connection.request(() => connection.client.admin().describeTopics({ topics: [name] }));
        const description = described.find((entry) => entry.name === name) ?? described[0];
        if (description === undefined) throw new Error(`topic ${name} was not described by the broker`);
        process.stdout.write(formatDescription(description));
      });
    });

  topic
    .command('delete <name>')
    .description('delete a topic and its data')
    .action(async (name: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        await connection.request(() => connection.client.admin().deleteTopics({ topics: [name] }));
        process.stdout.write(`deleted topic ${name}\n`);
      });
    });
}

/** Kafka config names from the dedicated flags, then --config pairs (which win). */
export function topicConfig(options: CreateOptions): Record<string, string | number> {
  const config: Record<string, string | number> = {};
  if (options.retentionMs !== undefined) config['retention.ms'] = options.retentionMs;
  if (options.retentionBytes !== undefined) config['retention.bytes'] = options.retentionBytes;
  if (options.segmentBytes !== undefined) config['segment.bytes'] = options.segmentBytes;
  if (options.segmentMs !== undefined) config['segment.ms'] = options.segmentMs;
  if (options.cleanupPolicy !== undefined) config['cleanup.policy'] = options.cleanupPolicy;
  if (options.maxMessageBytes !== undefined) config['max.message.bytes'] = options.maxMessageBytes;
  for (const [key, value] of options.config ?? []) config[key] = /^-?\d+$/.test(value) ? Number(value) : value;
  return config;
}

interface TopicDescriptionView {
  name: string;
  config: Record<string, string | number>;
  partitions: Array<{ partition: number; logStartOffset: number; logEndOffset: number; sizeBytes: number; segments: number }>;
}

function formatDescription(description: TopicDescriptionView): string {
  const partitions = [...description.partitions].sort((a, b) => a.partition - b.partition);
  const totalBytes = partitions.reduce((sum, p) => sum + p.sizeBytes, 0);
  const totalMessages = partitions.reduce((sum, p) => sum + (p.logEndOffset - p.logStartOffset), 0);
  const lines = [
    `topic: ${description.name}`,
    `partitions: ${partitions.length}`,
    `size: ${formatBytes(totalBytes)} (${totalBytes} bytes), ${totalMessages} offsets retained`,
    'config:',
    ...Object.keys(description.config)
      .sort()
      .map((key) => `  ${key}=${description.config[key]}`),
    '',
  ];
  const table = formatTable(
    ['PARTITION', 'START', 'END', 'MESSAGES', 'SIZE', 'BYTES', 'SEGMENTS'],
    partitions.map((p) => [p.partition, p.logStartOffset, p.logEndOffset, p.logEndOffset - p.logStartOffset, formatBytes(p.sizeBytes), p.sizeBytes, p.segments]),
  );
  return `${lines.join('\n')}${table}`;
}
