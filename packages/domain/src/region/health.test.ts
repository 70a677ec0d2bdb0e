import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHealthSamples, checkHeartbeat, percentileMs, weekStartOf, weeklyHealthOf, windowStartOf, type HealthSample } from './index.ts';

const SENT = Date.parse('2026-12-03T15:00:30.000Z');

function sample(over: Partial<HealthSample> = {}): HealthSample {
  return {
    windowStart: '2026-12-03T14:55:00.000Z', exchanges: 60, failedExchanges: 2, slowExchanges: 1, requests: 400, p50Ms: 12, p95Ms: 80,
    routeErrors: [{ route: 'GET /fhir/Patient/:id', status4xx: 3, status5xx: 1 }], restarts: 0, outboxFailures: 0, inboxFailures: 0, ...over,
  };
}

const field = (value: unknown) => {
  const r = checkHealthSamples(value, SENT);
  return r.ok ? undefined : r.problem.field;
};

test('possible health samples pass unchanged, and no list means no samples', () => {
  const r = checkHealthSamples(JSON.parse(JSON.stringify([sample(), sample({ windowStart: '2026-12-03T15:00:00.000Z', requests: 0, p50Ms: null, p95Ms: null, routeErrors: [] })])), SENT);
  assert.ok(r.ok);
  assert.deepEqual(r.samples[0], sample());
  assert.deepEqual(checkHealthSamples(undefined, SENT), { ok: true, samples: [] });
});

test('impossible health figures are refused naming the field', () => {
  assert.equal(field([sample({ failedExchanges: 61 })]), 'health[0].failedExchanges');
  assert.equal(field([sample({ slowExchanges: 61 })]), 'health[0].slowExchanges');
  assert.equal(field([sample({ exchanges: -1 })]), 'health[0].exchanges');
  assert.equal(field([sample({ outboxFailures: 1.5 })]), 'health[0].outboxFailures');
  assert.equal(field([sample({ restarts: 2 })]), 'health[0].restarts');
  assert.equal(field([sample({ p50Ms: 90 })]), 'health[0].p50Ms');
  assert.equal(field([sample({ p95Ms: -3 })]), 'health[0].p95Ms');
  assert.equal(field([sample({ p50Ms: 5, p95Ms: null })]), 'health[0].p95Ms');
  assert.equal(field([sample({ requests: 0, p50Ms: 1, p95Ms: 2 })]), 'health[0].p50Ms');
  assert.equal(field([sample({ requests: 3, p50Ms: 1, p95Ms: 2 })]), 'health[0].routeErrors');
  assert.equal(field([sample({ routeErrors: [{ route: 'GET /fhir/Patient/9990000018', status4xx: 1, status5xx: 0 }, { route: 'GET /fhir/Patient/9990000018', status4xx: 1, status5xx: 0 }] })]), 'health[0].routeErrors[1].route');
  assert.equal(field([sample({ routeErrors: [{ route: 'GET /fhir?name=SMITH', status4xx: 1, status5xx: 0 }] })]), 'health[0].routeErrors[0].route');
});

test('windows must be aligned, not in the future, not older than retention, and each sent once', () => {
  assert.equal(field([sample({ windowStart: '2026-12-03T14:56:00.000Z' })]), 'health[0].windowStart');
  assert.equal(field([sample({ windowStart: '2026-12-03T15:05:00.000Z' })]), 'health[0].windowStart');
  assert.equal(field([sample({ windowStart: '2025-10-01T00:00:00.000Z' })]), 'health[0].windowStart');
  assert.equal(field([sample(), sample()]), 'health[1].windowStart');
  assert.equal(field(Array.from({ length: 13 }, (_, i) => sample({ windowStart: new Date(SENT - 300_000 * (i + 1) - 30_000).toISOString() }))), 'health');
});

test('a heartbeat with an impossible health sample is refused as a whole', () => {
  const hb = {
    protocol: 1, practice: 'B82005', nodeId: 'n1', seq: 1, sentAt: new Date(SENT).toISOString(), reason: 'idle', version: '0.1.0', startedAt: '2026-12-03T08:00:00.000Z',
    standby: { configured: false, up: false, lastExchangeAt: null }, hub: { reachable: true, lastExchangeAt: null }, disk: null, backlog: [], health: [sample({ failedExchanges: 99 })],
  };
  const r = checkHeartbeat(hb, new Date(SENT));
  assert.equal(r.ok ? undefined : r.problem.field, 'health[0].failedExchanges');
  const ok = checkHeartbeat({ ...hb, health: [sample()] }, new Date(SENT));
  assert.ok(ok.ok && ok.heartbeat.health?.length === 1);
});

test('windows, percentiles and weeks', () => {
  assert.equal(new Date(windowStartOf(Date.parse('2026-12-03T14:59:59.999Z'))).toISOString(), '2026-12-03T14:55:00.000Z');
  assert.equal(percentileMs([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentileMs([], 95), null);
  assert.equal(weekStartOf('2026-12-03'), '2026-11-30');
  assert.equal(weekStartOf('2026-11-30'), '2026-11-30');
  assert.equal(weekStartOf('2026-12-06'), '2026-11-30');
  const w = weeklyHealthOf('2026-11-30', { exchanges: 10, failedExchanges: 1, slowExchanges: 2, requests: 9, errors4xx: 50, errors5xx: 3, restarts: 1, outboxFailures: 4, inboxFailures: 5, worstP95Ms: 9 });
  assert.equal(w.routeErrors, 3, 'client errors (4xx) are not failures of the node');
});
