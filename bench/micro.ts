// Runs the tinybench micro-benchmarks: `npm run bench` (all) or `npm run bench -- crc32c`
// (those whose name contains the filter). `--tiny` runs each a few times (used by tests).
// Each bench/micro/<name>.ts exports `register(bench, tiny)`.

import { Bench } from 'tinybench';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface MicroModule {
  register(bench: Bench, tiny: boolean): void | Promise<void>;
}

export async function runMicro(options: { tiny: boolean; filter?: string | undefined }): Promise<Bench> {
  const bench = options.tiny ? new Bench({ iterations: 2, time: 0, warmup: false, throws: true }) : new Bench({ time: 1000 });
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'micro');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as MicroModule;
    await mod.register(bench, options.tiny);
  }
  if (options.filter) {
    for (const task of [...bench.tasks]) if (!task.name.includes(options.filter)) bench.remove(task.name);
  }
  await bench.run();
  return bench;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const tiny = process.argv.includes('--tiny');
  const filter = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const bench = await runMicro({ tiny, filter });
  console.table(bench.table());
}
