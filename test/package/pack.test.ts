// Proves the published package works in an empty folder, as a user gets it: `npm pack` of
// the built checkout (dist/ as `npm test` builds it; --ignore-scripts, so the suite's dist is
// never deleted under other tests), the tarball holds only dist/, docs/ and README.md and no
// benchmark dependency, `npm install --offline <tarball>` into a temp folder from the local
// npm cache (which `npm ci` filled), then `npx spool --version`, `spool serve --port 0
// --http off` with a produce/consume round trip through the installed CLI, and a script
// that imports `spool/broker` and `spool` by package name (the exports map) and round-trips
// a message through the embedded broker. Also that a production install of a checkout
// (`npm ci --omit=dev`, no TypeScript) succeeds: `prepare` skips the build instead of
// failing on a missing tsc. Nothing here goes to the network. `npm ci` caches
// the dependency tarballs but not always the registry's package documents that `npm install
// <tarball>` resolves version ranges with; when those are missing (ENOTCACHED), the install
// is redone as `npm ci --offline` with a lock file made from the repository's (the same
// versions the suite tests, tarballs found in the cache by integrity). Skips, saying why,
// only when that too finds a tarball missing from the cache.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** npm settings `npm test` passes down that the nested npm should keep: where the cache is. */
const KEPT_NPM_VARIABLES = new Set(['npm_config_cache', 'npm_config_userconfig']);

/**
 * Runs a program without a shell; never rejects. The rest of npm's own environment from
 * `npm test` (lifecycle, package, prefix variables) is dropped so it cannot redirect the
 * nested install.
 */
