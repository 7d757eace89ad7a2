// Proves the end-to-end benchmark plumbing (bench/harness) computes what it reports: the
// HdrHistogram wrapper's percentiles against known distributions (within its 3-digit
// precision), result records (rates, units, optional latency fields), the median-of-repeats
// choice, spool's ratio, the table and JSON Lines round trip, workload scaling, and the
// runner's loops against an in-memory fake target (no servers, a few milliseconds).

import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../bench/harness/histogram.js';
import { cpuModel, machineInfo, type MachineInfo } from '../../bench/harness/machine.js';
import { BYTES_PER_MB, formatSettings, formatTable, makeResult, medianRuns, parseJsonLines, spoolRatio, toJsonLine, type RunResult } from '../../bench/harness/report.js';
import { makePayload, runWorkload } from '../../bench/harness/runner.js';
import { parseWorkloadIds, scaleWorkload, WORKLOADS, type ReplayRequest, type Target, type TargetProducer } from '../../bench/harness/workloads.js';

const machine: MachineInfo = {
  commit: 'abc123',
  dirty: false,
  node: 'v20.0.0',
  cpuModel: 'Test CPU',
  cpus: 2,
  os: 'linux',
  memoryGiB: 1,
  loadAverage: 0.5,
  date: '2026-01-01T00:00:00.000Z',
};
const settings = { fsyncMode: 'everysec', acks: 'stored', driving: 'test' };

function result(system: string, workload: 'W1' | 'W4', msgsPerSec: number, p99Ms?: number, run = 1): RunResult {
  const made = makeResult({
    system,
    workload: WORKLOADS[workload],
    run,
    settings,
    machine,
    measurement: {
      messages: msgsPerSec,
      bytes: msgsPerSec * 100,
      seconds: 1,
      complete: true,
      ...(p99Ms === undefined ? {} : { latency: { count: 10, p50Ms: p99Ms / 2, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, meanMs: p99Ms / 2 } }),
    },
  });
  return made;
}

describe('LatencyHistogram', () => {
  it('reports percentiles of a uniform 1..10000 µs distribution within 0.1%', () => {
    const histogram = new LatencyHistogram();
    for (let micros = 1; micros <= 10_000; micros++) histogram.recordMs(micros / 1000);
    const summary = histogram.summary();
    expect(summary.count).toBe(10_000);
    expect(summary.p50Ms).toBeCloseTo(5, 2);
    expect(Math.abs(summary.p99Ms - 9.9) / 9.9).toBeLessThan(0.001);
    expect(Math.abs(summary.p999Ms - 9.99) / 9.99).toBeLessThan(0.001);
    expect(Math.abs(summary.maxMs - 10) / 10).toBeLessThan(0.001);
  });

  it('counts a batch recorded at once as that many samples', () => {
    const histogram = new LatencyHistogram();
    histogram.recordMs(1, 99);
    histogram.recordMs(100, 1);
    expect(histogram.count).toBe(100);
    expect(histogram.percentileMs(50)).toBeCloseTo(1, 2);
    expect(histogram.percentileMs(99)).toBeCloseTo(1, 2);
    expect(histogram.summary().maxMs).toBeCloseTo(100, 0);
  });

  it('is empty-safe, clamps sub-microsecond values, and tracks values beyond its initial range', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.summary()).toMatchObject({ count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    histogram.recordMs(0);
    expect(histogram.percentileMs(50)).toBeCloseTo(0.001, 6);
    histogram.recordMs(10 * 60 * 1000); // 10 minutes: past the initial highest trackable value.
    expect(histogram.summary().maxMs).toBeGreaterThan(590_000);
    histogram.reset();
    expect(histogram.count).toBe(0);
  });

  it('merges histograms sent between processes (encode, decode, add)', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) a.recordMs(ms);
    for (let ms = 101; ms <= 200; ms++) b.recordMs(ms);
    const merged = new LatencyHistogram();
    merged.add(LatencyHistogram.decode(a.encode()));
    merged.add(LatencyHistogram.decode(b.encode()));
    expect(merged.count).toBe(200);
    expect(merged.percentileMs(50)).toBeCloseTo(100, 0);
    expect(merged.summary().maxMs).toBeCloseTo(200, 0);
  });
});

