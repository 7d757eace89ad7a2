#!/usr/bin/env node
// The `spool` command: one commander program; each command lives in its own module.

import { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerCommands } from './commands.js';

const program = new Command();
program
  .name('spool')
  .description('spool: a Kafka-style append-only log broker')
  .option('--broker <host:port>', 'broker address (env SPOOL_BROKER)', process.env['SPOOL_BROKER'] ?? '127.0.0.1:9400');

registerServe(program);
registerCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`spool: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
