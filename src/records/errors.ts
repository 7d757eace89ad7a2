// The codec's kinds of failure on bad input, as named SpoolErrors with a precise message:
// CORRUPT_MESSAGE (the bytes do not parse), INVALID_RECORD (they parse but break a rule a
// produced batch must keep), INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION.

import { Errors, SpoolError } from '../util/errors.js';

export function corrupt(message: string): SpoolError {
  return new SpoolError(Errors.CORRUPT_MESSAGE, `corrupt record batch: ${message}`);
}

export function invalidRecord(message: string): SpoolError {
  return new SpoolError(Errors.INVALID_RECORD, `invalid record batch: ${message}`);
}

export function invalidTimestamp(message: string): SpoolError {
  return new SpoolError(Errors.INVALID_TIMESTAMP, `invalid record timestamp: ${message}`);
}

export const CODEC_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function unsupportedCompression(codec: number): SpoolError {
  const name = CODEC_NAMES[codec] ?? `unknown codec ${codec}`;
  return new SpoolError(
    Errors.UNSUPPORTED_COMPRESSION,
    `record batch compression ${name} (attributes bits 0-2 = ${codec}) is not supported; spool reads none, gzip, snappy, lz4 and zstd`,
  );
}