describe('report', () => {
  it('derives msgs/s and MB/s (2^20 bytes) and leaves latency out of replays', () => {
    const replay = makeResult({
      system: 'x',
      workload: WORKLOADS.W3,
      run: 1,
      settings,
      machine,
      measurement: { messages: 1000, bytes: BYTES_PER_MB * 4, seconds: 2, complete: true },
    });
    expect(replay.msgsPerSec).toBe(500);
    expect(replay.mbPerSec).toBe(2);
    expect(replay).not.toHaveProperty('p99Ms');
    expect(replay).toMatchObject({ workload: 'W3', messageBytes: 100, fsyncMode: 'everysec', acks: 'stored', commit: 'abc123', node: 'v20.0.0', cpuModel: 'Test CPU' });
    const rate = result('x', 'W4', 5000, 2);
    expect(rate).toMatchObject({ p50Ms: 1, p99Ms: 2, p999Ms: 2, maxMs: 2, ratePerSec: 5000 });
  });

  it('round-trips JSON Lines, one object per run with the required fields', () => {
    const results = [result('a', 'W1', 100), result('b', 'W4', 5000, 3)];
    const text = results.map(toJsonLine).join('\n') + '\n\n';
    const parsed = parseJsonLines(text);
    expect(parsed).toEqual(results);
    for (const key of ['workload', 'messages', 'bytes', 'seconds', 'msgsPerSec', 'mbPerSec', 'commit', 'node', 'cpuModel', 'fsyncMode', 'messageBytes', 'acks']) {
      expect(parsed[0]).toHaveProperty(key);
    }
    for (const key of ['p50Ms', 'p99Ms', 'p999Ms', 'maxMs']) expect(parsed[1]).toHaveProperty(key);
  });

  it('picks the median run per system and workload, preferring complete runs', () => {
    const runs = [result('a', 'W1', 300, undefined, 1), result('a', 'W1', 100, undefined, 2), result('a', 'W1', 200, undefined, 3)];
    const incomplete = { ...result('a', 'W1', 999, undefined, 4), complete: false };
    const [chosen] = medianRuns([...runs, incomplete]);
    expect(chosen).toMatchObject({ msgsPerSec: 200, run: 3, runs: 4 });
    const latency = medianRuns([result('b', 'W4', 5000, 9, 1), result('b', 'W4', 5000, 1, 2), result('b', 'W4', 5000, 5, 3)]);
    expect(latency[0]).toMatchObject({ p99Ms: 5, run: 3 });
  });

  it('computes spool ratios: msgs/s for throughput, p99 for the rate workload', () => {
    expect(spoolRatio(result('peer', 'W1', 100), result('spool', 'W1', 150))).toBeCloseTo(1.5);
    expect(spoolRatio(result('peer', 'W4', 5000, 4), result('spool', 'W4', 5000, 2))).toBeCloseTo(0.5);
    expect(spoolRatio(result('peer', 'W1', 100), undefined)).toBeUndefined();
  });

  it('prints one aligned table with a ratio column and a settings footer', () => {
    const table = formatTable([result('spool', 'W1', 200), result('Redis Streams', 'W1', 100), result('Redis Streams', 'W4', 5000, 4), result('spool', 'W4', 5000, 2)]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^workload\s+system\s+msgs\/s\s+MB\/s\s+p50 ms\s+p99 ms\s+p99\.9 ms\s+spool ratio\s+runs$/);
    expect(lines).toHaveLength(6);
    expect(table).toContain('2.00x msgs/s');
    expect(table).toContain('0.50x p99');
    expect(new Set(lines.slice(2).map((line) => line.indexOf('x ')))).not.toContain(-1);
    const footer = formatSettings([result('spool', 'W1', 200)]);
    expect(footer).toContain('spool: fsync everysec; acks stored; test');
    expect(footer).toContain('2 x Test CPU');
  });
});

describe('machine', () => {
  it('reads the CPU model from /proc/cpuinfo text and fills every field', () => {
    expect(cpuModel('processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: x\n')).toBe('AMD EPYC 7B13');
    const info = machineInfo();
    expect(info.node).toBe(process.version);
    expect(info.cpus).toBeGreaterThan(0);
    expect(info.commit.length).toBeGreaterThan(0);
  });
});

