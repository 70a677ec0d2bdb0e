#!/usr/bin/env node
// Builds the staff web app when its build is missing or older than any of its sources.
// Output: packages/web/dist, or the folder in STEADFAST_WEB_DIST (the same variable the node serves from).
// `--force` builds even when the build is current. `steadfast serve` (through needsBuild, so a node
// whose build is current starts without a second process), `npm start` and the tests run this.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../packages/web/', import.meta.url));

export function outDir() {
  return process.env.STEADFAST_WEB_DIST ? resolve(process.env.STEADFAST_WEB_DIST) : join(web, 'dist');
}

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'e2e') continue;
    const full = join(dir, name);
    const s = statSync(full);
    t = Math.max(t, s.isDirectory() ? newest(full) : s.mtimeMs);
  }
  return t;
}

/** True when this checkout has the app's sources and `out` has no build of them, or an older one. */
export function needsBuild(out = outDir()) {
  if (!existsSync(join(web, 'index.html'))) return false;
  const built = join(out, 'index.html');
  return !existsSync(built) || statSync(built).mtimeMs < newest(web);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = outDir();
  if (!needsBuild(out) && !process.argv.includes('--force')) process.exit(0);
  if (!existsSync(join(web, 'index.html'))) process.exit(0);
  console.error(`Building the staff web app (packages/web → ${out}) ...`);
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', out, '--emptyOutDir'], { cwd: web, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
