// Offsets and timestamps as users pass them. kafkajs takes offsets as strings (its
// offsets are strings throughout, as JavaScript numbers stop being exact past 2^53), so
// people write `seek({ offset: '42' })`; that used to reach ListOffsets as a timestamp
// and fail with "INVALID_TIMESTAMP timestamp undefined". A number, a numeric string or a
// bigint is taken (exact below 2^53, which spool's offsets never pass); anything else is
// "offset must be an integer", naming the partition.

import { Errors, SpoolError } from '../util/errors.js';

/** What a user may pass where an offset is expected. */
export type OffsetInput = number | string | bigint;

const DIGITS = /^\s*\d+\s*$/;

/** The offset as a non-negative safe integer, or null when `value` is not one. */
export function parseOffset(value: unknown): number | null {
  let offset: number;
  if (typeof value === 'number') offset = value;
  else if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    offset = Number(value);
  } else if (typeof value === 'string' && DIGITS.test(value)) offset = Number(value);
  else return null;
  return Number.isSafeInteger(offset) && offset >= 0 ? offset : null;
}

/** parseOffset, or a SpoolError (INVALID_REQUEST) saying "<what>: offset must be an integer ..." */
export function requireOffset(value: unknown, what: string): number {
  const offset = parseOffset(value);
  if (offset !== null) return offset;
  throw new SpoolError(
    Errors.INVALID_REQUEST,
    `${what}: offset must be an integer >= 0 (a number, a numeric string or a bigint), got ${describe(value)}`,
  );
}

/** A timestamp in ms: a number, a numeric string or a bigint (kafkajs passes strings); else "timestamp must be an integer". */
export function requireTimestamp(value: unknown, what: string): number {
  const timestamp = parseOffset(value);
  if (timestamp !== null) return timestamp;
  throw new SpoolError(Errors.INVALID_TIMESTAMP, `${what}: timestamp must be an integer >= 0 (ms since the epoch), got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** A start position: 'earliest', 'latest' or an offset (see requireOffset). */
export function requireStartOffset(value: unknown, what: string): number | 'earliest' | 'latest' {
  if (value === 'earliest' || value === 'latest') return value;
  return requireOffset(value, what);
}
