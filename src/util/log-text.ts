// Client-supplied text in log lines. A log line is one event: a group id, member id or
// topic name holding "\n" must not start a forged line, and one holding ANSI escape
// sequences must not drive the terminal of whoever reads the log. Every call site that
// puts client data in a log message wraps it in quoted(); the broker's logger also
// escapes control characters in whole messages as a second line of defence.

/** Longest client-supplied string shown in a log line; the rest is cut and counted. */
export const LOG_TEXT_MAX_CHARS = 200;

// C0 controls (newline, carriage return, ESC...), DEL, C1 controls (CSI is U+009B), and
// the Unicode line and paragraph separators.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Replaces every control character with its \uXXXX escape; other text is unchanged. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A client-supplied value for a log line: JSON-quoted, control characters escaped, cut to LOG_TEXT_MAX_CHARS. */
export function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  if (text.length <= LOG_TEXT_MAX_CHARS) return escapeControlCharacters(JSON.stringify(text));
  const shown = escapeControlCharacters(JSON.stringify(text.slice(0, LOG_TEXT_MAX_CHARS)));
  return `${shown}...(${text.length - LOG_TEXT_MAX_CHARS} more characters)`;
}
