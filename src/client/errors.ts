// How the SDK turns wire error codes and socket failures into SpoolErrors (stable .code,
// .retriable, .cause), so every caller sees one kind of error.

import { Errors, SpoolError, errorByCode, type ErrorKind } from '../util/errors.js';

export { SpoolError, Errors, isSpoolError } from '../util/errors.js';

/** A SpoolError for a wire error code (0 is not an error: returns undefined). */
export function errorFromCode(errorCode: number, errorMessage?: string, context?: string): SpoolError | undefined {
  if (errorCode === 0) return undefined;
  const kind = errorByCode(errorCode);
  const message = errorMessage ?? kind.message;
  return new SpoolError(kind, context === undefined ? message : `${context}: ${message}`);
}

/** Wraps any failure in a SpoolError of `kind`, keeping the original as .cause. */
export function wrapError(kind: ErrorKind, message: string, cause: unknown): SpoolError {
  if (cause instanceof SpoolError) return cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new SpoolError(kind, `${message}${detail}`, { cause });
}

export function isRetriable(error: unknown): boolean {
  return error instanceof SpoolError && error.retriable;
}

export function closedError(what: string): SpoolError {
  return new SpoolError(Errors.NETWORK_ERROR, `${what} is closed`);
}

/**
 * A partition could not be read at `offset`: a fetch error of that partition (the broker's
 * KAFKA_STORAGE_ERROR, NOT_ENOUGH_SPACE, CORRUPT_MESSAGE, ...) or a batch that could not be
 * decoded (CORRUPT_MESSAGE, UNSUPPORTED_COMPRESSION). `nextOffset`, when known, is the
 * offset just past the bad batch: `consumer.seek({ topic, partition, offset: nextOffset })`
 * skips it.
 */
export class PartitionFetchError extends SpoolError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly nextOffset: number | null,
    options?: { cause?: unknown },
  ) {
    super(kind, message, options);
    this.name = 'PartitionFetchError';
  }
}
