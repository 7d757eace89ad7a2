// SPOOL_LOG=debug makes the CLI print the SDK's client events on stderr (connect, and the
// failed connects when nothing listens); without it the CLI stays quiet.

import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/use-broker.js';
import { SPOOL, sh, unusedPort } from './run.js';

describe('SPOOL_LOG', () => {
  const shared = useBroker();

  it('debug prints the client events on stderr; unset prints none', async () => {
    const logged = await sh(`${SPOOL} --broker ${shared.address()} topic list`, { env: { SPOOL_LOG: 'debug' } });
    expect(logged.code, logged.stderr).toBe(0);
    expect(logged.stderr).toMatch(/^spool: (debug|info) .*connect/m);
    const quiet = await sh(`${SPOOL} --broker ${shared.address()} topic list`);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('shows the failed connects of an unreachable broker', async () => {
    const port = await unusedPort();
    const result = await sh(`${SPOOL} --broker 127.0.0.1:${port} topic list`, { env: { SPOOL_LOG: 'debug' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^spool: (debug|info|warn|error) .*connect/m);
  });
});
