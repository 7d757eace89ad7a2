// `spool quota set|list`: client quotas (src/security/README.md "Quotas") over the admin
// API: produce and fetch byte rates per user (the principal's name), per client id, or
// both. A rate of 0 removes it.
//
//   spool quota set --user alice --producer-byte-rate 1048576
//   spool quota set --client-id batch-job --consumer-byte-rate 5000000
//   spool quota list

import { type Command } from 'commander';
import type { ClientQuota } from '../client/admin.js';
import { parseInteger } from './args.js';
import { withConnection } from './connect.js';
import { adminFormatOption, formatTable, writeResult, type AdminFormat } from './output.js';

interface QuotaOptions {
  user?: string;
  clientId?: string;
  producerByteRate?: number;
  consumerByteRate?: number;
}

const rate = (name: string) => (value: string): number => parseInteger(value, name, 0);

export function registerQuota(program: Command): void {
  const quota = program.command('quota').description('set and list client quotas (produce and fetch byte rates)');

  quota
    .command('set')
    .description('set the byte rates of a user, a client id, or both (0 removes a rate)')
    .option('--user <name>', 'the user (principal User:<name>)')
    .option('--client-id <id>', 'the client id')
    .option('--producer-byte-rate <bytes>', 'produce bytes per second', rate('--producer-byte-rate'))
    .option('--consumer-byte-rate <bytes>', 'fetch bytes per second', rate('--consumer-byte-rate'))
    .action(async (options: QuotaOptions, command: Command) => {
      if (options.user === undefined && options.clientId === undefined) command.error('give --user, --client-id, or both');
      if (options.producerByteRate === undefined && options.consumerByteRate === undefined) command.error('give --producer-byte-rate and/or --consumer-byte-rate');
      const entry: ClientQuota = {
        ...(options.user !== undefined ? { user: options.user } : {}),
        ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
        ...(options.producerByteRate !== undefined ? { producerByteRate: options.producerByteRate === 0 ? null : options.producerByteRate } : {}),
        ...(options.consumerByteRate !== undefined ? { consumerByteRate: options.consumerByteRate === 0 ? null : options.consumerByteRate } : {}),
      };
      await withConnection(command, async (connection) => {
        await connection.request(() => connection.client.admin().alterClientQuotas([entry]));
      });
    });

  quota
    .command('list')
    .description('every quota')
    .addOption(adminFormatOption())
    .action(async (options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const quotas = await connection.request(() => connection.client.admin().describeClientQuotas());
        const rows = quotas.map((entry) => [entry.user ?? '', entry.clientId ?? '', entry.producerByteRate ?? '', entry.consumerByteRate ?? '']);
        writeResult(options.format, quotas, () => (rows.length > 0 ? formatTable(['USER', 'CLIENT-ID', 'PRODUCER-BYTE-RATE', 'CONSUMER-BYTE-RATE'], rows) : ''));
      });
    });
}
