// Model-based property test (fast-check commands) of a partition log against a plain
// array of batches: append, read, roll, clean restart, crash (kill -9 style: files
// dropped with no close) and crash with the active .log cut at a random byte. After every
// command the real log agrees with the model: offsets are consecutive, read(o) returns
// the batch holding o (and only whole following batches), reads cross segment rolls, and
// the log end offset matches. The seed is printed; rerun one with SPOOL_FC_SEED=<seed>.

import { truncateSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LogManager, type PartitionLogImpl } from '../../src/storage/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { batchesOf, makeBatch, tempDataDir } from './helpers.js';

interface ModelBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Buffer;
}
interface Model {
  batches: ModelBatch[];
}
interface Real {
  dir: string;
  manager: LogManager;
  log: PartitionLogImpl;
  tag: number;
}

const clock = new ManualClock();
const dirs: Array<() => void> = [];
afterAll(() => dirs.forEach((cleanup) => cleanup()));

async function openReal(dir: string): Promise<{ manager: LogManager; log: PartitionLogImpl }> {
  const manager = await LogManager.open({ dataDir: dir, fsync: { kind: 'never' }, clock, backgroundTasks: false });
  if (!manager.getTopic('m')) await manager.createTopic('m', 1, { segmentBytes: 1024, indexIntervalBytes: 128 });
  return { manager, log: manager.getPartition('m', 0) };
}

function endOf(model: Model): number {
  const last = model.batches[model.batches.length - 1];
  return last ? last.lastOffset + 1 : 0;
}

function check(model: Model, real: Real): void {
  expect(real.log.logEndOffset).toBe(endOf(model));
}

class AppendCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly specs: Array<{ records: number; valueBytes: number }>) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const batches = this.specs.map((spec) => makeBatch(real.tag++, spec.records, spec.valueBytes));
    const result = await real.log.append(Buffer.concat(batches));
    let offset = endOf(model);
    expect(result.baseOffset).toBe(offset);
    for (const [i, spec] of this.specs.entries()) {
      const bytes = Buffer.from(batches[i]!);
      bytes.writeUInt32BE(Math.floor(offset / 2 ** 32), 0);
      bytes.writeUInt32BE(offset >>> 0, 4);
      model.batches.push({ baseOffset: offset, lastOffset: offset + spec.records - 1, bytes });
      offset += spec.records;
    }
    expect(result.lastOffset).toBe(offset - 1);
    check(model, real);
  }
  toString(): string {
    return `append(${JSON.stringify(this.specs)})`;
  }
}

class ReadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly fraction: number, readonly maxBytes: number) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const end = endOf(model);
    const offset = Math.floor(this.fraction * (end + 1));
    const { bytes } = real.log.read(offset, this.maxBytes);
    if (offset === end) {
      expect(bytes.length).toBe(0);
      return;
    }
    const got = batchesOf(bytes);
    const start = model.batches.findIndex((b) => b.lastOffset >= offset);
    expect(got.length).toBeGreaterThan(0);
    expect(bytes.length <= this.maxBytes || got.length === 1).toBe(true);
    for (const [i, batch] of got.entries()) {
      const expected = model.batches[start + i]!;
      expect(batch.baseOffset).toBe(expected.baseOffset);
      expect(batch.bytes.equals(expected.bytes)).toBe(true);
    }
  }
  toString(): string {
    return `read(${this.fraction.toFixed(3)}, ${this.maxBytes})`;
  }
}

class RollCommand implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    real.log.roll();
    check(model, real);
  }
  toString(): string {
    return 'roll';
  }
}

class RestartCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly crash: boolean) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    if (this.crash) real.manager.abandon();
    else await real.manager.close();
    Object.assign(real, await openReal(real.dir));
    check(model, real);
  }
  toString(): string {
    return this.crash ? 'crash' : 'restart';
  }
}

class TruncateCrashCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly fraction: number) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const active = real.log.active;
    const cut = Math.floor(this.fraction * active.sizeBytes);
    const path = active.logPath;
    real.manager.abandon();
    truncateSync(path, cut);
    let position = 0;
    model.batches = model.batches.filter((batch) => {
      if (batch.baseOffset < active.baseOffset) return true;
      position += batch.bytes.length;
      return position <= cut;
    });
    Object.assign(real, await openReal(real.dir));
    check(model, real);
  }
  toString(): string {
    return `truncate-crash(${this.fraction.toFixed(3)})`;
  }
}

const commands = [
  fc
    .array(fc.record({ records: fc.integer({ min: 1, max: 5 }), valueBytes: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 4 })
    .map((specs) => new AppendCommand(specs)),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 3000 })).map(([f, m]) => new ReadCommand(f, m)),
  fc.constant(new RollCommand()),
  fc.boolean().map((crash) => new RestartCommand(crash)),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => new TruncateCrashCommand(f)),
];

describe('partition log model', () => {
  it('agrees with an array of batches under append/read/roll/restart/crash', async () => {
    const seed = Number(process.env.SPOOL_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`model test seed: ${seed} (rerun with SPOOL_FC_SEED=${seed})`);
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (cmds) => {
        const data = tempDataDir();
        dirs.push(data.cleanup);
        const real: Real = { dir: data.dir, tag: 0, ...(await openReal(data.dir)) };
        try {
          await fc.asyncModelRun(() => ({ model: { batches: [] }, real }), cmds);
        } finally {
          await real.manager.close();
        }
      }),
      { seed, numRuns: 25 },
    );
  }, 120_000);
});
