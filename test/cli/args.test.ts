// Proves the CLI's value parsers accept what the README documents and refuse the rest
// with a message (host:port, integers, durations, sizes, ISO times, k=v, acks, --to targets).

import { describe, expect, it } from 'vitest';
import {
  parseAcks,
  parseBroker,
  parseBytes,
  parseDurationMs,
  parseInteger,
  parseIsoTime,
  parseKeyValue,
  parseResetTarget,
} from '../../src/cli/args.js';
import { formatTable } from '../../src/cli/output.js';

describe('args', () => {
  it('parses broker addresses', () => {
    expect(parseBroker('127.0.0.1:9400')).toEqual({ host: '127.0.0.1', port: 9400 });
    expect(parseBroker('localhost')).toEqual({ host: 'localhost', port: 9400 });
    expect(parseBroker('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(() => parseBroker('host:abc')).toThrow(/broker address/);
    expect(() => parseBroker('host:70000')).toThrow(/port/);
    expect(() => parseBroker(':9400')).toThrow(/broker address/);
  });

  it('parses integers, durations and sizes', () => {
    expect(parseInteger('42')).toBe(42);
    expect(() => parseInteger('4.2', '--n')).toThrow(/--n must be an integer/);
    expect(() => parseInteger('0', '--n', 1)).toThrow(/>= 1/);
    expect(parseDurationMs('500')).toBe(500);
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('7d')).toBe(604_800_000);
    expect(parseDurationMs('-1')).toBe(-1);
    expect(() => parseDurationMs('soon')).toThrow(/invalid duration/);
    expect(parseBytes('1024')).toBe(1024);
    expect(parseBytes('1MiB')).toBe(1 << 20);
    expect(parseBytes('2g')).toBe(2 * 1024 ** 3);
    expect(() => parseBytes('1 parsec')).toThrow(/invalid size/);
  });

  it('parses ISO times as UTC when no zone is given', () => {
    expect(parseIsoTime('2026-11-25T12:00:00Z')).toBe(Date.UTC(2026, 10, 25, 12));
    expect(parseIsoTime('2026-11-25T12:00:00')).toBe(Date.UTC(2026, 10, 25, 12));
    expect(parseIsoTime('2026-11-25T13:00:00.500+01:00')).toBe(Date.UTC(2026, 10, 25, 12, 0, 0, 500));
    expect(parseIsoTime('2026-11-25')).toBe(Date.UTC(2026, 10, 25));
    expect(() => parseIsoTime('yesterday')).toThrow(/invalid time/);
  });

  it('parses k=v, acks and reset targets', () => {
    expect(parseKeyValue('a=b=c')).toEqual(['a', 'b=c']);
    expect(parseKeyValue('a=')).toEqual(['a', '']);
    expect(() => parseKeyValue('=b')).toThrow(/expected/);
    expect([parseAcks('0'), parseAcks('1'), parseAcks('all'), parseAcks('-1')]).toEqual([0, 1, 'all', 'all']);
    expect(() => parseAcks('2')).toThrow(/acks/);
    expect(parseResetTarget('earliest')).toEqual({ kind: 'earliest' });
    expect(parseResetTarget('latest')).toEqual({ kind: 'latest' });
    expect(parseResetTarget('17')).toEqual({ kind: 'offset', offset: 17 });
    expect(parseResetTarget('2026-11-25T12:00:00Z')).toEqual({ kind: 'timestamp', timestamp: Date.UTC(2026, 10, 25, 12) });
    expect(() => parseResetTarget('middle')).toThrow(/--to must be/);
  });

  it('formats tables with aligned columns', () => {
    expect(formatTable(['A', 'LONGER'], [['xyz', 1], ['w', 22]])).toBe('A    LONGER\nxyz  1\nw    22\n');
  });
});
