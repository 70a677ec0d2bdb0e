import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const webSources = fileURLToPath(new URL('../../../web/index.html', import.meta.url));

test('regression: `npx steadfast serve` after `npm ci` answered "not built" instead of the app', { skip: existsSync(webSources) ? false : 'no web app sources in this checkout', timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-serve-build-'));
  const dist = join(dir, 'dist'); // no build there yet, as after a fresh `npm ci`
  const child = spawn(process.execPath, [bin, 'serve', '--data', join(dir, 'data'), '--init', '--port', '0', '--mllp-port', '0'], {
    env: { ...process.env, STEADFAST_WEB_DIST: dist, PORT: '', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = / at (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`serve exited ${code} before listening: ${stderr}`)));
    });
    const home = await fetch(`${url}/`);
    const html = await home.text();
    assert.equal(home.status, 200, html.slice(0, 300));
    assert.doesNotMatch(html, /has not been built/);
    assert.match(html, /<div id="root"><\/div>/);
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html);
    assert.ok(script, `the built index.html names its script: ${html}`);
    const asset = await fetch(`${url}${script[1]}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    assert.match(stderr, /Building the staff web app/);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
