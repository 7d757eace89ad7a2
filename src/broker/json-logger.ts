// `--log-format json`: one JSON object per line on stderr, written by pino. pino because it
// is the well-kept structured logger of the Node ecosystem (fastify's), writes a line with
// one synchronous call and no per-line promise, and handles levels and serialization;
// the text format stays our own formatter in logger.ts (pino-pretty would add a worker
// thread and a dependency to print what one template string prints).
//
// A line: {"level":"info","time":"2026-...Z","pid":123,"hostname":"...","msg":"...", ...fields};
// an error adds "error": {"type","message","stack"}. Messages and string fields are escaped as in
// text (control characters as \uXXXX), beyond what JSON escapes itself (it leaves C1
// controls and U+2028/2029 raw).

import pino from 'pino';
import { escapeControlCharacters } from '../util/log-text.js';
import { levelEnabled, type LogFields, type Logger, type LogLevel } from './logger.js';

function escapedFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields === undefined) return out;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) out[key] = typeof value === 'string' ? escapeControlCharacters(value) : value;
  }
  return out;
}

function errorField(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error, message: escapeControlCharacters(String(error)) };
  // The stack keeps its newlines (JSON writes them as \n); everything else is escaped.
  const stack = (error.stack ?? '').split('\n').map(escapeControlCharacters).join('\n');
  return { type: error.name, message: escapeControlCharacters(error.message), stack };
}

/** `write` receives whole lines (newline included); default: stderr, synchronously (no line is lost at exit). */
export function jsonLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  const destination = write ? { write } : pino.destination({ dest: 2, sync: true });
  const log = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const logger: Logger = {
    info: (message, fields) => log.info(escapedFields(fields), escapeControlCharacters(message)),
    warn: (message, fields) => log.warn(escapedFields(fields), escapeControlCharacters(message)),
    error: (message, error, fields) => {
      const object = escapedFields(fields);
      // "error", not "err": pino's err serializer would rewrite the object.
      if (error !== undefined) object['error'] = errorField(error);
      log.error(object, escapeControlCharacters(message));
    },
  };
  if (levelEnabled('debug', level)) logger.debug = (message, fields) => log.debug(escapedFields(fields), escapeControlCharacters(message));
  return logger;
}
