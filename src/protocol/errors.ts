// Errors on the wire: every response (and every per-item result) carries
// `errorCode` (0 = success) and, on failure, `errorMessage`. The codes are the numeric
// codes of src/util/errors.ts, the one table shared by broker and client.

import { Errors, SpoolError, errorByCode, isSpoolError } from '../util/errors.js';
import type { ErrorFields } from './messages.js';

export const NO_ERROR: Readonly<ErrorFields> = Object.freeze({ errorCode: Errors.NONE.code });

/**
 * The wire fields for a failure. A SpoolError keeps its code and message; anything else
 * is a bug on the sending side and travels as UNKNOWN (the sender logs the details).
 */
export function errorFields(error: unknown): ErrorFields {
  if (isSpoolError(error)) return { errorCode: error.errorCode, errorMessage: error.message };
  return { errorCode: Errors.UNKNOWN.code, errorMessage: Errors.UNKNOWN.message };
}

/** The SpoolError described by wire fields, or null when errorCode is 0 (or absent). */
export function errorFromFields(fields: { errorCode?: unknown; errorMessage?: unknown }): SpoolError | null {
  const code = fields.errorCode;
  if (code === undefined || code === null || code === Errors.NONE.code) return null;
  const kind = typeof code === 'number' ? errorByCode(code) : Errors.UNKNOWN;
  const message = typeof fields.errorMessage === 'string' && fields.errorMessage !== '' ? fields.errorMessage : kind.message;
  return new SpoolError(kind, message);
}

/** Throws the SpoolError described by wire fields, if any. */
export function throwIfError(fields: { errorCode?: unknown; errorMessage?: unknown }): void {
  const error = errorFromFields(fields);
  if (error) throw error;
}

export { SpoolError };
