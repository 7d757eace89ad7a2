// Proves the layer arrows of DESIGN.md hold: each src/ folder imports only the folders it
// may (records, storage, protocol and kafka nothing above them; the client never broker, groups
// or storage), and no module imports itself back through a cycle. It reads the import
// statements of every .ts file under src/ and checks them against the allowed table.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

const ALLOWED: Record<string, string[]> = {
  util: [],
  records: ['util'],
  storage: ['records', 'util'],
  protocol: ['records', 'util'],
  // The Kafka wire codec: pure, like protocol.
  kafka: ['records', 'util'],
  groups: ['storage', 'protocol', 'records', 'util'],
  broker: ['groups', 'cluster', 'security', 'storage', 'protocol', 'kafka', 'records', 'util'],
  // Membership, controller and partition state in etcd; the replica fetcher.
  cluster: ['storage', 'records', 'util'],
  // TLS contexts, SASL/SCRAM, principals, ACLs, quotas: no wire, no broker.
  security: ['util'],
  client: ['protocol', 'records', 'util'],
  // The offline dump-segment tool reads segment files directly, hence records and storage.
  // serve starts the broker's ClusterNode; `cluster describe --cluster` reads etcd directly.
  cli: ['client', 'broker', 'cluster', 'http', 'records', 'storage', 'protocol', 'util'],
  // The admin HTTP port reads the broker core (metrics registry, readiness, the console API's calls).
  http: ['broker', 'util'],
  // The web console runs in the browser (bundled by esbuild): it may import the console API's
  // shapes from http/ as types only (checked below), and no server code.
  console: ['http'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a file; `typesOnly: false` leaves out `import type` (erased at run time). */
function importsOf(file: string, typesToo = true): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:import|export)\s([^'"]*?)from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const typeOnly = match[1]?.trimStart().startsWith('type ') ?? false;
    const specifier = match[2] ?? match[3];
    if (typeOnly && !typesToo) continue;
    if (specifier?.startsWith('.')) specifiers.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
  }
  return specifiers;
}

/**
 * Inside broker/: the core (broker/core) knows no wire, and neither front imports the other.
 * The Kafka front may use protocol's generic length-prefix FrameDecoder and RequestLimits.
 */
const BROKER_FORBIDDEN: Record<string, string[]> = {
  'broker/core': ['protocol', 'kafka', 'broker/native', 'broker/kafka'],
  'broker/native': ['kafka', 'broker/kafka'],
  'broker/kafka': ['broker/native'],
};

const files = walk(SRC);
const layerOf = (file: string): string => relative(SRC, file).split(/[\\/]/)[0]!;

describe('architecture', () => {
  it('every import follows the layer arrows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to === from) continue;
        if (!(ALLOWED[from] ?? []).includes(to)) violations.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the broker core knows no wire, and the fronts do not import each other', () => {
    const violations: string[] = [];
    const area = (file: string): string => relative(SRC, file).split(/[\\/]/).slice(0, 2).join('/');
    for (const file of files) {
      const forbidden = BROKER_FORBIDDEN[area(file)];
      if (!forbidden) continue;
      for (const target of importsOf(file)) {
        if (forbidden.includes(layerOf(target)) || forbidden.includes(area(target))) violations.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the web console imports server code as types only, and no server module imports the console', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      const valueTargets = importsOf(file, false);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (from === 'console' && to !== 'console' && valueTargets.includes(target)) violations.push(`${relative(SRC, file)} -> ${relative(SRC, target)} (a value import)`);
        if (from !== 'console' && to === 'console') violations.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  // Type-only imports are erased when compiled, so only value imports can form a cycle at run time.
  it('no circular imports', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file, false).filter((t) => files.includes(t))]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
