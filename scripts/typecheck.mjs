#!/usr/bin/env node
// Type-checks every project listed in the root tsconfig.json's "references", each with its own
// tsconfig (its own lib and types: the domain has neither DOM nor Node, the web app has DOM only, the
// Node side has Node only). `tsc -b` would need "composite" projects that emit declarations, which
// these source-only workspaces (packages export their .ts files) do not; so each is run with `tsc -p`.
// Usage: node scripts/typecheck.mjs [project-substring ...]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const { references } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
const projects = references.map((r) => r.path).filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)));
if (projects.length === 0) {
  console.error(`No project in tsconfig.json's references matched ${filters.join(' ')}`);
  process.exit(1);
}
const tsc = join(root, 'node_modules/typescript/bin/tsc');

function check(project) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: root });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ project, code, out, seconds: (Date.now() - started) / 1000 }));
  });
}

// Two at a time: the machines this runs on have two cores.
const queue = [...projects];
const results = [];
await Promise.all(
  [0, 1].map(async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      const r = await check(p);
      console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.project} (${r.seconds.toFixed(1)} s)`);
      if (r.out.trim()) process.stdout.write(r.out.endsWith('\n') ? r.out : `${r.out}\n`);
      results.push(r);
    }
  }),
);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
