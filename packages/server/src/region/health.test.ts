import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HEALTH_WINDOW_MS, HEARTBEAT_CONTENT_TYPE, HEARTBEAT_PATH, windowStartOf, type EarlyWarningResponse, type HealthSample, type HealthSeriesResponse } from '@steadfast/domain/region';
import { startTestNode, postgresAvailable, PG_SKIP_REASON, TEST_PG_URL, type TestNode } from '../testing/harness.ts';
import { startHub, type RunningHub } from '../hub/index.ts';
import { hubStaffToken, dropHubSchema } from '../testing/hub-staff.ts';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../sync/protocol.ts';
import { HeartbeatSender } from './heartbeat.ts';
import { HealthRecorder, healthRecorderFor, mergeSamples, reservoirAdd } from './health.ts';
import { healthDb } from './health-tables.ts';
import { pruneHealth } from './health-hub.ts';

const available = await postgresAvailable();
const PRACTICE = 'B82005';
const RISING = 'C81001';
const FLAT = 'C81002';
const ADMIN = 'hub-admin-secret';

describe('node health samples, sent with the heartbeat, kept at a PostgreSQL hub', { skip: available ? false : PG_SKIP_REASON }, () => {
  let hub: RunningHub;
  let node: TestNode;
  let key: string;
  let staff: { authorization: string };
  const schema = `rhealth_${process.pid}_${Date.now().toString(36)}`;
  /** The recorder's clock: half an hour ago, moved on by the tests. */
  let clock = windowStartOf(Date.now() - 30 * 60_000) + 1000;
  let recorder: HealthRecorder;

  const sender = () =>
    new HeartbeatSender({ store: node.store, url: hub.url, key, backlog: async () => [], hubView: async () => ({ reachable: true, lastExchangeAt: new Date().toISOString() }), health: recorder });
  const count = async (table: 'region_health' | 'region_health_samples', practice = PRACTICE) =>
    (await healthDb(table === 'region_health' ? hub.db : node.store.db).selectFrom(table).select('window_start').where('practice', '=', practice).execute()).length;
  const daily = async (practice = PRACTICE) => healthDb(hub.db).selectFrom('region_health_daily').selectAll().where('practice', '=', practice).execute();

  async function post(body: unknown): Promise<number> {
    const bytes = Buffer.from(JSON.stringify(body));
    const digest = sha256(bytes);
    const nodeId = node.store.nodeId;
    const res = await fetch(`${hub.url}${HEARTBEAT_PATH}`, {
      method: 'POST',
      headers: { 'content-type': HEARTBEAT_CONTENT_TYPE, [HEADER_NODE]: nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(key, 'POST', HEARTBEAT_PATH, nodeId, digest) },
      body: bytes,
    });
    await res.body?.cancel();
    return res.status;
  }

  before(async () => {
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN });
    node = await startTestNode({ practice: PRACTICE });
    key = await hub.addNode(PRACTICE, node.store.nodeId);
    await hub.addNode(RISING, 'node-c81001-1');
    await hub.addNode(FLAT, 'node-c81002-1');
    staff = { authorization: `Bearer ${await hubStaffToken(hub, 'lena.lead', 'region-lead')}` };
    recorder = new HealthRecorder({ store: node.store, now: () => new Date(clock), exchangeTotals: () => ({ exchanges: 12, failed: 3, slow: 1 }) });
  });

  after(async () => {
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  test("the node counts every answered request by route pattern (another capability's route too), never by URL", async () => {
    const installed = healthRecorderFor(node.store);
    assert.ok(installed, 'the region capability installs a recorder on the node');
    await installed.flushNow();
    const rowsBefore = await count('region_health_samples');
    const res = await node.fetchAs('practice-admin', '/api/backlog');
    assert.equal(res.status, 200);
    await (await node.fetchAs('practice-admin', '/fhir/Patient/9990000018-no-such')).body?.cancel();
    await installed.flushNow();
    const rows = await healthDb(node.store.db).selectFrom('region_health_samples').select('sample').where('practice', '=', PRACTICE).orderBy('window_start', 'desc').execute();
    assert.ok(rows.length >= Math.max(1, rowsBefore));
    const s = JSON.parse(rows[0]!.sample) as HealthSample;
    assert.ok(s.requests >= 2, `requests counted: ${s.requests}`);
    assert.ok(s.p95Ms !== null && s.p50Ms !== null && s.p50Ms <= s.p95Ms);
    assert.ok(!JSON.stringify(s.routeErrors).includes('9990000018'), 'a route is its pattern, never the URL with an NHS number');
  });

  test('samples ride on the heartbeat, are recorded once per window, and sum into the daily roll-up', async () => {
    const first = clock;
    recorder.record('GET', '/fhir/Patient/:id', 200, 10);
    recorder.record('GET', '/fhir/Patient/:id', 500, 30);
    recorder.record('POST', '/api/tasks', 404, 5);
    clock += HEALTH_WINDOW_MS;
    recorder.record('GET', '/fhir/Patient/:id', 200, 8);
    clock += HEALTH_WINDOW_MS;
    const pending = await recorder.pending();
    assert.equal(pending.length, 2, 'the two ended windows, not the current one');
    assert.equal(pending[0]!.windowStart, new Date(windowStartOf(first)).toISOString());
    assert.deepEqual(pending[0]!.routeErrors, [{ route: 'GET /fhir/Patient/:id', status4xx: 0, status5xx: 1 }, { route: 'POST /api/tasks', status4xx: 1, status5xx: 0 }]);
    assert.equal(pending[0]!.restarts, 1, 'the window the recorder started in counts a restart');
    assert.equal(pending[0]!.failedExchanges, 3);

    const s = sender();
    const hb = await s.build('idle');
    assert.equal(hb.health?.length, 2);
    assert.equal(await post(hb), 202);
    await recorder.accepted(hb.health!);
    assert.equal(await count('region_health'), 2);
    assert.deepEqual((await recorder.pending()).length, 0, 'accepted samples are not sent again');

    // A resend of the same windows on a newer heartbeat (the 202 was lost) changes nothing.
    assert.equal(await post({ ...hb, seq: hb.seq + 1, sentAt: new Date().toISOString() }), 202);
    assert.equal(await count('region_health'), 2);
    const days = await daily();
    const sum = (k: 'requests' | 'errors_5xx' | 'errors_4xx' | 'failed_exchanges' | 'samples') => days.reduce((a, d) => a + Number(d[k]), 0);
    assert.deepEqual([sum('samples'), sum('requests'), sum('errors_5xx'), sum('errors_4xx'), sum('failed_exchanges')], [2, 4, 1, 1, 3], 'counted once, not twice');

    const series = (await (await fetch(`${hub.url}/api/region/practices/${PRACTICE}/health`, { headers: staff })).json()) as HealthSeriesResponse;
    assert.equal(series.granularity, 'day');
    assert.equal(series.points.reduce((a, p) => a + p.requests, 0), 4);
    assert.equal(series.points.reduce((a, p) => a + p.errors5xx, 0), 1);
  });

  test('a heartbeat with an impossible health sample is refused and nothing of it is recorded', async () => {
    const hb = await sender().build('idle');
    const bad = { ...hb, health: [{ windowStart: new Date(windowStartOf(Date.now()) - 2 * HEALTH_WINDOW_MS).toISOString(), exchanges: 1, failedExchanges: 5, slowExchanges: 0, requests: 0, p50Ms: null, p95Ms: null, routeErrors: [], restarts: 0, outboxFailures: 0, inboxFailures: 0 }] };
    const heartbeatsBefore = (await hub.db.selectFrom('region_heartbeats').select('seq').execute()).length;
    assert.equal(await post(bad), 400);
    assert.equal(await count('region_health'), 2);
    assert.equal((await hub.db.selectFrom('region_heartbeats').select('seq').execute()).length, heartbeatsBefore);
  });

  test('health figures are kept 13 months: the retention job deletes older samples and days, and keeps the rest', async () => {
    const old = '2025-01-06T10:00:00.000Z';
    const zero = { exchanges: 0, failed_exchanges: 0, slow_exchanges: 0, requests: 0, errors_4xx: 0, errors_5xx: 0, restarts: 0, outbox_failures: 0, inbox_failures: 0 };
    await healthDb(hub.db).insertInto('region_health').values({ practice: PRACTICE, node_id: node.store.nodeId, window_start: old, received_at: old, p50_ms: null, p95_ms: null, route_errors: '[]', ...zero }).execute();
    await healthDb(hub.db).insertInto('region_health_daily').values({ practice: PRACTICE, day: old.slice(0, 10), samples: 1, worst_p95_ms: null, ...zero }).execute();
    const pruned = await pruneHealth(hub.db, new Date());
    assert.deepEqual(pruned, { samples: 1, days: 1 });
    assert.equal(await count('region_health'), 2, 'the recent samples are kept');
    // 13 months back is still kept.
    const kept = new Date(Date.now() - 396 * 86_400_000);
    await healthDb(hub.db).insertInto('region_health_daily').values({ practice: PRACTICE, day: kept.toISOString().slice(0, 10), samples: 1, worst_p95_ms: null, ...zero }).execute();
    assert.deepEqual(await pruneHealth(hub.db, new Date()), { samples: 0, days: 0 });
  });

  test('early warning is fed from the hub: a practice whose failures rise over six weeks is flagged with why, a flat one is not', async () => {
    const weeks = 7;
    const monday = Date.parse(`${(await (await fetch(`${hub.url}/api/region/early-warning`, { headers: staff })).json() as EarlyWarningResponse).weeksBefore}T00:00:00Z`);
    const rows = [];
    for (let w = weeks; w >= 1; w--) {
      for (let d = 0; d < 7; d++) {
        const day = new Date(monday - w * 7 * 86_400_000 + d * 86_400_000).toISOString().slice(0, 10);
        const base = { day, samples: 288, exchanges: 2000, slow_exchanges: 0, requests: 50_000, errors_4xx: 30, restarts: 0, outbox_failures: 0, inbox_failures: 0, worst_p95_ms: 120 };
        // Rising: 1 failure a day six weeks ago, then doubling week on week.
        rows.push({ practice: RISING, ...base, failed_exchanges: 2 ** (weeks - w), errors_5xx: 0 });
        rows.push({ practice: FLAT, ...base, failed_exchanges: 3, errors_5xx: 1 });
      }
    }
    await healthDb(hub.db).insertInto('region_health_daily').values(rows).execute();
    const res = (await (await fetch(`${hub.url}/api/region/early-warning`, { headers: staff })).json()) as EarlyWarningResponse;
    const rising = res.practices.find((p) => p.practice === RISING)!;
    const flat = res.practices.find((p) => p.practice === FLAT)!;
    assert.equal(res.practices[0]!.practice, RISING, 'flagged practices first');
    assert.equal(rising.flagged, true, rising.reason);
    assert.match(rising.reason, /Failures rising from 14 to 448 a week over 6 weeks/);
    assert.equal(rising.weeks.length, 6);
    assert.equal(flat.flagged, false, flat.reason);
    assert.equal((await fetch(`${hub.url}/api/region/early-warning`)).status, 401, 'hub staff only');
  });
});

