// The one-line form of an error for the terminal: `spool: <message>`, with the SpoolError
// code appended (e.g. "(UNKNOWN_TOPIC)") so scripts and bug reports can name it.

import { isSpoolError } from '../util/errors.js';

export function formatError(error: unknown): string {
  if (isSpoolError(error)) {
    const message = firstLine(error.message);
    return `spool: ${message.includes(error.code) ? message : `${message} (${error.code})`}`;
  }
  if (error instanceof Error) return `spool: ${firstLine(error.message)}`;
  return `spool: ${firstLine(String(error))}`;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line === '' ? 'unexpected error' : line;
}
