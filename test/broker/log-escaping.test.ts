// Proves client-supplied strings cannot forge or split log lines: quoted() and the
// broker's streamLogger escape every control character (newline, carriage return, ESC,
// C1, U+2028) and cut long strings, and against a real broker process a member with a
// group id and member id holding "\n", a forged timestamped "error" line and ANSI escapes
// is fenced with exactly one log line that holds the escaped text and no raw ESC byte.

import { describe, expect, it } from 'vitest';
import { streamLogger } from '../../src/broker/logger.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { escapeControlCharacters, LOG_TEXT_MAX_CHARS, quoted } from '../../src/util/log-text.js';
import { startBroker, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const FORGED = 'g\n2026-01-01T00:00:00.000Z error forged line\r\u001b[31mred\u001b[0m\u009b2J\u2028end';

describe('quoted and escapeControlCharacters', () => {
  it('escapes every control character and keeps other text', () => {
    expect(quoted(FORGED)).toBe('"g\\n2026-01-01T00:00:00.000Z error forged line\\r\\u001b[31mred\\u001b[0m\\u009b2J\\u2028end"');
    expect(escapeControlCharacters('a\u0000b\u007fc é ✓')).toBe('a\\u0000b\\u007fc é ✓');
    expect(quoted(42)).toBe('"42"');
  });

  it('cuts long strings and says how much was cut', () => {
    const text = 'x'.repeat(LOG_TEXT_MAX_CHARS + 50);
    expect(quoted(text)).toBe(`"${'x'.repeat(LOG_TEXT_MAX_CHARS)}"...(50 more characters)`);
  });

  it('streamLogger writes one line per event whatever the message or error holds', () => {
    const lines: string[] = [];
    const logger = streamLogger((line) => lines.push(line));
    logger.info(`group ${FORGED}`);
    logger.warn(FORGED);
    const error = new Error(`bad ${FORGED}`);
    logger.error(`failed ${FORGED}`, error);
    const text = lines.join('');
    expect(text).not.toMatch(/[\u001b\u009b\r\u2028]/);
    const events = text.split('\n').filter((line) => /^\d{4}-\d\d-\d\dT/.test(line));
    expect(events.length).toBe(3);
    // The error's stack continues on indented lines only.
    for (const line of text.split('\n').filter((l) => l !== '' && !events.includes(l))) expect(line).toMatch(/^\s/);
  });
});

describe('a real broker logs a forged group id on one line', () => {
  it('fences a member whose group and member ids hold newlines and ANSI escapes with exactly one log line', async () => {
    const broker = await startBroker({ args: ['--fsync', 'never'] });
    try {
      const client = await RawClient.connect(broker.port);
      const joined = await client.request<{ errorCode: number; memberId: string }>(ApiKey.ConsumerGroupHeartbeat, {
        groupId: FORGED,
        memberId: `m-${FORGED}`,
        memberEpoch: 0,
        topics: [],
        sessionTimeoutMs: 500,
      });
      expect(joined.header.errorCode).toBe(0);
      // No heartbeat follows: the session expires and the member is fenced (a warn line).
      await waitFor(() => /fenced/.test(broker.stderr()), 10_000);
      await client.close();
      const stderr = broker.stderr();
      expect(stderr).not.toMatch(/[\u001b\u009b\r\u2028]/);
      expect(stderr).not.toMatch(/^2026-01-01T00:00:00.000Z error forged/m);
      const fenced = stderr.split('\n').filter((line) => line.includes('fenced'));
      expect(fenced.length).toBe(1);
      expect(fenced[0]).toContain(`group ${quoted(FORGED)}: member ${quoted(`m-${FORGED}`)} fenced`);
      // The join, the rebalances and the fencing each log one line naming the group: every
      // line holding the forged text is a whole event of its own, never a forged one.
      const naming = stderr.split('\n').filter((line) => line.includes('forged line'));
      expect(naming.length).toBeGreaterThanOrEqual(1);
      for (const line of naming) expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ (info|warn) group ${escapeRegExp(quoted(FORGED))}: `));
    } finally {
      await broker.stop();
      broker.cleanup();
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
