// A one-line progress bar on stderr, drawn only when stderr is a terminal
// (process.stderr.isTTY), at most ten times a second; otherwise every call is a no-op, so
// piped and test runs print nothing but their results.

const WIDTH = 30;
const REDRAW_MS = 100;

export class Progress {
  private readonly enabled: boolean;
  private lastDrawMs = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'msgs',
  ) {
    this.enabled = process.stderr.isTTY === true && total > 0;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDrawMs < REDRAW_MS && done < this.total) return;
    this.lastDrawMs = now;
    const fraction = Math.min(1, done / this.total);
    const filled = Math.round(fraction * WIDTH);
    const bar = `${'#'.repeat(filled)}${' '.repeat(WIDTH - filled)}`;
    const text = `${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ${this.unit}`;
    process.stderr.write(`\r${text}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line so the results start on a clean one. */
  done(): void {
    if (this.enabled && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
