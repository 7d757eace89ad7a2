// The broker's log lines: one line each on stderr (stdout carries only the
// "spool listening on" line). No logging above debug on the hot path.

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** A bug or an unexpected failure; `error` adds its stack. */
  error(message: string, error?: unknown): void;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

export function streamLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const stamp = (): string => new Date().toISOString();
  return {
    info: (message) => write(`${stamp()} info ${message}\n`),
    warn: (message) => write(`${stamp()} warn ${message}\n`),
    error: (message, error) => write(`${stamp()} error ${message}${error === undefined ? '' : `: ${describe(error)}`}\n`),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
