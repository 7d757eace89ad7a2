// Proves `spool completion` prints a bash completion script generated from the program:
// sourced into bash, it completes commands, subcommands and the options of the command
// being typed (global flags such as `-b host` before the command are skipped). No broker.

import { expect, it } from 'vitest';
import { SPOOL, expectOk, sh, shellQuote } from './run.js';

async function complete(words: string[]): Promise<string[]> {
  const array = words.map((word) => `'${word}'`).join(' ');
  const script = `source <(${SPOOL} completion bash); COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _spool; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = expectOk(await sh(`bash -c ${shellQuote(script)}`));
  return result.stdout.split('\n').filter((line) => line !== '');
}

it('completes commands, subcommands and options from the program', async () => {
  const [top, topic, consumeFlags, resetFlags] = await Promise.all([
    complete(['spool', '']),
    complete(['spool', 'topic', 'al']),
    complete(['spool', '-b', '127.0.0.1:9400', 'consume', 'orders', '--enc']),
    complete(['spool', 'group', 'reset', 'g', '--']),
  ]);
  expect(top).toEqual(expect.arrayContaining(['topic', 'produce', 'consume', 'group', 'cluster', '--version', '--broker']));
  expect(topic).toEqual(['alter']);
  expect(consumeFlags).toEqual(['--encoding']);
  expect(resetFlags).toEqual(expect.arrayContaining(['--dry-run', '--shift-by', '--all-topics', '--partition', '--format']));
  const zsh = await sh(`${SPOOL} completion fish`);
  expect(zsh.code).toBe(1);
  expect(zsh.stderr).toMatch(/^spool: .*only bash is supported/);
});
