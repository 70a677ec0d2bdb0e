#!/usr/bin/env node
// Builds the staff web app (packages/web/dist) when it is missing or older than any of its sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = new URL('../packages/web/', import.meta.url).pathname;
const built = join(web, 'dist/index.html');

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

if (!existsSync(join(web, 'index.html'))) process.exit(0);
if (existsSync(built) && statSync(built).mtimeMs >= newest(web) && !process.argv.includes('--force')) process.exit(0);
console.error('Building the staff web app (packages/web) ...');
const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
process.exit(r.status ?? 1);
