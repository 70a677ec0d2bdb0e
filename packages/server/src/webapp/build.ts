/**
 * `steadfast serve` builds the staff web app before it listens when the build is missing or older
 * than the app's sources, so that `npm ci && npx steadfast serve` serves the app rather than the
 * "not built" page. It runs scripts/build-web.mjs (the same check `npm start` and the tests use);
 * outside a checkout (no script or no web sources) it does nothing. A failed build is reported and
 * the node still starts: the FHIR API and /api work without the app.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_COMMAND, WEB_DIST } from './index.ts';

export const BUILD_SCRIPT = fileURLToPath(new URL('../../../../scripts/build-web.mjs', import.meta.url));

/** Build the app into `dist` when needed; true when dist has an index.html afterwards. */
export function ensureWebAppBuilt(dist: string = WEB_DIST): boolean {
  const index = join(dist, 'index.html');
  if (!existsSync(BUILD_SCRIPT)) return existsSync(index);
  // The build's output goes to stderr: stdout carries the node's address for scripts that start it.
  const r = spawnSync(process.execPath, [BUILD_SCRIPT], { stdio: ['ignore', 2, 2], env: { ...process.env, STEADFAST_WEB_DIST: resolve(dist) } });
  if (r.status !== 0) {
    process.stderr.write(`The staff web app could not be built (exit ${r.status ?? r.signal}); serving without it. Build it with: ${BUILD_COMMAND}\n`);
  }
  return existsSync(index);
}
