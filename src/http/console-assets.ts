// The web console's built files (index.html, app.js, app.css: `npm run build` bundles
// src/console/ into dist/console/ with esbuild), served from memory. dist/console sits two
// folders up from this file both as src/http/*.ts (tests, tsx) and as dist/http/*.js.
// Only the files found there are served (no path from a URL reaches the file system), and
// they are read once, on the first request: the console is a few hundred KiB.

import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export interface ConsoleAsset {
  contentType: string;
  body: Buffer;
}

let assets: Map<string, ConsoleAsset> | null = null;

/** The asset for a URL path ("/" is index.html), or undefined; the map is empty when the console was not built. */
export function consoleAsset(path: string, dir = CONSOLE_DIR): ConsoleAsset | undefined {
  assets ??= loadAssets(dir);
  return assets.get(path === '/' ? '/index.html' : path);
}

function loadAssets(dir: string): Map<string, ConsoleAsset> {
  const loaded = new Map<string, ConsoleAsset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    // Safe: a package built without the console (no dist/console) serves the API and a 404 page.
    return loaded;
  }
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType !== undefined) loaded.set(`/${name}`, { contentType, body: readFileSync(join(dir, name)) });
  }
  return loaded;
}
