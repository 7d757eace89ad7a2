// `spool topic create|list|describe|alter|delete-records|delete`: thin wrappers over the admin API.

import { Command, Option } from 'commander';
import { choiceOption, collectKeyValue, integerOption, parseBytes, parseDurationMs, parseIsoTime } from './args.js';
import { withConnection, type Connection } from './connect.js';
import { adminFormatOption, formatBytes, formatTable, writeResult, type AdminFormat } from './output.js';
import { describeTopicFromEtcd, registerTopicReassign } from './topic-cluster.js';

interface CreateOptions {
  partitions: number;
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  segmentMs?: number;
  cleanupPolicy?: 'delete' | 'compact';
  maxMessageBytes?: number;
  config?: Array<[string, string]>;
  format: AdminFormat;
}

export function registerTopic(program: Command): void {
  const topic = program.command('topic').description('create, list, describe, alter and delete topics; delete records');
  registerTopicReassign(topic);

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
    .addOption(adminFormatOption())
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const config = topicConfig(options);
      await withConnection(command, async (connection) => {
        await connection.request(() =>
          connection.client.admin().createTopics({
            topics: [{ topic: name, numPartitions: options.partitions, ...(Object.keys(config).length > 0 ? { config } : {}) }],
          }),
        );
        writeResult(options.format, { topic: name, partitions: options.partitions, config }, () => `created topic ${name} with ${options.partitions} partition${options.partitions === 1 ? '' : 's'}\n`);
      });
    });

  topic
    .command('list')
    .description('list topic names, one per line')
    .addOption(adminFormatOption())
    .action(async (options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const names = await connection.request(() => connection.client.admin().listTopics());
        const sorted = [...names].sort();
        writeResult(options.format, sorted, () => (sorted.length > 0 ? `${sorted.join('\n')}\n` : ''));
      });
    });

  topic
    .command('describe <name>')
    .description('partitions (start/end offsets, size, segments) and config of a topic')
    .addOption(adminFormatOption())
    .option('--cluster <etcd-url>', 'read leader, leader epoch, replicas and ISR per partition from etcd instead of asking a broker')
    .action(async (name: string, options: { format: AdminFormat; cluster?: string }, command: Command) => {
      if (options.cluster !== undefined) return describeTopicFromEtcd(options.cluster, name, options.format);
      await withConnection(command, async (connection) => {
        const described = await connection.request(() => connection.client.admin().describeTopics({ topics: [name] }));
        const description = described.find((entry) => entry.name === name) ?? described[0];
        if (description === undefined) throw new Error(`topic ${name} was not described by the broker`);
        writeResult(options.format, description, () => formatDescription(description));
      });
    });

  topic
    .command('alter <name>')
    .description('set topic configs (the rest unchanged) and/or grow the partition count')
    .option('--partitions <n>', 'the new partition count (only ever grows)', integerOption('--partitions', 1))
    .option('--config <key=value>', 'a topic config by its Kafka name (repeatable)', collectKeyValue('--config key=value'))
    .addOption(adminFormatOption())
    .action(async (name: string, options: { partitions?: number; config?: Array<[string, string]>; format: AdminFormat }, command: Command) => {
      if (options.partitions === undefined && (options.config ?? []).length === 0) command.error('topic alter needs --config key=value and/or --partitions N');
      const config = configRecord(options.config ?? []);
      await withConnection(command, async (connection) => {
        const admin = connection.client.admin();
        // Config first: a config error leaves the partition count untouched.
        if (Object.keys(config).length > 0) await connection.request(() => admin.alterConfigs({ topics: [{ topic: name, config }] }));
        if (options.partitions !== undefined) {
          const count = options.partitions;
          await connection.request(() => admin.createPartitions({ topicPartitions: [{ topic: name, count }] }));
        }
        const lines = [
          ...Object.entries(config).map(([key, value]) => `set ${key}=${value} on topic ${name}`),
          ...(options.partitions !== undefined ? [`topic ${name} now has ${options.partitions} partitions`] : []),
        ];
        writeResult(options.format, { topic: name, config, ...(options.partitions !== undefined ? { partitions: options.partitions } : {}) }, () => `${lines.join('\n')}\n`);
      });
    });

  topic
    .command('delete-records <name>')
    .description('delete the records before an offset or a time (moves the log start offset)')
    .option('--before-offset <offset>', 'delete records below this offset (in each partition; clamped to its end)', integerOption('--before-offset'))
    .option('--before-time <iso>', 'delete records older than this ISO-8601 time (below the first offset at or after it)', parseIsoTime)
    .option('-p, --partition <p>', 'only this partition (default: every partition)', integerOption('--partition'))
    .addOption(adminFormatOption())
    .action(async (name: string, options: { beforeOffset?: number; beforeTime?: number; partition?: number; format: AdminFormat }, command: Command) => {
      if ((options.beforeOffset === undefined) === (options.beforeTime === undefined)) command.error('topic delete-records needs exactly one of --before-offset, --before-time');
      await withConnection(command, async (connection) => {
        const results = await connection.request(() => deleteRecordsBefore(connection.client.admin(), name, options));
        writeResult(options.format, { topic: name, partitions: results }, () =>
          formatTable(['PARTITION', 'LOG START OFFSET'], results.map((entry) => [entry.partition, entry.lowWatermark])),
        );
      });
    });

  topic
    .command('delete <name>')
    .description('delete a topic and its data')
    .addOption(adminFormatOption())
    .action(async (name: string, options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        await connection.request(() => connection.client.admin().deleteTopics({ topics: [name] }));
        writeResult(options.format, { topic: name, deleted: true }, () => `deleted topic ${name}\n`);
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
  Object.assign(config, configRecord(options.config ?? []));
  return config;
}

/** --config pairs as a config map; integer-looking values as numbers. */
function configRecord(pairs: Array<[string, string]>): Record<string, string | number> {
  const config: Record<string, string | number> = {};
  for (const [key, value] of pairs) config[key] = /^-?\d+$/.test(value) ? Number(value) : value;
  return config;
}

type Admin = ReturnType<Connection['client']['admin']>;

/**
 * Per partition, the offset to delete below: --before-offset as given (clamped into the log,
 * so "everything up to 1000" works on a partition holding 400), or the first offset at or
 * after --before-time (the log end when every record is older).
 */
async function deleteRecordsBefore(admin: Admin, topic: string, options: { beforeOffset?: number; beforeTime?: number; partition?: number }): Promise<Array<{ partition: number; lowWatermark: number }>> {
  const [ends, atTime] = await Promise.all([
    admin.listOffsets({ topic, timestamp: 'latest' }),
    options.beforeTime !== undefined ? admin.listOffsets({ topic, timestamp: options.beforeTime }) : Promise.resolve([]),
  ]);
  if (options.partition !== undefined && !ends.some((entry) => entry.partition === options.partition)) {
    throw new Error(`topic ${topic} has ${ends.length} partition${ends.length === 1 ? '' : 's'}; --partition ${options.partition} does not exist`);
  }
  const timeOffsets = new Map(atTime.map((entry) => [entry.partition, entry.offset]));
  const partitions = ends
    .filter((entry) => options.partition === undefined || entry.partition === options.partition)
    .map((entry) => ({
      partition: entry.partition,
      offset: options.beforeOffset !== undefined ? Math.min(options.beforeOffset, entry.offset) : (timeOffsets.get(entry.partition) ?? entry.offset),
    }));
  return admin.deleteRecords({ topic, partitions });
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
