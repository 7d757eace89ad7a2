// Drives one workload against one Target and measures it. The same loops drive every
// system, so the only per-system differences are inside each Target's producer and
// replay (batch size, in-flight window, the client's own calls).
//
// Throughput (W1, W2): keep up to maxInFlightMessages unacknowledged, hand over
//   batchMessages per publish call; time runs from the first send to the last ack.
//   Latency is send-to-ack of each publish call (charged to each message in it).
// Rate (W4): a worker-thread pacer (pacer.ts) releases messages on schedule (rate/s) one publish call each; the
//   sender never waits on acks (the window covers the whole run), so a server stall
//   cannot slow it down: it shows up as latency of the messages sent during the stall.
//   Latency is from each message's scheduled send time to its ack.
// Replay (W3): the target reads its stream from the start; time from the request to the
//   last message.
// Every loop ends by itself: by count, or by the workload's timeout (then the result says
// complete: false).

import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import { pace } from './pacer.js';
import type { Measurement } from './report.js';
import type { Target, TargetProducer, Workload } from './workloads.js';

/** A payload of `bytes` pseudo-random bytes (not compressible, same for every message). */
export function makePayload(bytes: number, seed = 0x5eed): Buffer {
  const payload = Buffer.allocUnsafe(bytes);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < bytes; index++) {
    // xorshift32: cheap, deterministic, not all zeros.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    payload[index] = state & 0xff;
  }
  return payload;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A wake-up signal the producer loop awaits; a watchdog interval bounds every wait. */
class Signal {
  private resolve: (() => void) | undefined;
  wait(): Promise<void> {
    return new Promise((resolve) => (this.resolve = resolve));
  }
  notify(): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }
}

/** `histogram` may be passed in to keep the recorded values (e.g. to merge several producers'). */
export async function runThroughput(producer: TargetProducer, workload: Workload, histogram = new LatencyHistogram()): Promise<Measurement> {
  const payload = makePayload(workload.messageBytes);
  const signal = new Signal();
  const total = workload.messages;
  const batchMessages = Math.max(1, producer.batchMessages);
  const window = Math.max(batchMessages, producer.maxInFlightMessages);
  let sent = 0;
  let acked = 0;
  let inFlight = 0;
  let error: string | undefined;
  const start = performance.now();
  const deadline = start + workload.timeoutMs;
  let lastAck = start;
  const watchdog = setInterval(() => signal.notify(), 100);
  try {
    while (sent < total && error === undefined && performance.now() < deadline) {
      const count = Math.min(batchMessages, total - sent);
      if (inFlight + count > window) {
        await signal.wait();
        continue;
      }
      inFlight += count;
      sent += count;
      const sentAt = performance.now();
      producer.publish(payload, count).then(
        () => {
          const now = performance.now();
          histogram.recordMs(now - sentAt, count);
          acked += count;
          inFlight -= count;
          lastAck = now;
          signal.notify();
        },
        (failure: unknown) => {
          error ??= errorText(failure);
          inFlight -= count;
          signal.notify();
        },
      );
    }
    while (inFlight > 0 && error === undefined && performance.now() < deadline) await signal.wait();
  } finally {
    clearInterval(watchdog);
  }
  return producedMeasurement(workload, { total, acked, start, lastAck, error, histogram });
}

/** What a produce loop measured; a run that fell short says why (the first error, or the timeout). */
function producedMeasurement(
  workload: Workload,
  run: { total: number; acked: number; start: number; lastAck: number; error: string | undefined; histogram: LatencyHistogram },
): Measurement {
  const measurement: Measurement = {
    messages: run.acked,
    bytes: run.acked * workload.messageBytes,
    seconds: (run.lastAck - run.start) / 1000,
    latency: run.histogram.summary(),
    complete: run.acked === run.total && run.error === undefined,
  };
  if (run.error !== undefined) measurement.error = run.error;
  else if (run.acked < run.total) measurement.error = `timeout after ${workload.timeoutMs} ms`;
  return measurement;
}

export async function runRate(producer: TargetProducer, workload: Workload): Promise<Measurement> {
  const rate = workload.ratePerSec ?? 1000;
  const durationMs = workload.durationMs ?? 1000;
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const payload = makePayload(workload.messageBytes);
  const histogram = new LatencyHistogram();
  const signal = new Signal();
  let sent = 0;
  let acked = 0;
  let inFlight = 0;
  let error: string | undefined;
  let start = performance.now();
  const deadline = start + workload.timeoutMs;
  let lastAck = start;
  const watchdog = setInterval(() => signal.notify(), 100);
  try {
    // A worker thread keeps the schedule (pacer.ts; 1 ms timers released each millisecond's
    // messages together, up to 1 ms late); latency still counts from each scheduled time.
    const run = pace({
      ratePerSec: rate,
      total,
      stopped: () => error !== undefined || performance.now() >= deadline,
      send(index, scheduledAt) {
        sent = index + 1;
        inFlight++;
        producer.publish(payload, 1).then(
          () => {
            const ackedAt = performance.now();
            histogram.recordMs(ackedAt - scheduledAt);
            acked++;
            inFlight--;
            lastAck = ackedAt;
            signal.notify();
          },
          (failure: unknown) => {
            error ??= errorText(failure);
            inFlight--;
            signal.notify();
          },
        );
      },
    });
    start = run.startMs;
    lastAck = start;
    await run.done;
    while (inFlight > 0 && error === undefined && performance.now() < deadline) await signal.wait();
  } finally {
    clearInterval(watchdog);
  }
  return producedMeasurement(workload, { total, acked, start, lastAck, error, histogram });
}

export async function runReplay(target: Target, stream: string, workload: Workload): Promise<Measurement> {
  let received = 0;
  let bytes = 0;
  const start = performance.now();
  let lastMessage = start;
  let error: string | undefined;
  try {
    await target.replay({
      stream,
      messages: workload.messages,
      deadline: Date.now() + workload.timeoutMs,
      onMessages(count, valueBytes) {
        received += count;
        bytes += valueBytes;
        lastMessage = performance.now();
      },
    });
  } catch (failure) {
    error = errorText(failure);
  }
  const measurement: Measurement = {
    messages: received,
    bytes,
    seconds: (lastMessage - start) / 1000,
    complete: received >= workload.messages && error === undefined,
  };
  if (error !== undefined) measurement.error = error;
  else if (received < workload.messages) measurement.error = `timeout after ${workload.timeoutMs} ms`;
  return measurement;
}

/**
 * Runs one workload. Throughput and rate workloads create `stream` fresh; a replay reads
 * `stream` as left by the workload it replays (the caller passes that stream's name).
 */
export async function runWorkload(target: Target, workload: Workload, stream: string): Promise<Measurement> {
  if (workload.kind === 'replay') return runReplay(target, stream, workload);
  await target.createStream(stream);
  const producer = await target.producer(stream, workload.kind === 'rate' ? 'latency' : 'throughput');
  try {
    return workload.kind === 'rate' ? await runRate(producer, workload) : await runThroughput(producer, workload);
  } finally {
    await producer.close();
  }
}