function run(file: string, args: string[], options: { cwd: string; input?: string; timeoutMs?: number }): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || KEPT_NPM_VARIABLES.has(name.toLowerCase())));
  return new Promise((resolveRun) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, env: { ...env, SPOOL_BROKER: '', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }, timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolveRun({ code, stdout, stderr: error?.killed ? `${stderr}[killed after timeout]` : stderr });
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

function expectOk(result: Run): Run {
  expect(result.code, `exit code; stderr:\n${result.stderr}\nstdout:\n${result.stdout}`).toBe(0);
  return result;
}

/**
 * package.json and package-lock.json of an app that depends on the tarball: the lock holds the
 * tarball and every non-dev package of the repository's lock (spool's dependency tree,
 * hoisted as in the repository), so `npm ci --offline` needs no registry documents.
 */
function writeLockedApp(app: string, tarball: string): void {
  const repositoryLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const spec = `file:${tarball}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'spool-pack-test-app', version: '1.0.0', dependencies: { spool: spec } },
    'node_modules/spool': { version: manifest['version'], resolved: spec, integrity, license: manifest['license'], dependencies: manifest['dependencies'], bin: manifest['bin'], engines: manifest['engines'] },
  };
  for (const [path, entry] of Object.entries(repositoryLock.packages)) {
    if (path.startsWith('node_modules/') && entry.dev !== true) packages[path] = entry;
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'spool-pack-test-app', version: '1.0.0', private: true, type: 'module', dependencies: { spool: spec } }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'spool-pack-test-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
}

describe('npm pack: the tarball installs and runs in an empty folder', () => {
  let dir: string;
  let app: string;
  let tarball: string;
  let packedFiles: string[] = [];
  let notCached = '';

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'dist/ is missing: run `npm run build` first (npm test does)').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'spool-pack-'));
    const packed = expectOk(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, timeoutMs: 60_000 }));
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, info!.filename);
    packedFiles = info!.files.map((file) => file.path);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'spool-pack-test-app', version: '1.0.0', private: true, type: 'module' }));
    let installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeoutMs: 90_000 });
    if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) {
      writeLockedApp(app, tarball);
      installed = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app, timeoutMs: 90_000 });
    }
    if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) notCached = installed.stderr.split('\n').find((line) => /request to/.test(line)) ?? 'ENOTCACHED';
    else expectOk(installed);
  }, 150_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships dist/, docs/ and README.md only, and no benchmark dependency', () => {
    expect(packedFiles).toContain('dist/cli/main.js');
    expect(packedFiles).toContain('dist/broker/embed.js');
    expect(packedFiles).toContain('dist/broker/embed.d.ts');
    expect(packedFiles).toContain('docs/design.md');
    const outside = packedFiles.filter((path) => !/^(dist\/|docs\/|README\.md$|package\.json$|LICENSE)/.test(path));
    expect(outside).toEqual([]);
    expect(packedFiles.filter((path) => path.endsWith('.map') || path.endsWith('.test.js'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('hdr-histogram-js');
    expect(Object.keys(manifest.dependencies)).not.toContain('kafkajs');
  });

  it('npx spool --version, then spool serve --port 0 --http off and a produce/consume round trip', async (context) => {
    if (notCached) context.skip(`the local npm cache lacks a dependency of the package (run npm ci online once): ${notCached}`);
    const version = expectOk(await run('npx', ['--no-install', 'spool', '--version'], { cwd: app }));
    expect(version.stdout.trim()).toBe(VERSION);
    const spool = join(app, 'node_modules/.bin/spool');
    const server = spawn(spool, ['serve', '--port', '0', '--http', 'off', '--data-dir', join(dir, 'data')], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolveExit) => server.once('exit', () => resolveExit()));
    try {
      let stderr = '';
      server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const address = await new Promise<string>((resolveAddress, reject) => {
        let stdout = '';
        const timer = setTimeout(() => reject(new Error(`spool serve did not listen in 20 s; stderr: ${stderr}`)), 20_000);
        server.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const match = /^spool listening on (127\.0\.0\.1:\d+)/m.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolveAddress(match[1]!);
          }
        });
        server.once('exit', (code) => reject(new Error(`spool serve exited with ${code}; stderr: ${stderr}`)));
      });
      expectOk(await run(spool, ['--broker', address, 'topic', 'create', 'greetings'], { cwd: app }));
      expectOk(await run(spool, ['--broker', address, 'produce', 'greetings'], { cwd: app, input: 'hello\nfrom the tarball\n' }));
      const consumed = expectOk(await run(spool, ['--broker', address, 'consume', 'greetings', '--from-beginning', '--max-messages', '2'], { cwd: app }));
      expect(consumed.stdout).toBe('hello\nfrom the tarball\n');
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  }, 60_000);

  it("import { startBroker } from 'spool/broker' starts a real broker the SDK talks to", async (context) => {
    if (notCached) context.skip(`the local npm cache lacks a dependency of the package (run npm ci online once): ${notCached}`);
    writeFileSync(
      join(app, 'embedded.mjs'),
      `import { startBroker } from 'spool/broker';
import { Client } from 'spool';
import { existsSync } from 'node:fs';
const broker = await startBroker();
const client = new Client({ brokers: [broker.address] });
await client.admin().createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
await client.producer().send({ topic: 'orders', messages: [{ key: 'k', value: 'embedded' }] });
const consumer = client.consumer();
await consumer.assign([{ topic: 'orders', partition: 0, offset: 'earliest' }]);
let value;
for await (const message of consumer) {
  value = message.value?.toString();
  break;
}
await client.close();
await broker.close();
console.log(JSON.stringify({ address: broker.address, value, dataDirRemoved: !existsSync(broker.dataDir) }));
`,
    );
    const result = expectOk(await run(process.execPath, ['embedded.mjs'], { cwd: app }));
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { address: string; value: string; dataDirRemoved: boolean };
    expect(report.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(report.value).toBe('embedded');
    expect(report.dataDirRemoved).toBe(true);
  }, 60_000);
});

describe('npm ci --omit=dev in a checkout', () => {
  it('succeeds without TypeScript: prepare says it skips the build', async (context) => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-omit-dev-'));
    try {
      for (const file of ['package.json', 'package-lock.json', 'scripts/prepare.mjs']) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), readFileSync(join(ROOT, file)));
      }
      const installed = await run('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: dir, timeoutMs: 90_000 });
      if (installed.code !== 0 && /ENOTCACHED/.test(installed.stderr)) {
        context.skip(`the local npm cache lacks a runtime dependency (run npm ci online once): ${installed.stderr.split('\n').find((line) => /request to/.test(line)) ?? 'ENOTCACHED'}`);
      }
      expectOk(installed);
      expect(installed.stdout).toContain('typescript is not installed (a production install), skipping the build');
      expect(existsSync(join(dir, 'node_modules/typescript'))).toBe(false);
      expect(existsSync(join(dir, 'node_modules/hdr-histogram-js'))).toBe(false);
      expect(existsSync(join(dir, 'node_modules/commander'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
