// The broker's log lines: one line per event on stderr (stdout carries only the
// "listening" lines). No logging above debug on the hot path. Message contents are never
// logged: only names, ids, offsets and counts.
//
// Two formats behind one Logger interface (the seam every module calls):
// - text (streamLogger): `<ISO time> <level> <message>[ key=value...]`, our own formatter;
// - json (jsonLogger, json-logger.ts): one JSON object per line, written by pino.
// Both take structured fields (`{ topic, group, remote, api... }`) beside the message; in
// text they follow the message as key=value, in JSON they are top-level keys.
//
// One event is one line. Client-supplied strings (group and member ids, topic names...)
// go through quoted() at the call site; both loggers also escape every control character
// in the message, in string fields and in an error's message, so nothing a client sends
// can start a line of its own or drive a terminal. In text, only an error's stack
// continues on the following lines, each indented; in JSON the stack is a field.

import { escapeControlCharacters } from '../util/log-text.js';

export { quoted } from '../util/log-text.js';

/** Values of structured fields: flat, so both formats show them the same way. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** A bug or an unexpected failure; `error` adds its stack. */
  error(message: string, error?: unknown, fields?: LogFields): void;
  /** Detail an operator turns on with --log-level debug; loggers without it drop it. */
  debug?(message: string, fields?: LogFields): void;
}

export const LogLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LogLevels as readonly string[]).includes(value);
}

/** Whether a line at `level` passes a logger set to `threshold`. */
export function levelEnabled(level: Exclude<LogLevel, 'silent'>, threshold: LogLevel): boolean {
  return LogLevels.indexOf(level) >= LogLevels.indexOf(threshold);
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return escapeControlCharacters(String(error));
  const headline = `${error.name}: ${error.message}`;
  const stack = error.stack ?? headline;
  // The stack starts with the headline, which may hold client data; the frames after it are ours.
  const rest = stack.startsWith(headline) ? stack.slice(headline.length) : `\n${stack}`;
  // Continuation lines are indented, so none can pass for a log line of its own.
  const continuation = rest
    .split('\n')
    .map((line, index) => escapeControlCharacters(index === 0 || /^\s/.test(line) ? line : `    ${line}`))
    .join('\n');
  return escapeControlCharacters(headline) + continuation;
}

/** ` key=value` per defined field; strings JSON-quoted (so spaces and quotes stay unambiguous) and escaped. */
function formatFields(fields: LogFields | undefined): string {
  if (fields === undefined) return '';
  let text = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    text += ` ${key}=${typeof value === 'string' ? escapeControlCharacters(JSON.stringify(value)) : String(value)}`;
  }
  return text;
}

export function streamLogger(write: (line: string) => void = (line) => process.stderr.write(line), level: LogLevel = 'info'): Logger {
  const stamp = (): string => new Date().toISOString();
  const line = (name: string, message: string, fields: LogFields | undefined): string =>
    `${stamp()} ${name} ${escapeControlCharacters(message)}${formatFields(fields)}`;
  const logger: Logger = {
    info: (message, fields) => {
      if (levelEnabled('info', level)) write(`${line('info', message, fields)}\n`);
    },
    warn: (message, fields) => {
      if (levelEnabled('warn', level)) write(`${line('warn', message, fields)}\n`);
    },
    error: (message, error, fields) => {
      if (levelEnabled('error', level)) write(`${line('error', message, fields)}${error === undefined ? '' : `: ${describeError(error)}`}\n`);
    },
  };
  if (levelEnabled('debug', level)) logger.debug = (message, fields) => write(`${line('debug', message, fields)}\n`);
  return logger;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
