// `npx tsx bench/cluster.ts [--messages N] [--share-messages N] [--share-consumers N]
// [--lease-ttl-ms MS] [--tiny] [--json]` (after `npm run build`; needs Debian's
// etcd-server): W1 with acks=all and RF 3, a share group's drain over three leaders, and failover time,
// against a 3-broker cluster it starts itself (etcd + three `spool serve --cluster`, ports 0,
// temp dirs, removed afterwards). What and how: bench/harness/cluster-bench.ts. --tiny is the
// CI smoke size (20,000 messages, TTL 2 s); the default is W1's 1,000,000 messages with the
// default lease TTL (6 s). Exits 1 if the checker finds an acknowledged message lost.

import { Command } from 'commander';
import { formatClusterBench, FULL, runClusterBench, TINY } from './harness/cluster-bench.js';

const program = new Command('cluster-bench')
  .option('--messages <n>', 'W1 messages (default 1,000,000; 20,000 with --tiny)', (value: string) => Number(value))
  .option('--share-messages <n>', 'records the share group drains (default 300,000; 6,000 with --tiny)', (value: string) => Number(value))
  .option('--share-consumers <n>', 'share consumers (default 4; 2 with --tiny)', (value: string) => Number(value))
  .option('--lease-ttl-ms <ms>', 'broker lease TTL (default 6000; 2000 with --tiny)', (value: string) => Number(value))
  .option('--tiny', 'CI smoke size')
  .option('--json', 'one JSON object instead of the table')
  .parse();
const flags = program.opts<{ messages?: number; shareMessages?: number; shareConsumers?: number; leaseTtlMs?: number; tiny?: boolean; json?: boolean }>();
const options = { ...(flags.tiny === true ? TINY : FULL) };
if (flags.messages !== undefined) options.messages = flags.messages;
if (flags.leaseTtlMs !== undefined) options.leaseTtlMs = flags.leaseTtlMs;
if (flags.shareMessages !== undefined) options.shareMessages = flags.shareMessages;
if (flags.shareConsumers !== undefined) options.shareConsumers = flags.shareConsumers;
for (const [flag, value] of [['--messages', options.messages], ['--share-messages', options.shareMessages], ['--share-consumers', options.shareConsumers]] as const) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer`);
}

const result = await runClusterBench(options);
console.log(flags.json === true ? JSON.stringify({ options, ...result }) : formatClusterBench(result, options));
process.exitCode = result.failover.lost > 0 ? 1 : 0;
