import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestNode } from '../testing/harness.ts';
import { capabilities } from '../capabilities.ts';
import { registerWebApp } from './index.ts';
import type { Capability } from '../capability.ts';

function withDist(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-dist-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

const withWebApp = (dist: string): Capability[] => capabilities.map((c) => (c.name === 'webapp' ? { ...c, routes: (app, deps) => registerWebApp(app, deps, { dist }) } : c));

test('the node serves the built app at /, client routes get index.html, API paths never do', async () => {
  const dist = withDist({ 'index.html': '<!doctype html><title>Steadfast</title>', 'assets/app-abc.js': 'console.log(1)' });
  const node = await startTestNode({ capabilities: withWebApp(dist) });
  try {
    const home = await node.fetch('/');
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Steadfast/);
    const deep = await node.fetch('/patient/123?x=1');
    assert.equal(deep.status, 200);
    assert.match(deep.headers.get('content-type') ?? '', /text\/html/);
    const asset = await node.fetch('/assets/app-abc.js');
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await node.fetch('/assets/missing.js')).status, 404);
    const api = await node.fetch('/api/nothing-here');
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    assert.equal((await node.fetch('/fhir/R4/Patient')).status, 401, 'FHIR still needs a signed-in user');
    const escape = await node.fetch('/..%2f..%2f..%2fetc%2fpasswd');
    assert.doesNotMatch(await escape.text(), /root:/, 'no file outside dist is ever served');
  } finally {
    await node.close();
    rmSync(dist, { recursive: true, force: true });
  }
});

test('without a build the node says how to build the app', async () => {
  const dist = mkdtempSync(join(tmpdir(), 'steadfast-nodist-'));
  const node = await startTestNode({ capabilities: withWebApp(dist) });
  try {
    const res = await node.fetch('/');
    assert.equal(res.status, 503);
    assert.match(await res.text(), /npm run build -w @steadfast\/web/);
  } finally {
    await node.close();
    rmSync(dist, { recursive: true, force: true });
  }
});

test('idle lock time: default, practice-admin change, range check; SNOMED CT code search', async () => {
  const dist = mkdtempSync(join(tmpdir(), 'steadfast-nodist-'));
  const node = await startTestNode({ capabilities: withWebApp(dist) });
  try {
    assert.deepEqual(await (await node.fetchAs('receptionist', '/api/webapp/config')).json(), { idleLockMinutes: 10 });
    assert.equal((await node.fetchAs('clinician', '/api/webapp/config', { method: 'PUT', json: { idleLockMinutes: 5 } })).status, 403);
    assert.equal((await node.fetchAs('practice-admin', '/api/webapp/config', { method: 'PUT', json: { idleLockMinutes: 0 } })).status, 400);
    assert.equal((await node.fetchAs('practice-admin', '/api/webapp/config', { method: 'PUT', json: { idleLockMinutes: 5 } })).status, 200);
    assert.deepEqual(await (await node.fetchAs('receptionist', '/api/webapp/config')).json(), { idleLockMinutes: 5 });

    const codes = (await (await node.fetchAs('clinician', '/api/codes?q=hypert')).json()) as { concepts: Array<{ code: string; display: string }> };
    assert.ok(codes.concepts.some((c) => c.code === '38341003'), JSON.stringify(codes));
    assert.equal((await node.fetchAs('clinician', '/api/codes')).status, 400);
    assert.equal((await node.fetchAs('clinician', '/api/codes?q=x&kind=spell')).status, 400);
  } finally {
    await node.close();
    rmSync(dist, { recursive: true, force: true });
  }
});
