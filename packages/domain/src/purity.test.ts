/**
 * The domain package is pure: its barrel and every subpath the browser may import bundle for the
 * browser with no Node built-ins (fs, path, crypto...). The Node-only subpath is the one exception,
 * and this test proves it is the one that needs Node, so the check can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string> };
const NODE_ONLY = new Set(['./fhir-definitions']);

async function bundleForBrowser(entry: string): Promise<string[]> {
  try {
    await build({ entryPoints: [new URL(`../${entry}`, import.meta.url).pathname], bundle: true, platform: 'browser', write: false, logLevel: 'silent', format: 'esm' });
    return [];
  } catch (err) {
    return ((err as { errors?: Array<{ text: string }> }).errors ?? [{ text: String(err) }]).map((e) => e.text);
  }
}

test('every browser-facing export of @steadfast/domain bundles for the browser without Node built-ins', async () => {
  for (const [subpath, file] of Object.entries(pkg.exports)) {
    if (NODE_ONLY.has(subpath)) continue;
    assert.deepEqual(await bundleForBrowser(file), [], `${subpath} (${file}) must not need Node`);
  }
});

test('the Node-only subpath is Node-only (the check above can fail)', async () => {
  const errors = await bundleForBrowser(pkg.exports['./fhir-definitions']!);
  assert.ok(errors.some((e) => /Could not resolve "(fs|path|node:)/.test(e)), errors.join('\n'));
});
