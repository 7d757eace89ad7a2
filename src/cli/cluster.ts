// `spool cluster describe`: the broker, its version, and how many topics, partitions and
// groups it holds (the SDK's admin().describeCluster()).

import type { Command } from 'commander';
import { withConnection } from './connect.js';
import { adminFormatOption, writeResult, type AdminFormat } from './output.js';

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('describe the cluster (one broker)');
  cluster
    .command('describe')
    .description('brokers, version, and counts of topics, partitions and groups')
    .addOption(adminFormatOption())
    .action(async (options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const description = await connection.request(() => connection.client.admin().describeCluster());
        writeResult(options.format, description, () =>
          [
            ...description.brokers.map((broker) => `broker ${broker.nodeId}: ${broker.host}:${broker.port}${broker.nodeId === description.controller ? ' (controller)' : ''}`),
            `version: ${description.brokerVersion}`,
            `topics: ${description.topics}`,
            `partitions: ${description.partitions}`,
            `groups: ${description.groups}`,
            '',
          ].join('\n'),
        );
      });
    });
}