test('two parts of one window (before and after a restart) merge: counts add, the worse percentile is kept', () => {
  const a: HealthSample = { windowStart: '2026-12-03T14:55:00.000Z', exchanges: 2, failedExchanges: 1, slowExchanges: 0, requests: 10, p50Ms: 10, p95Ms: 40, routeErrors: [{ route: 'GET /x', status4xx: 1, status5xx: 0 }], restarts: 0, outboxFailures: 1, inboxFailures: 0 };
  const b: HealthSample = { ...a, exchanges: 1, failedExchanges: 0, requests: 5, p50Ms: 30, p95Ms: 90, routeErrors: [{ route: 'GET /x', status4xx: 0, status5xx: 2 }], restarts: 1 };
  const m = mergeSamples(a, b);
  assert.deepEqual([m.exchanges, m.failedExchanges, m.requests, m.p50Ms, m.p95Ms, m.restarts], [3, 1, 15, 30, 90, 1]);
  assert.deepEqual(m.routeErrors, [{ route: 'GET /x', status4xx: 1, status5xx: 2 }]);
});

test('defect: the response-time reservoir past its cap replaced a random slot on every request, biasing p95 to late requests', async () => {
  // A window whose first half of requests was slow (1 s) and second half fast (1 ms), ten times the
  // reservoir's cap: a uniform sample is about half slow, so p95 is 1 s. The defect replaced a slot on
  // every late request, leaving almost only fast ones, and reported a p95 of 1 ms.
  const node = await startTestNode({ practice: 'B82099' });
  try {
    const windowStart = windowStartOf(Date.now() - 2 * 86_400_000);
    const recorder = new HealthRecorder({ store: node.store, now: () => new Date(windowStart + 1000) });
    for (let i = 0; i < 100_000; i++) recorder.record('GET', '/api/x', 200, 1000);
    for (let i = 0; i < 100_000; i++) recorder.record('GET', '/api/x', 200, 1);
    await recorder.flushNow();
    const row = await healthDb(node.store.db).selectFrom('region_health_samples').select('sample').where('window_start', '=', new Date(windowStart).toISOString()).executeTakeFirstOrThrow();
    const s = JSON.parse(row.sample) as HealthSample;
    assert.equal(s.requests, 200_000);
    assert.equal(s.p95Ms, 1000, 'p95 reflects the whole window, not its last requests');
  } finally {
    await node.close();
  }
});

test('reservoir sampling keeps each request with equal probability (first and second half of a window alike)', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const kept: number[] = [];
  for (let n = 1; n <= 50_000; n++) reservoirAdd(kept, n, n <= 25_000 ? 0 : 1, 1000, random);
  const late = kept.filter((v) => v === 1).length / kept.length;
  assert.equal(kept.length, 1000);
  assert.ok(late > 0.44 && late < 0.56, `about half the sample is from the second half: ${late}`);
});
