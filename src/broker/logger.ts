// The broker's log lines: one line each on stderr (stdout carries only the
// "spool listening on" line). No logging above debug on the hot path.
//
// One event is one line. Client-supplied strings (group and member ids, topic names...)
// go through quoted() at the call site; streamLogger also escapes every control
// character in the message and in an error's message, so nothing a client sends can
// start a line of its own or drive a terminal. Only an error's stack continues on the
// following lines, each indented.

import { escapeControlCharacters } from '../util/log-text.js';

export { quoted } from '../util/log-text.js';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** A bug or an unexpected failure; `error` adds its stack. */
  error(message: string, error?: unknown): void;
}

function describe(error: unknown): string {
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

export function streamLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const stamp = (): string => new Date().toISOString();
  return {
    info: (message) => write(`${stamp()} info ${escapeControlCharacters(message)}\n`),
    warn: (message) => write(`${stamp()} warn ${escapeControlCharacters(message)}\n`),
    error: (message, error) =>
      write(`${stamp()} error ${escapeControlCharacters(message)}${error === undefined ? '' : `: ${describe(error)}`}\n`),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
