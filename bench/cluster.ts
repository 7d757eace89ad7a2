// `npx tsx bench/cluster.ts [--messages N] [--lease-ttl-ms MS] [--tiny] [--json]` (after
// `npm run build`; needs Debian's etcd-server): W1 with acks=all and RF 3, and failover time,
// against a 3-broker cluster it starts itself (etcd + three `spool serve --cluster`, ports 0,
// temp dirs, removed afterwards). What and how: bench/harness/cluster-bench.ts. --tiny is the
// CI smoke size (20,000 messages, TTL 2 s); the default is W1's 1,000,000 messages with the
// default lease TTL (6 s). Exits 1 if the checker finds an acknowledged message lost.

import { Command } from 'commander';
import { formatClusterBench, FULL, runClusterBench, TINY } from './harness/cluster-bench.js';

const program = new Command('cluster-bench')
  .option('--messages <n>', 'W1 messages (default 1,000,000; 20,000 with --tiny)', (value: string) => Number(value))
  .option('--lease-ttl-ms <ms>', 'broker lease TTL (default 6000; 2000 with --tiny)', (value: string) => Number(value))
  .option('--tiny', 'CI smoke size')
  .option('--json', 'one JSON object instead of the table')
  .parse();
const flags = program.opts<{ messages?: number; leaseTtlMs?: number; tiny?: boolean; json?: boolean }>();
const options = { ...(flags.tiny === true ? TINY : FULL) };
if (flags.messages !== undefined) options.messages = flags.messages;
if (flags.leaseTtlMs !== undefined) options.leaseTtlMs = flags.leaseTtlMs;
if (!Number.isSafeInteger(options.messages) || options.messages < 1) throw new Error('--messages must be a positive integer');

const result = await runClusterBench(options);
console.log(flags.json === true ? JSON.stringify({ options, ...result }) : formatClusterBench(result, options));
process.exitCode = result.failover.lost > 0 ? 1 : 0;
