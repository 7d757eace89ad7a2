// Storage micro-benchmarks: the in-memory index lookups on the read path. An offset
// index the size of a full 1 GiB segment (one entry per 4 KiB: 262,144 entries) and a
// time index of the same size, looked up at random targets (binary search over typed
// arrays). Expect well under a microsecond per lookup: the read path's cost is the
// positional read, not the index.

import type { Bench } from 'tinybench';
import { OffsetIndex } from '../../src/storage/offset-index.js';
import { TimeIndex } from '../../src/storage/time-index.js';

export function register(bench: Bench, tiny: boolean): void {
  const entries = tiny ? 1024 : 262_144;
  const offsetIndex = new OffsetIndex(entries);
  const timeIndex = new TimeIndex(entries);
  for (let i = 0; i < entries; i++) {
    offsetIndex.append(i * 40, i * 4096);
    timeIndex.append(1_700_000_000_000 + i * 10, i * 40);
  }
  offsetIndex.takePending();
  timeIndex.takePending();
  const targets = new Uint32Array(4096);
  for (let i = 0; i < targets.length; i++) targets[i] = Math.floor(Math.random() * entries * 40);
  let cursor = 0;
  let sink = 0;

  bench.add(`storage: offset index lookup (${entries} entries)`, () => {
    sink ^= offsetIndex.lookup(targets[cursor++ & 4095]!);
  });
  bench.add(`storage: time index lookup (${entries} entries)`, () => {
    sink ^= timeIndex.lookup(1_700_000_000_000 + targets[cursor++ & 4095]! / 4);
  });
  bench.add('storage: offset index lookup x1000 (amortized)', () => {
    for (let i = 0; i < 1000; i++) sink ^= offsetIndex.lookup(targets[(cursor + i) & 4095]!);
    cursor++;
  });
  if (sink === 0.5) console.log(sink);
}
