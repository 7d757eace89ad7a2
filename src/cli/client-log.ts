// SPOOL_LOG=debug|info|warn|error for the CLI: the SDK's client events (connect,
// disconnect, request timeouts, group joins and rebalances) as lines on stderr, so a user
// can see what happens during an outage. Unset or anything else: silent (the default).

import type { Logger } from '../client/index.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** The logger SPOOL_LOG asks for, or undefined (silent). */
export function cliClientLogger(setting = process.env['SPOOL_LOG']): Logger | undefined {
  const threshold = LEVELS.indexOf(setting as Level);
  if (threshold < 0) return undefined;
  const at = (level: Level) => (obj: unknown, msg?: string): void => {
    if (LEVELS.indexOf(level) < threshold) return;
    const fields = obj !== null && typeof obj === 'object' ? ` ${JSON.stringify(obj)}` : '';
    process.stderr.write(`spool: ${level} ${msg ?? ''}${fields}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
