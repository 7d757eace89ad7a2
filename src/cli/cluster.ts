// `spool cluster describe`: the broker, its version, and how many topics, partitions and
// groups it holds (the SDK's admin().describeCluster()). With --cluster etcd://..., the
// cluster as etcd holds it instead: brokers, controller and epoch, each partition's
// replicas, leader and ISR, and the under-replicated and offline counts (src/cluster).

import type { Command } from 'commander';
import { withConnection } from './connect.js';
import { adminFormatOption, writeResult, type AdminFormat } from './output.js';
import { registerElectLeaders } from './topic-cluster.js';

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('describe the cluster (one broker)');
  registerElectLeaders(cluster);
  cluster
    .command('describe')
    .description('brokers, version, and counts of topics, partitions and groups')
    .addOption(adminFormatOption())
    .option('--cluster <etcd-url>', 'read the cluster state from etcd (etcd://host:port[,...][/root]) instead of asking a broker')
    .action(async (options: { format: AdminFormat; cluster?: string }, command: Command) => {
      if (options.cluster !== undefined) {
        await describeFromEtcd(options.cluster, options.format);
        return;
      }
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

async function describeFromEtcd(url: string, format: AdminFormat): Promise<void> {
  // Loaded on demand: the etcd client is heavy and only cluster mode needs it.
  const { readClusterSummary } = await import('../cluster/index.js');
  const summary = await readClusterSummary(url);
  writeResult(format, summary, () =>
    [
      ...summary.brokers.map((broker) => `broker ${broker.nodeId}: ${broker.host}:${broker.port}${broker.nodeId === summary.controller?.nodeId ? ` (controller, epoch ${summary.controller.epoch})` : ''}`),
      summary.controller === null ? 'controller: none' : '',
      `topics: ${summary.topics}${summary.pendingTopics.length > 0 ? ` (waiting for placement: ${summary.pendingTopics.join(', ')})` : ''}`,
      `partitions: ${summary.partitions.length}, under-replicated: ${summary.underReplicated}, offline: ${summary.offline}${summary.reassigning > 0 ? `, reassigning: ${summary.reassigning}` : ''}`,
      ...summary.partitions.map((p) => `  ${p.topic}/${p.partition} leader ${p.leader} epoch ${p.leaderEpoch} replicas [${p.replicas.join(',')}] isr [${p.isr.join(',')}]`),
      '',
    ]
      .filter((line, index, lines) => line !== '' || index === lines.length - 1)
      .join('\n'),
  );
}
