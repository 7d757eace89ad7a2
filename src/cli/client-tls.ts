// TLS flags of every command that talks to a broker (topic, produce, consume, group, ...):
//
//   --tls                      TLS, trusting the system CAs
//   --tls-ca F                 TLS, trusting the CAs in F (PEM) instead
//   --tls-cert F --tls-key F   present this client certificate (mTLS)
//
// Any of them turns TLS on. They are the leaf commands' own options rather than global
// ones because `spool serve` has --tls-cert/--tls-key/--tls-ca of its own (the broker's
// files), and commander would hand a global option of the same name to the program,
// never to serve.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ClientTlsOptions } from '../client/index.js';
import { UsageError } from './args.js';

/** Commands that never connect to a broker. */
const OFFLINE_COMMANDS = new Set(['dump-segment', 'completion']);

/** Adds the TLS flags to every leaf command under `commands`. */
export function addClientTlsOptions(commands: Iterable<Command>): void {
  for (const command of commands) {
    if (OFFLINE_COMMANDS.has(command.name())) continue;
    if (command.commands.length > 0) {
      addClientTlsOptions(command.commands);
      continue;
    }
    command
      .option('--tls', 'connect over TLS, trusting the system CAs')
      .option('--tls-ca <file>', 'connect over TLS, trusting the CAs in this PEM file')
      .option('--tls-cert <file>', 'TLS client certificate (PEM) for brokers that ask for one (mTLS)')
      .option('--tls-key <file>', 'the private key (PEM) of --tls-cert');
  }
}

interface TlsFlags {
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** The Client's `ssl` for the command's flags, or undefined for plaintext. */
export function clientTlsOf(command: Command): ClientTlsOptions | undefined {
  const flags = command.optsWithGlobals<TlsFlags>();
  if (flags.tls !== true && flags.tlsCa === undefined && flags.tlsCert === undefined && flags.tlsKey === undefined) return undefined;
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return {
    ...(flags.tlsCa !== undefined ? { ca: readPem(flags.tlsCa, '--tls-ca') } : {}),
    ...(flags.tlsCert !== undefined ? { cert: readPem(flags.tlsCert, '--tls-cert') } : {}),
    ...(flags.tlsKey !== undefined ? { key: readPem(flags.tlsKey, '--tls-key') } : {}),
  };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
