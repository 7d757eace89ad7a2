#!/usr/bin/env node
// The `spool` command: one commander program; each command lives in its own module.
// Every error a user can cause (bad flag, unknown topic, unreachable broker) ends as one
// line `spool: <message>` on stderr and exit code 1; a stack trace is printed only for
// unexpected errors when SPOOL_DEBUG is set.

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerServe } from './serve.js';
import { registerCommands } from './commands.js';
import { formatError } from './errors.js';

const program = new Command();
program
  .name('spool')
  .description('spool: a Kafka-style append-only log broker')
  .version(packageVersion(), '-V, --version', 'print the spool version')
  .option('-b, --broker <host:port>', 'broker address (env SPOOL_BROKER)', process.env['SPOOL_BROKER'] ?? '127.0.0.1:9400')
  .showSuggestionAfterError(true)
  // Commander's own errors (unknown option, missing argument, invalid value) in our one-line form.
  .configureOutput({ outputError: (text, write) => write(`spool: ${text.replace(/^error: /, '')}`) });

// A reader that goes away (`spool topic list | head -1`) is not an error. Commands that
// stream (consume, dump-segment) add their own listener and stop cleanly instead.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (process.stdout.listenerCount('error') > 1) return;
  process.exit(error.code === 'EPIPE' ? 0 : 1);
});

registerServe(program);
registerCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`${formatError(error)}\n`);
  if (process.env['SPOOL_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});

/** The version in package.json (two levels up from dist/cli/main.js, as installed or built). */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
  } catch {
    // A copied dist/ without its package.json: still answer instead of failing every command.
    return 'unknown';
  }
}
