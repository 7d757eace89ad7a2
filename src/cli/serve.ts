// PLACEHOLDER (broker work): `spool serve`.
import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program.command('serve').description('run the broker').action(() => {
    throw new Error('serve is not implemented yet');
  });
}
