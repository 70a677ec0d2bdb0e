#!/usr/bin/env node
// `npm start`: creates the demo practice once in ./.steadfast/demo, then serves it on PORT or 8080.
// Environment: PORT, HOST, STEADFAST_DEMO_PATIENTS (default 10000), STEADFAST_DEMO_SEED, STEADFAST_DEMO_DIR.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = fileURLToPath(new URL('..', import.meta.url));
// The node serves the staff web app from packages/web/dist: build it first when missing or stale.
const build = spawnSync(process.execPath, [fileURLToPath(new URL('./build-web.mjs', import.meta.url))], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

register();
const { main } = await import('../packages/server/src/cli/demo.ts');
await main(root);
