#!/usr/bin/env node
// The `steadfast` command: runs the TypeScript CLI through tsx (no build step for server code).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
