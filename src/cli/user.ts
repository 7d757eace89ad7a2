// `spool user create|delete|list`: SCRAM users over the broker's DescribeUserScramCredentials
// and AlterUserScramCredentials (the SDK's admin().alterUserScramCredentials()). The password
// is salted in this process; only the salt and the salted password reach the broker.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { ScramLimits, type ScramMechanism } from '../util/scram.js';
import { choiceOption } from './args.js';
import { withConnection } from './connect.js';
import { adminFormatOption, formatTable, writeResult, type AdminFormat } from './output.js';

const MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

function mechanismOption(what: string): Option {
  return new Option('--mechanism <mechanism>', `${what} (default: both)`).argParser((value: string) => choiceOption('--mechanism', MECHANISMS)(value.toUpperCase()));
}

function iterationsOption(value: string): number {
  const iterations = Number(value);
  if (!/^\d+$/.test(value) || iterations < ScramLimits.minIterations || iterations > ScramLimits.maxIterations) {
    throw new InvalidArgumentError(`--iterations must be an integer in [${ScramLimits.minIterations}, ${ScramLimits.maxIterations}], got '${value}'`);
  }
  return iterations;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('SCRAM users (SASL authentication)');
  user
    .command('create <name>')
    .description('create a user, or set its password (SCRAM-SHA-256 and SCRAM-SHA-512 unless --mechanism)')
    .requiredOption('--password <password>', 'the new password (salted here, never sent)')
    .addOption(mechanismOption('the mechanism to set'))
    .option('--iterations <n>', `PBKDF2 iterations (${ScramLimits.minIterations}..${ScramLimits.maxIterations})`, iterationsOption, ScramLimits.defaultIterations)
    .action(async (name: string, options: { password: string; mechanism?: ScramMechanism; iterations: number }, command: Command) => {
      const mechanisms = options.mechanism ? [options.mechanism] : [...MECHANISMS];
      await withConnection(command, async (connection) => {
        await connection.request(() =>
          connection.client.admin().alterUserScramCredentials(
            mechanisms.map((mechanism) => ({ kind: 'upsert' as const, user: name, mechanism, password: options.password, iterations: options.iterations })),
          ),
        );
        process.stdout.write(`set ${mechanisms.join(', ')} for user ${name}\n`);
      });
    });
  user
    .command('delete <name>')
    .description("delete a user's credentials (every mechanism unless --mechanism)")
    .addOption(mechanismOption('the mechanism to delete'))
    .action(async (name: string, options: { mechanism?: ScramMechanism }, command: Command) => {
      await withConnection(command, async (connection) => {
        const admin = connection.client.admin();
        const mechanisms = options.mechanism
          ? [options.mechanism]
          : (await connection.request(() => admin.describeUserScramCredentials([name])))[0]!.credentials.map((credential) => credential.mechanism as ScramMechanism);
        await connection.request(() => admin.alterUserScramCredentials(mechanisms.map((mechanism) => ({ kind: 'delete' as const, user: name, mechanism }))));
        process.stdout.write(`deleted ${mechanisms.join(', ')} for user ${name}\n`);
      });
    });
  user
    .command('list')
    .description('users and their mechanisms and iteration counts (never salts or keys)')
    .addOption(adminFormatOption())
    .action(async (options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const users = await connection.request(() => connection.client.admin().describeUserScramCredentials());
        writeResult(options.format, users, () =>
          users.length === 0
            ? ''
            : formatTable(
                ['USER', 'MECHANISMS'],
                users.map((entry) => [entry.user, entry.credentials.map((credential) => `${credential.mechanism} (${credential.iterations} iterations)`).join(', ')]),
              ),
        );
      });
    });
}
