// The cluster side of `spool topic` and `spool cluster`, read from and written to etcd
// (--cluster etcd://...), not asked of a broker: `topic describe --cluster` (leader, leader
// epoch, replicas, ISR per partition), `topic reassign` (a partition to new replicas, or every
// replica off a broker) and `cluster elect-leaders --preferred`. The controller carries out the
// requests (src/cluster/README.md "Reassignment and preferred leaders"). The etcd client is
// loaded only when one of these runs.

import { InvalidArgumentError, type Command } from 'commander';
import { integerOption, parseBytes } from './args.js';
import { adminFormatOption, writeResult, type AdminFormat } from './output.js';

type Session = import('../cluster/admin.js').ClusterAdminSession;

async function withSession<T>(url: string, run: (session: Session) => Promise<T>): Promise<T> {
  const { ClusterAdminSession } = await import('../cluster/admin.js');
  const session = await ClusterAdminSession.open(url);
  try {
    return await run(session);
  } finally {
    await session.close();
  }
}

function partitionLines(session: Session, topic?: string): string[] {
  const summary = session.summary();
  const online = new Set(summary.brokers.map((broker) => broker.nodeId));
  return summary.partitions
    .filter((p) => topic === undefined || p.topic === topic)
    .map((p) => {
      const pending = session.view.reassignments.get(`${p.topic}/${p.partition}`);
      const flags = [
        p.leader < 0 || !online.has(p.leader) ? 'offline' : p.isr.length < p.replicas.length ? 'under-replicated' : '',
        p.leader >= 0 && p.leader !== p.replicas[0] ? 'not preferred leader' : '',
        pending ? `reassigning to [${pending.replicas.join(',')}]${pending.throttleBytesPerSecond !== undefined ? ` throttled ${pending.throttleBytesPerSecond} bytes/s` : ''}` : '',
      ].filter((flag) => flag !== '');
      return `  ${p.topic}/${p.partition} leader ${p.leader} epoch ${p.leaderEpoch} replicas [${p.replicas.join(',')}] isr [${p.isr.join(',')}]${flags.length > 0 ? ` (${flags.join(', ')})` : ''}`;
    });
}

/** `spool topic describe <name> --cluster <url>`. */
export async function describeTopicFromEtcd(url: string, name: string, format: AdminFormat): Promise<void> {
  await withSession(url, async (session) => {
    const spec = session.view.topics.get(name);
    if (!spec) throw new Error(`topic ${name} does not exist in the cluster`);
    const summary = session.summary();
    const partitions = summary.partitions
      .filter((p) => p.topic === name)
      .map((p) => {
        const pending = session.view.reassignments.get(`${name}/${p.partition}`);
        return { ...p, reassigningTo: pending?.replicas ?? null, ...(pending?.throttleBytesPerSecond !== undefined ? { throttleBytesPerSecond: pending.throttleBytesPerSecond } : {}) };
      });
    const result = { name, partitions: spec.partitions, replicationFactor: spec.replicationFactor, minInsyncReplicas: spec.minInsyncReplicas, configs: spec.configs, placed: session.view.assignments.has(name), partitionStates: partitions };
    writeResult(format, result, () =>
      [
        `topic ${name}: ${spec.partitions} partitions, replication factor ${spec.replicationFactor}, min.insync.replicas ${spec.minInsyncReplicas}${result.placed ? '' : ' (waiting for placement)'}`,
        ...Object.entries(spec.configs).map(([key, value]) => `  config ${key}=${value}`),
        ...partitionLines(session, name),
        '',
      ].join('\n'),
    );
  });
}

function parseNodeList(value: string): number[] {
  const ids = value.split(',').map((part) => part.trim());
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id))) throw new Error(`--replicas wants node ids separated by commas, got '${value}'`);
  return ids.map(Number);
}

/** `--throttle`: bytes/s (units allowed: 1MiB = 1048576), within the request's limits (values.ts). */
function parseThrottle(value: string): number {
  const bytes = parseBytes(value);
  // The bounds live in cluster/values.ts; repeated here so the CLI does not load the cluster module to parse a flag.
  if (bytes < 1024 || bytes > 2 ** 40) throw new InvalidArgumentError(`--throttle wants bytes/s in [1024, 1TiB], got '${value}'`);
  return bytes;
}

