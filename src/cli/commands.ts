// Registers the client-side commands: topic, produce, consume, group, cluster, acl, quota, dump-segment, completion.
// (serve lives in serve.ts; the benchmarks are bench/cli.ts, outside the package.)
import type { Command } from 'commander';
import { registerAcl } from './acl.js';
import { addClientTlsOptions } from './client-tls.js';
import { registerCluster } from './cluster.js';
import { registerCompletion } from './completion.js';
import { registerConsume } from './consume.js';
import { registerDlq } from './dlq.js';
import { registerDumpSegment } from './dump-segment.js';
import { registerGroup } from './group.js';
import { registerProduce } from './produce.js';
import { registerQuota } from './quota.js';
import { registerTopic } from './topic.js';
import { registerUser } from './user.js';

export function registerCommands(program: Command): void {
  const before = new Set(program.commands);
  registerTopic(program);
  registerProduce(program);
  registerConsume(program);
  registerGroup(program);
  registerCluster(program);
  registerAcl(program);
  registerQuota(program);
  registerUser(program);
  registerDlq(program);
  registerDumpSegment(program);
  registerCompletion(program);
  addClientTlsOptions(program.commands.filter((command) => !before.has(command)));
  // These commands are done when their action returns: exit once stdout has taken the
  // output, so a timer or socket left behind by the SDK can never keep the CLI alive.
  for (const command of program.commands) if (!before.has(command)) command.hook('postAction', exitWhenFlushed);
}

async function exitWhenFlushed(): Promise<void> {
  await new Promise<void>((resolve) => {
    if (process.stdout.destroyed || !process.stdout.writable) resolve();
    else process.stdout.write('', () => resolve());
  });
  process.exit(process.exitCode ?? 0);
}
