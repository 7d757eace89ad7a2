// Releases a fixed-rate schedule of sends on time without a busy loop. Node's timers have
// 1 ms granularity: a loop of setTimeout() releases the messages of each millisecond late
// by up to a millisecond (about 0.5-1 ms at the median at 5,000 msg/s), which the latency
// (counted from each message's scheduled time) would charge to the system under test. So
// a worker thread keeps the schedule: it sleeps in Atomics.wait (a futex with a microsecond
// timeout) until the next message is due, then posts one wake-up to the main thread, which
// sends every message due by then. The worker waits for the main thread to report what it
// sent before it posts again (or 50 ms, so a stalled main thread gets one reminder per
// 50 ms rather than a queue of them). Latency still counts from the schedule: a main thread
// that stalls is charged for every message due during the stall (no coordinated omission).
// Cost: one wake-up of the main thread per message at low rates; wake-ups are at least
// MIN_WAKE_SPACING_US apart, so at high rates each sends everything due by then (at most
// 10,000 wake-ups a second: at 100,000 msg/s ~10 messages each, up to 0.1 ms late, counted).

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const control = new Int32Array(workerData.control); // [0] messages sent by the main thread, [1] stop
const { startUs, intervalUs, total, minSpacingUs } = workerData;
const nowUs = () => Number(process.hrtime.bigint()) / 1000;
let lastPostUs = -Infinity;
for (;;) {
  if (Atomics.load(control, 1) !== 0) break;
  const next = Atomics.load(control, 0);
  if (next >= total) break;
  const waitUs = Math.max(startUs + next * intervalUs, lastPostUs + minSpacingUs) - nowUs();
  if (waitUs > 0) {
    Atomics.wait(control, 1, 0, waitUs / 1000);
    continue;
  }
  lastPostUs = nowUs();
  parentPort.postMessage(next);
  Atomics.wait(control, 0, next, 50);
}
`;

const MIN_WAKE_SPACING_US = 100;

export interface PaceOptions {
  ratePerSec: number;
  total: number;
  /** Sends message `index`, due at `scheduledMs` (performance.now() time). */
  send(index: number, scheduledMs: number): void;
  /** Checked before each wake-up's sends: true ends the schedule early (an error). */
  stopped(): boolean;
}

export interface PaceRun {
  /** performance.now() of message 0's scheduled time. */
  startMs: number;
  /** Resolves with the number of messages sent once the last is sent, or at stop. */
  done: Promise<number>;
}

export type PacerKind = 'worker' | 'timer';

export function pace(options: PaceOptions, kind: PacerKind = 'worker'): PaceRun {
  return kind === 'worker' ? workerPace(options) : timerPace(options);
}

/** The old loop (setTimeout until the next message is due): the messages of each ~1 ms tick go out together, late. */
function timerPace(options: PaceOptions): PaceRun {
  const intervalMs = 1000 / options.ratePerSec;
  const startMs = performance.now();
  const done = (async () => {
    let sent = 0;
    while (sent < options.total && !options.stopped()) {
      const due = Math.min(options.total, Math.floor((performance.now() - startMs) / intervalMs) + 1);
      while (sent < due) {
        const index = sent++;
        options.send(index, startMs + index * intervalMs);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startMs + sent * intervalMs - performance.now())));
    }
    return sent;
  })();
  return { startMs, done };
}

function workerPace(options: PaceOptions): PaceRun {
  const intervalMs = 1000 / options.ratePerSec;
  const control = new Int32Array(new SharedArrayBuffer(8));
  // The worker's clock (process.hrtime, µs) and ours (performance.now, ms) are the same
  // monotonic clock with different origins: read both at once to line them up.
  const startMs = performance.now();
  const startUs = Number(process.hrtime.bigint()) / 1000;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { control: control.buffer, startUs, intervalUs: intervalMs * 1000, total: options.total, minSpacingUs: MIN_WAKE_SPACING_US } });
  worker.unref();
  let sent = 0;
  const done = new Promise<number>((resolve, reject) => {
    const finish = (): void => {
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 1);
      Atomics.notify(control, 0);
      worker.removeAllListeners('message');
      resolve(sent);
    };
    worker.on('error', reject);
    worker.on('message', () => {
      if (options.stopped()) {
        finish();
        return;
      }
      const due = Math.min(options.total, Math.floor((performance.now() - startMs) / intervalMs) + 1);
      while (sent < due) {
        const index = sent++;
        options.send(index, startMs + index * intervalMs);
      }
      Atomics.store(control, 0, sent);
      Atomics.notify(control, 0);
      if (sent >= options.total) finish();
    });
  });
  return { startMs, done };
}
