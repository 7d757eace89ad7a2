// Parsers for command-line values: host:port, integers, durations, byte sizes, ISO times,
// k=v pairs. Each throws commander's InvalidArgumentError (or UsageError outside commander),
// so a bad value becomes one line `spool: ...` and exit 1, never a stack trace.

import { InvalidArgumentError } from 'commander';

/** A mistake in how the command was called: printed as one line, exit 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface BrokerAddress {
  host: string;
  port: number;
}

/** "host:port", "[::1]:port" or "host" (port 9400). */
export function parseBroker(value: string): BrokerAddress {
  const text = value.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
  }
  if (host === '') throw new UsageError(`invalid broker address '${value}' (expected host:port)`);
  const port = portText === undefined ? 9400 : Number(portText);
  if (!/^\d+$/.test(portText ?? '9400') || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`invalid broker address '${value}' (port must be 1-65535)`);
  }
  return { host, port };
}

export function formatBroker(address: BrokerAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** A non-negative integer (or >= `min`). */
export function parseInteger(value: string, what = 'value', min = 0): number {
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError(`${what} must be an integer, got '${value}'`);
  const number = Number(text);
  if (!Number.isSafeInteger(number) || number < min) {
    throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got '${value}'`);
  }
  return number;
}

/** Commander option parser for an integer >= min. */
export function integerOption(what: string, min = 0): (value: string) => number {
  return (value) => parseInteger(value, what, min);
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds: "500", "500ms", "30s", "5m", "12h", "7d"; "-1" means forever/unlimited. */
export function parseDurationMs(value: string): number {
  const text = value.trim();
  if (text === '-1') return -1;
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
  if (!match) throw new InvalidArgumentError(`invalid duration '${value}' (e.g. 500, 30s, 5m, 12h, 7d, or -1)`);
  const milliseconds = Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(milliseconds)) throw new InvalidArgumentError(`duration '${value}' is too large`);
  return milliseconds;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

/** Bytes: "1048576", "512KiB", "1MiB", "2G" (binary units); "-1" means unlimited. */
export function parseBytes(value: string): number {
  const text = value.trim();
  if (text === '-1') return -1;
  const match = /^(\d+)\s*([a-zA-Z]*)$/.exec(text);
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new InvalidArgumentError(`invalid size '${value}' (e.g. 1048576, 512KiB, 1MiB, 1GiB, or -1)`);
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`size '${value}' is too large`);
  return bytes;
}

/**
 * An ISO-8601 time ("2026-11-25T12:00:00Z", "2026-11-25T12:00:00.123+01:00", "2026-11-25")
 * to epoch milliseconds. A time without a zone is read as UTC so results do not depend on
 * the machine's time zone.
 */
export function parseIsoTime(value: string): number {
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(text)) {
    throw new InvalidArgumentError(`invalid time '${value}' (expected ISO-8601, e.g. 2026-11-25T12:00:00Z)`);
  }
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) && text.includes('T');
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const normalized = dateOnly || hasZone ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`;
  const milliseconds = Date.parse(normalized);
  if (Number.isNaN(milliseconds)) throw new InvalidArgumentError(`invalid time '${value}'`);
  return milliseconds;
}

/** "k=v" -> [k, v]; the value may contain '=' and may be empty; the key may not. */
export function parseKeyValue(value: string, what = 'key=value'): [string, string] {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`expected ${what}, got '${value}'`);
  return [value.slice(0, equals), value.slice(equals + 1)];
}

/** Commander parser for a repeatable k=v option: accumulates into an array of pairs. */
export function collectKeyValue(what: string): (value: string, previous: Array<[string, string]> | undefined) => Array<[string, string]> {
  return (value, previous) => [...(previous ?? []), parseKeyValue(value, what)];
}

export type Acks = 0 | 1 | 'all';

export function parseAcks(value: string): Acks {
  switch (value.trim()) {
    case '0':
      return 0;
    case '1':
      return 1;
    case 'all':
    case '-1':
      return 'all';
    default:
      throw new InvalidArgumentError(`acks must be 0, 1 or all, got '${value}'`);
  }
}

/** Commander parser for a value out of a fixed set. */
export function choiceOption<T extends string>(what: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`${what} must be one of ${choices.join(', ')}, got '${value}'`);
  };
}

/** Where a group reset goes: earliest, latest, an offset, or the first offset at a time. */
export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; timestamp: number };

export function parseResetTarget(value: string): ResetTarget {
  const text = value.trim();
  if (text === 'earliest') return { kind: 'earliest' };
  if (text === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: parseInteger(text, '--to offset') };
  try {
    return { kind: 'timestamp', timestamp: parseIsoTime(text) };
  } catch {
    // Not a time either: say what the three accepted forms are.
    throw new InvalidArgumentError(`--to must be earliest, latest, an offset or an ISO time, got '${value}'`);
  }
}
