#!/usr/bin/env node
// Runs every test in the repository with node's built-in test runner (through tsx for TypeScript).
// Test files sit beside the code they test: packages/*/src/**/*.test.ts and packages/web/e2e/*.test.ts.
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (name.endsWith('.test.ts') || name.endsWith('.test.tsx')) out.push(relative(root, full));
  }
  return out;
}

const files = [...findTests(join(root, 'packages')), ...findTests(join(root, 'scripts'))]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`No test files matched ${filters.join(' ') || 'packages/**/*.test.ts'}`);
  process.exit(1);
}

// The browser tests drive the built web app: build it when it is missing or older than its sources.
if (files.some((f) => f.startsWith('packages/web/')) && existsSync(join(root, 'packages/web/index.html'))) {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
