// Bundles the web console (src/console/) into dist/console/: app.js and app.css by
// esbuild (one file each, no CDN: the page works offline), and index.html copied. Run by
// `npm run build` after tsc has type-checked src/console/ (its own tsconfig, DOM types).
// esbuild is a dev dependency: without it (an install with --omit=dev that builds) the
// console is skipped with a note, and the admin port serves the API without the page.

import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/console');
const out = join(root, 'dist/console');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('build-console: esbuild is not installed (dev dependency); the web console is not built');
  process.exit(0);
}
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(source, 'main.ts') },
  bundle: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: false,
  outdir: out,
  logLevel: 'warning',
});
copyFileSync(join(source, 'index.html'), join(out, 'index.html'));
