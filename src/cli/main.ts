#!/usr/bin/env node
// The `spool` command: one commander program; each command lives in its own module.
// Every error a user can cause (bad flag, unknown topic, unreachable broker) ends as one
// line `spool: <message>` on stderr and exit code 1; a stack trace is printed only for
// unexpected errors when SPOOL_DEBUG is set.

import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerCommands } from './commands.js';
import { formatError } from './errors.js';

const program = new Command();
program
  .name('spool')
  .description('spool: a Kafka-style append-only log broker')
  .option('-b, --broker <host:port>', 'broker address (env SPOOL_BROKER)', process.env['SPOOL_BROKER'] ?? '127.0.0.1:9400')
  .option('--sasl-mechanism <mechanism>', 'SASL mechanism: SCRAM-SHA-256 (default with a user name), SCRAM-SHA-512 or PLAIN (env SPOOL_SASL_MECHANISM)')
  .option('--sasl-username <name>', 'authenticate as this user (env SPOOL_SASL_USERNAME)')
  .option('--sasl-password <password>', 'the user\'s password; prefer env SPOOL_SASL_PASSWORD (a flag shows in ps)')
  .showSuggestionAfterError(true)
  // Commander's own errors (unknown option, missing argument, invalid value) in our one-line form.
  .configureOutput({ outputError: (text, write) => write(`spool: ${text.replace(/^error: /, '')}`) });

// A reader that goes away (`spool topic list | head -1`) is not an error. Commands that
// stream (consume, dump-segment) add their own listener and stop cleanly instead.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (process.stdout.listenerCount('error') > 1) return;
  process.exit(error.code === 'EPIPE' ? 0 : 1);
});

// `spool --version`: the version of the package this file is part of (dist/cli/main.js ->
// ../../package.json, in a checkout and in an installed package alike).
program.version((createRequire(import.meta.url)('../../package.json') as { version: string }).version, '-V, --version', 'print the spool version');

registerServe(program);
registerCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${formatError(error)}\n`);
  if (process.env['SPOOL_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});

