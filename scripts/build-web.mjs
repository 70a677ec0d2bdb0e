#!/usr/bin/env node
// Builds the staff web app, and the patient's online consultation form (packages/patient-web, served
// at /consult/), when a build is missing or older than any of its sources.
// Output: packages/web/dist, or the folder in STEADFAST_WEB_DIST (the same variable the node serves from);
// packages/patient-web/dist, or STEADFAST_PATIENT_WEB_DIST.
// `--force` builds even when the build is current. `steadfast serve` (through needsBuild, so a node
// whose build is current starts without a second process), `npm start` and the tests run this.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../packages/web/', import.meta.url));
const patientWeb = fileURLToPath(new URL('../packages/patient-web/', import.meta.url));

export function patientOutDir() {
  return process.env.STEADFAST_PATIENT_WEB_DIST ? resolve(process.env.STEADFAST_PATIENT_WEB_DIST) : join(patientWeb, 'dist');
}

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

function stale(sources, out) {
  if (!existsSync(join(sources, 'index.html'))) return false;
  const built = join(out, 'index.html');
  return !existsSync(built) || statSync(built).mtimeMs < newest(sources);
}

/** True when this checkout has an app's sources and its output has no build of them, or an older one. */
export function needsBuild(out = outDir()) {
  return stale(web, out) || stale(patientWeb, patientOutDir());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = outDir();
  const force = process.argv.includes('--force');
  const apps = [
    { sources: web, out, label: 'the staff web app (packages/web' },
    { sources: patientWeb, out: patientOutDir(), label: "the patient's online consultation form (packages/patient-web" },
  ];
  for (const app of apps) {
    if (!existsSync(join(app.sources, 'index.html')) || (!force && !stale(app.sources, app.out))) continue;
    console.error(`Building ${app.label} → ${app.out}) ...`);
    const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', app.out, '--emptyOutDir'], { cwd: app.sources, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}
