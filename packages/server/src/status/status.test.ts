import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode } from '../testing/harness.ts';
import { collectStatus, registerStatusProvider, sanitise } from './index.ts';

test('the hub shows "not configured" until sync registers a provider', async () => {
  const scope = {};
  const [hub] = await collectStatus(scope);
  assert.equal(hub!.name, 'hub');
  assert.equal(hub!.state, 'not-configured');
});

test('"connected" needs a recent last contact; otherwise it is reported as unknown', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  assert.equal(sanitise('hub', 'Hub', { state: 'connected', lastContact: '2026-11-25T11:59:30Z' }, now).state, 'connected');
  assert.equal(sanitise('hub', 'Hub', { state: 'connected', lastContact: '2026-11-25T11:00:00Z' }, now).state, 'unknown');
  assert.equal(sanitise('hub', 'Hub', { state: 'connected' }, now).state, 'unknown');
  assert.equal(sanitise('hub', 'Hub', { state: 'online!' }, now).state, 'unknown');
  assert.equal(sanitise('hub', 'Hub', null, now).state, 'unknown');
  assert.equal(sanitise('x', 'X', { state: 'disconnected', queued: 12.7, since: 'a' }, now).queued, 12);
});

test('a provider that throws or never answers is unknown, not connected', async () => {
  const scope = {};
  registerStatusProvider('mesh', { label: 'MESH', report: () => { throw new Error('socket closed'); } }, scope);
  let release!: () => void;
  const hang = new Promise<void>((r) => (release = r));
  registerStatusProvider('notify', { label: 'GOV.UK Notify', report: async () => { await hang; return { state: 'connected', lastContact: new Date().toISOString() }; } }, scope);
  const status = await collectStatus(scope);
  release();
  const by = Object.fromEntries(status.map((s) => [s.name, s]));
  assert.equal(by.mesh!.state, 'unknown');
  assert.match(by.mesh!.detail!, /socket closed/);
  assert.equal(by.notify!.state, 'unknown');
  assert.match(by.notify!.detail!, /no answer within/);
});

test('GET /api/status over HTTP: signed-in users see the hub and queues; signed-out users get 401', async () => {
  const node = await startTestNode();
  try {
    const remove = registerStatusProvider('outbox', { label: 'SMS outbox', report: () => ({ state: 'disconnected', since: '2026-11-25T09:00:00Z', queued: 7 }) }, node.store);
    const res = await node.fetchAs('receptionist', '/api/status');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { services: Array<{ name: string; state: string; queued?: number }> };
    assert.deepEqual(body.services.find((s) => s.name === 'hub')?.state, 'not-configured');
    assert.deepEqual(body.services.find((s) => s.name === 'outbox'), { name: 'outbox', label: 'SMS outbox', state: 'disconnected', since: '2026-11-25T09:00:00Z', queued: 7 });
    remove();
    assert.equal((await node.fetch('/api/status')).status, 401);
  } finally {
    await node.close();
  }
});
