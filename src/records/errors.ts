// The codec's two kinds of failure on bad input, as named SpoolErrors with a precise message.

import { Errors, SpoolError } from '../util/errors.js';

export function corrupt(message: string): SpoolError {
  return new SpoolError(Errors.CORRUPT_MESSAGE, `corrupt record batch: ${message}`);
}

export function unsupportedCompression(codec: number): SpoolError {
  const name = ['none', 'gzip', 'snappy', 'lz4', 'zstd'][codec] ?? `unknown codec ${codec}`;
  return new SpoolError(
    Errors.UNSUPPORTED_COMPRESSION,
    `record batch compression ${name} (attributes bits 0-2 = ${codec}) is not supported; spool reads none and gzip`,
  );
}