export function registerTopicReassign(topic: Command): void {
  topic
    .command('reassign [name]')
    .description('move a partition to new replicas (--partition P --replicas 1,2,3), or every replica off a broker (--drain-broker N); the controller adds the new replicas, waits until they are in sync, then removes the old ones')
    .requiredOption('--cluster <etcd-url>', 'the cluster (etcd://host:port[,...][/root])')
    .option('--partition <p>', 'the partition to move', integerOption('--partition', 0))
    .option('--replicas <ids>', 'the new replicas, the first the preferred leader', parseNodeList)
    .option('--drain-broker <id>', 'move every replica (of the topic, or of every topic) off this broker', integerOption('--drain-broker', 0))
    .option('--throttle <bytes/s>', 'Kafka\'s --throttle: at most this many bytes/s of catch-up copying per broker (e.g. 10MiB), for replicas not in the ISR, until the move completes (then it is gone on its own)', parseThrottle)
    .option('--no-wait', 'submit and return without waiting for the controller to finish')
    .option('--timeout-ms <ms>', 'how long to wait', integerOption('--timeout-ms', 1))
    .addOption(adminFormatOption())
    .action(async (name: string | undefined, options: { cluster: string; partition?: number; replicas?: number[]; drainBroker?: number; throttle?: number; wait: boolean; timeoutMs?: number; format: AdminFormat }) => {
      await withSession(options.cluster, async (session) => {
        let plans;
        if (options.drainBroker !== undefined) {
          if (options.replicas !== undefined || options.partition !== undefined) throw new Error('--drain-broker takes no --partition or --replicas');
          plans = session.planDrain(options.drainBroker, name);
        } else {
          if (name === undefined || options.partition === undefined || options.replicas === undefined) throw new Error('give a topic, --partition and --replicas (or --drain-broker)');
          plans = [session.planPartition(name, options.partition, options.replicas)];
        }
        await session.submit(plans, options.throttle);
        if (options.wait) await session.waitForReassignments(plans, options.timeoutMs);
        const throttle = options.throttle === undefined ? {} : { throttleBytesPerSecond: options.throttle };
        writeResult(options.format, { reassignments: plans, done: options.wait, ...throttle }, () =>
          [
            ...plans.map((plan) => `${plan.topic}/${plan.partition}: [${plan.from.join(',')}] -> [${plan.to.join(',')}]${options.wait ? ' done' : ' submitted'}`),
            options.throttle === undefined ? '' : options.wait ? `throttle ${options.throttle} bytes/s: cleared (it ends with the reassignment)` : `throttle ${options.throttle} bytes/s until each move completes (then cleared on its own)`,
            ...(options.wait ? partitionLines(session, name) : []),
            plans.length === 0 ? 'nothing to move' : '',
            '',
          ].filter((line, index, lines) => line !== '' || index === lines.length - 1).join('\n'),
        );
      });
    });
}

export function registerElectLeaders(cluster: Command): void {
  cluster
    .command('elect-leaders')
    .description('move leadership back to each partition\'s first replica where it is live and in sync')
    .requiredOption('--cluster <etcd-url>', 'the cluster (etcd://host:port[,...][/root])')
    .requiredOption('--preferred', 'preferred-leader election (the only kind: unclean election is never done)')
    .option('--topic <name>', 'only this topic (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--timeout-ms <ms>', 'how long to wait for the controller', integerOption('--timeout-ms', 1))
    .addOption(adminFormatOption())
    .action(async (options: { cluster: string; topic?: string[]; timeoutMs?: number; format: AdminFormat }) => {
      await withSession(options.cluster, async (session) => {
        await session.electPreferred(options.topic ?? null, options.timeoutMs);
        const topics = options.topic === undefined ? null : new Set(options.topic);
        const partitions = session.summary().partitions.filter((p) => topics === null || topics.has(p.topic));
        const notPreferred = partitions.filter((p) => p.leader !== p.replicas[0]);
        writeResult(options.format, { partitions: partitions.length, notPreferred }, () =>
          [
            `${partitions.length - notPreferred.length} of ${partitions.length} partitions led by their preferred replica`,
            ...notPreferred.map((p) => `  ${p.topic}/${p.partition} leader ${p.leader}, preferred ${p.replicas[0]} ${p.isr.includes(p.replicas[0]!) ? '' : '(not in the ISR)'}`.trimEnd()),
            '',
          ].join('\n'),
        );
      });
    });
}