describe('workloads', () => {
  it('defines W1-W4 as the issue states and scales them for smoke runs', () => {
    expect(WORKLOADS.W1).toMatchObject({ messages: 1_000_000, messageBytes: 100 });
    expect(WORKLOADS.W2).toMatchObject({ messages: 200_000, messageBytes: 1024 });
    expect(WORKLOADS.W3).toMatchObject({ replayOf: 'W1', messages: 1_000_000 });
    expect(WORKLOADS.W4).toMatchObject({ ratePerSec: 5000, durationMs: 10_000, messageBytes: 100 });
    expect(scaleWorkload(WORKLOADS.W4, 0.01)).toMatchObject({ messages: 500, durationMs: 100, ratePerSec: 5000 });
    expect(() => scaleWorkload(WORKLOADS.W1, 0)).toThrow();
    expect(parseWorkloadIds('w1, W3')).toEqual(['W1', 'W3']);
    expect(() => parseWorkloadIds('W9')).toThrow(/unknown workload/);
  });

  it('makes deterministic, incompressible-looking payloads of the asked size', () => {
    const payload = makePayload(1024);
    expect(payload).toHaveLength(1024);
    expect(makePayload(1024).equals(payload)).toBe(true);
    expect(new Set(payload).size).toBeGreaterThan(200);
  });
});

/** An in-memory target: acks after a microtask hop, counts what it stored. */
class FakeTarget implements Target {
  readonly name = 'fake';
  readonly settings = settings;
  readonly streams = new Map<string, number>();
  maxInFlightSeen = 0;
  private inFlight = 0;
  failAfter = Infinity;

  async setup(): Promise<void> {}
  async createStream(stream: string): Promise<void> {
    this.streams.set(stream, 0);
  }
  async deleteStream(stream: string): Promise<void> {
    this.streams.delete(stream);
  }
  async producer(stream: string, mode: 'throughput' | 'latency'): Promise<TargetProducer> {
    return {
      batchMessages: mode === 'latency' ? 1 : 7,
      maxInFlightMessages: mode === 'latency' ? Number.MAX_SAFE_INTEGER : 30,
      publish: async (_payload: Buffer, count: number) => {
        this.inFlight += count;
        this.maxInFlightSeen = Math.max(this.maxInFlightSeen, this.inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        this.inFlight -= count;
        const stored = (this.streams.get(stream) ?? 0) + count;
        if (stored > this.failAfter) throw new Error('disk full');
        this.streams.set(stream, stored);
      },
      async close() {},
    };
  }
  async replay(request: ReplayRequest): Promise<void> {
    const stored = this.streams.get(request.stream) ?? 0;
    for (let sent = 0; sent < Math.min(stored, request.messages); sent += 10) {
      const count = Math.min(10, stored - sent);
      request.onMessages(count, count * 100);
    }
  }
  async close(): Promise<void> {}
}

describe('runner', () => {
  it('produces every message with a bounded window, then replays them', async () => {
    const target = new FakeTarget();
    const w1 = scaleWorkload(WORKLOADS.W1, 0.001); // 1,000 messages
    const produced = await runWorkload(target, w1, 's1');
    expect(produced).toMatchObject({ messages: 1000, bytes: 100_000, complete: true });
    expect(produced.latency?.count).toBe(1000);
    expect(target.streams.get('s1')).toBe(1000);
    expect(target.maxInFlightSeen).toBeLessThanOrEqual(30);
    const replayed = await runWorkload(target, scaleWorkload(WORKLOADS.W3, 0.001), 's1');
    expect(replayed).toMatchObject({ messages: 1000, bytes: 100_000, complete: true });
  });

  it('paces the rate workload and measures each message', async () => {
    const target = new FakeTarget();
    const w4 = scaleWorkload(WORKLOADS.W4, 0.01); // 5,000 msg/s for 100 ms
    const started = Date.now();
    const measurement = await runWorkload(target, w4, 's4');
    expect(measurement).toMatchObject({ messages: 500, complete: true });
    expect(measurement.latency?.count).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('stops on a publish error and reports the run incomplete', async () => {
    const target = new FakeTarget();
    target.failAfter = 100;
    const measurement = await runWorkload(target, scaleWorkload(WORKLOADS.W1, 0.001), 's2');
    expect(measurement.complete).toBe(false);
    expect(measurement.error).toContain('disk full');
    expect(measurement.messages).toBeLessThan(1000);
  });

  it('stops at the timeout when acks never come', async () => {
    const target = new FakeTarget();
    const never: TargetProducer = { batchMessages: 1, maxInFlightMessages: 5, publish: () => new Promise(() => undefined), async close() {} };
    target.producer = async () => never;
    const measurement = await runWorkload(target, { ...scaleWorkload(WORKLOADS.W1, 0.001), timeoutMs: 150 }, 's3');
    expect(measurement).toMatchObject({ messages: 0, complete: false });
    expect(measurement.error).toMatch(/timeout/);
  });
});
