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
