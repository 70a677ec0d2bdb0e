#!/usr/bin/env node
// `npm start`: creates the demo practice once in ./.steadfast/demo, then serves it on PORT or 8080.
// Environment: PORT, HOST, STEADFAST_DEMO_PATIENTS (default 10000), STEADFAST_DEMO_SEED, STEADFAST_DEMO_DIR.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = fileURLToPath(new URL('..', import.meta.url));
const { main } = await import('../packages/server/src/cli/demo.ts');
await main(root);
