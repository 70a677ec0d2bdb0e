/**
 * `steadfast serve` builds the staff web app before it listens when the build is missing or older
 * than the app's sources, so that `npm ci && npx steadfast serve` serves the app rather than the
 * "not built" page. The check and the build are scripts/build-web.mjs (the same ones `npm start` and
 * the tests use); the check runs in this process (a few milliseconds), the build only when needed.
 * Outside a checkout (no script or no web sources) nothing happens. A failed build is reported and
 * the node still starts: the FHIR API and /api work without the app.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILD_COMMAND, WEB_DIST } from './index.ts';

export const BUILD_SCRIPT = fileURLToPath(new URL('../../../../scripts/build-web.mjs', import.meta.url));

/** Build the app into `dist` when needed; true when dist has an index.html afterwards. */
export async function ensureWebAppBuilt(dist: string = WEB_DIST): Promise<boolean> {
  const index = join(dist, 'index.html');
  if (!existsSync(BUILD_SCRIPT)) return existsSync(index);
  const script = (await import(pathToFileURL(BUILD_SCRIPT).href)) as { needsBuild(out: string): boolean };
  if (!script.needsBuild(resolve(dist))) return true;
  // The build's output goes to stderr: stdout carries the node's address for scripts that start it.
  const r = spawnSync(process.execPath, [BUILD_SCRIPT], { stdio: ['ignore', 2, 2], env: { ...process.env, STEADFAST_WEB_DIST: resolve(dist) } });
  if (r.status !== 0) {
    process.stderr.write(`The staff web app could not be built (exit ${r.status ?? r.signal}); serving without it. Build it with: ${BUILD_COMMAND}\n`);
  }
  return existsSync(index);
}
