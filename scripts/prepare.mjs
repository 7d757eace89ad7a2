// npm runs `prepare` after `npm install` / `npm ci` in a checkout and before `npm pack`.
// It builds dist/ with tsc, which is a dev dependency: a production install
// (`npm ci --omit=dev`) has no tsc, so there it says so and succeeds instead of failing.
// The published package ships dist/ (package.json "files"), so installing the tarball
// never runs this.
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('typescript');
} catch {
  console.log('spool prepare: typescript is not installed (a production install), skipping the build; dist/ is used as it is');
  process.exit(0);
}
execSync('npm run build', { stdio: 'inherit' });
