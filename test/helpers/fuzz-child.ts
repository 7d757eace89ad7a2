// The fuzz test's fuzzers, in a process of their own (so building and writing mutated
// input never delays the watchdog that times the broker): runs `connections` fuzzing
// connections (fuzz-stream.ts) against the broker until `deadlineMs`, then prints one line of
// JSON with their counters on stdout.
//
// Run: node --import tsx test/helpers/fuzz-child.ts '<json FuzzChildConfig>'

import { Prng, type FuzzNames } from './fuzz-corpus.js';
import { newStats, runFuzzConnection } from './fuzz-stream.js';

export interface FuzzChildConfig {
  port: number;
  seed: number;
  connections: number;
  /** Date.now() at which to stop (absolute, so the child's start-up time does not extend the run). */
  deadlineMs: number;
  maxFrameBytes: number;
  names: FuzzNames;
}

const config = JSON.parse(process.argv[2]!) as FuzzChildConfig;
const deadline = config.deadlineMs;
const stats = newStats();
await Promise.all(
  Array.from({ length: config.connections }, (_, index) =>
    runFuzzConnection({
      port: config.port,
      prng: new Prng((config.seed + index * 0x9e3779b9) >>> 0),
      names: config.names,
      maxFrameBytes: config.maxFrameBytes,
      stats,
      done: () => Date.now() >= deadline,
    }),
  ),
);
process.stdout.write(`${JSON.stringify({ ...stats, errorCodes: Object.fromEntries([...stats.errorCodes].sort((a, b) => a[0] - b[0])) })}\n`);
process.exit(0);
