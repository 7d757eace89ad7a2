// Output helpers: a buffered stdout writer that respects backpressure and treats a closed
// pipe (EPIPE, e.g. `spool consume t | head`) as a quiet stop, plus plain-text tables.

import type { Writable } from 'node:stream';
import { Option } from 'commander';
import { choiceOption } from './args.js';

const FLUSH_BYTES = 64 * 1024;

/**
 * Coalesces small writes (one per message) into ~64 KiB chunks. `write` never blocks;
 * the caller checks `mustWait` and awaits `drained()` so a slow reader slows the consumer
 * instead of growing memory. Pending text is flushed on the next macrotask at the latest.
 */
export class OutputWriter {
  private pending = '';
  private scheduled = false;
  private waitingForDrain: Promise<void> | null = null;
  private closedPipe = false;
  private readonly onClosedCallbacks: Array<() => void> = [];

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
        this.markClosed();
        return;
      }
      // Any other write error on stdout: the output is lost, stop like for EPIPE but say so.
      process.stderr.write(`spool: cannot write output: ${error.message}\n`);
      process.exitCode = 1;
      this.markClosed();
    });
  }

  /** True once the reader has gone away; nothing more will be written. */
  get closed(): boolean {
    return this.closedPipe;
  }

  /** Called once when the reader goes away (EPIPE). */
  onClosed(callback: () => void): void {
    if (this.closedPipe) callback();
    else this.onClosedCallbacks.push(callback);
  }

  write(text: string): void {
    if (this.closedPipe) return;
    this.pending += text;
    if (this.pending.length >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** True when the stream's buffer is full: await drained() before producing more. */
  get mustWait(): boolean {
    return this.waitingForDrain !== null;
  }

  drained(): Promise<void> {
    return this.waitingForDrain ?? Promise.resolve();
  }

  flush(): void {
    if (this.pending === '' || this.closedPipe) return;
    const chunk = this.pending;
    this.pending = '';
    const accepted = this.stream.write(chunk);
    if (!accepted && this.waitingForDrain === null) {
      this.waitingForDrain = new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.waitingForDrain = null;
          resolve();
        };
        this.stream.on('drain', done);
        this.onClosed(done);
      });
    }
  }

  /** Flushes everything and resolves when the stream has taken it (or the pipe closed). */
  async end(): Promise<void> {
    this.flush();
    if (this.closedPipe) return;
    await new Promise<void>((resolve) => {
      this.stream.write('', () => resolve());
      this.onClosed(resolve);
    });
  }

  private markClosed(): void {
    if (this.closedPipe) return;
    this.closedPipe = true;
    this.pending = '';
    for (const callback of this.onClosedCallbacks.splice(0)) callback();
  }
}

/** Left-aligned columns separated by two spaces, with a header row. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '))
    .join('\n')
    .concat('\n');
}

/** Bytes for a human: 0 B, 1.5 KiB, 12.0 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Epoch ms as ISO-8601 UTC, or the raw number when it is not a valid date (e.g. -1). */
export function formatTime(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0 || milliseconds > 8.64e15) return String(milliseconds);
  return new Date(milliseconds).toISOString();
}

export type AdminFormat = 'text' | 'json';

/** `--format text|json` of the admin commands (topic, group, cluster). */
export function adminFormatOption(): Option {
  return new Option('--format <format>', 'text for people, json (one document) for scripts')
    .argParser(choiceOption('--format', ['text', 'json'] as const))
    .default('text');
}

/** Prints `json` as one JSON document, or the text from `text()`. */
export function writeResult(format: AdminFormat, json: unknown, text: () => string): void {
  const output = format === 'json' ? `${JSON.stringify(json)}\n` : text();
  if (output !== '') process.stdout.write(output);
}
