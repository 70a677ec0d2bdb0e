/// <reference lib="dom" />
/**
 * The region's view at a PostgreSQL hub with BENCH_REGION_PRACTICES practices (default 1,500) and a
 * year of five-minute health figures each. What is stored, generated in the database with
 * generate_series (INSERT ... SELECT: no rows cross the wire):
 * - region_health_daily: 365 complete days per practice (547,500 rows at 1,500), what the charts, the
 *   region's health and the early warning rule read; one practice in 50 has failures rising over the
 *   last six weeks so that the rule has something to flag;
 * - region_health: the five-minute rows of the last BENCH_REGION_RAW_DAYS days (default 7: 3.0 million
 *   rows at 1,500). A year of them is 157.7 million rows (~25 GB with its indexes): no route reads them
 *   (they are written once by ingest and deleted by the retention job), so only their index depth
 *   matters to ingest, and that grows with the logarithm of the row count;
 * - region_heartbeats: BENCH_REGION_SAMPLES heartbeats per practice in the last hour (default 60: the
 *   nodes' default idle heartbeat is a minute), and
 *   region_nodes: every practice's latest, through the real ingest.
 * Measured in one run:
 * - heartbeat ingest (`ingestHeartbeat`, each heartbeat carrying one new five-minute health sample)
 *   against plain INSERTs of the same rows (its history row and its health row) into the same tables;
 * - GET /api/region/practices, /api/region/health and /api/region/early-warning p95 over HTTP, against
 *   GET /healthz on the same hub;
 * - the region page in Chromium (the hub serving the staff app, a region lead signed in with two-factor):
 *   p95 from navigation to every practice's row in the table (and BENCH_REGION_CHART_SELECTOR, when set,
 *   rendered too: the charts are being added on another branch).
 */
import { sql } from 'kysely';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { generateSync } from 'otplib';
import { HEADER_DIGEST, HEADER_NODE, HEADER_SIGNATURE, sha256, signRequest } from '../packages/server/src/sync/protocol.ts';
import { HEALTH_WINDOW_MS, HEARTBEAT_PATH, type HealthSample } from '@steadfast/domain/region';
import { startHub } from '../packages/server/src/hub/index.ts';
import { ingestHeartbeat } from '../packages/server/src/region/hub.ts';
import { regionDb } from '../packages/server/src/region/tables.ts';
import { HEALTH_COUNT_COLUMNS } from '../packages/server/src/region/health-tables.ts';
import { dropHubSchema, HUB_STAFF_PASSWORD, hubStaffAccount, postgresAvailable, testHeartbeat, TEST_PG_URL } from '../packages/server/src/testing/index.ts';
import { CHROMIUM, launchChromium } from '../packages/web/e2e/browser.ts';
import { existsSync } from 'node:fs';
import { percentile, round, type BenchResult } from './types.ts';

const PRACTICES = Number(process.env.BENCH_REGION_PRACTICES ?? 1500);
const SAMPLES = Number(process.env.BENCH_REGION_SAMPLES ?? 60);
const INGEST = Number(process.env.BENCH_REGION_INGEST ?? 2000);
const RAW_DAYS = Number(process.env.BENCH_REGION_RAW_DAYS ?? 7);
const CHART = process.env.BENCH_REGION_CHART_SELECTOR;
const ROUNDS = 30;
const PAGE_ROUNDS = Number(process.env.BENCH_REGION_PAGE_ROUNDS ?? 20);
const root = fileURLToPath(new URL('../', import.meta.url));

const ods = (i: number) => `P${String(i).padStart(5, '0')}`;
const odsSql = (col: string) => sql.raw(`'P' || lpad(${col}::text, 5, '0')`);

/** A year of daily roll-ups and RAW_DAYS of five-minute rows, generated inside PostgreSQL. */
async function loadYear(db: any, today: string): Promise<{ dailyRows: number; rawRows: number; seconds: number }> {
  const t = performance.now();
  // Failures: a little noise everywhere; one practice in 50 rising over the last 42 days (the rule's case).
  await sql`
    INSERT INTO region_health_daily (practice, day, samples, exchanges, failed_exchanges, slow_exchanges, requests, errors_4xx, errors_5xx, restarts, outbox_failures, inbox_failures, worst_p95_ms)
    SELECT ${odsSql('p')}, to_char(d, 'YYYY-MM-DD'), 288, 1440,
      ((p * 7 + k) % 3) + CASE WHEN p % 50 = 0 AND k > 323 THEN (k - 323) ELSE 0 END,
      (p + k) % 5, 20000 + (p * 13 + k) % 5000, (p + k) % 40, (p * 3 + k) % 4, CASE WHEN (p + k) % 90 = 0 THEN 1 ELSE 0 END, (p + k) % 2, 0,
      80 + (p + k) % 200
    FROM generate_series(0, ${PRACTICES - 1}) AS p,
         LATERAL (SELECT k, (${today}::date - 365 + k) AS d FROM generate_series(0, 364) AS k) AS days`.execute(db);
  const windows = RAW_DAYS * 288;
  const lastWindow = Math.floor((Date.now() - 3600_000) / HEALTH_WINDOW_MS) * HEALTH_WINDOW_MS;
  await sql`
    INSERT INTO region_health (practice, node_id, window_start, received_at, exchanges, failed_exchanges, slow_exchanges, requests, errors_4xx, errors_5xx, restarts, outbox_failures, inbox_failures, p50_ms, p95_ms, route_errors)
    SELECT ${odsSql('p')}, 'node-' || p, to_char(w AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(w AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      5, (p + n) % 17 / 16, 0, 70, 0, 0, 0, 0, 0, 12, 90, '[]'
    FROM generate_series(0, ${PRACTICES - 1}) AS p,
         LATERAL (SELECT n, to_timestamp(${lastWindow / 1000} - n * 300) AS w FROM generate_series(0, ${windows - 1}) AS n) AS ws`.execute(db);
  await sql`ANALYZE region_health_daily`.execute(db);
  await sql`ANALYZE region_health`.execute(db);
  return { dailyRows: PRACTICES * 365, rawRows: PRACTICES * windows, seconds: (performance.now() - t) / 1000 };
}

function sampleAt(windowStart: number, i: number): HealthSample {
  return { windowStart: new Date(windowStart).toISOString(), exchanges: 5, failedExchanges: i % 3 === 0 ? 1 : 0, slowExchanges: 0, requests: 60, p50Ms: 11, p95Ms: 85, routeErrors: [{ route: 'GET /fhir/R4/Patient', status4xx: 1, status5xx: 0 }], restarts: 0, outboxFailures: 0, inboxFailures: 0 };
}

export async function run(): Promise<BenchResult[]> {
  if (!(await postgresAvailable())) return [{ name: 'region', value: NaN, unit: 'ms', note: 'skipped: no PostgreSQL at 127.0.0.1:5432' }];
  const schema = `bench_region_${process.pid}`;
  const hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: 'bench' });
  const results: BenchResult[] = [];
  try {
    const keys: string[] = [];
    for (let i = 0; i < PRACTICES; i++) keys.push(await hub.addNode(ods(i), `node-${i}`));
    const backlog = (i: number) => [
      { kind: 'results-unfiled' as const, count: i % 97 },
      { kind: 'documents-unfiled' as const, count: i % 31 },
      { kind: 'tasks-overdue' as const, count: i % 7 },
      { kind: 'outbox-waiting' as const, count: 0 },
    ];
    const signed = (i: number, seq: number, health: HealthSample[] = []) => {
      const hb = testHeartbeat(ods(i), `node-${i}`, seq, { backlog: backlog(i + seq), ...(health.length ? { health } : {}) });
      const body = Buffer.from(JSON.stringify(hb));
      const digest = sha256(body);
      return { hb, request: { headers: { [HEADER_NODE]: hb.nodeId, [HEADER_DIGEST]: digest, [HEADER_SIGNATURE]: signRequest(keys[i]!, 'POST', HEARTBEAT_PATH, hb.nodeId, digest) }, body } };
    };

    const today = new Date().toISOString().slice(0, 10);
    const loaded = await loadYear(hub.db, today);
    console.log(`loaded ${loaded.dailyRows} daily rows and ${loaded.rawRows} five-minute rows in ${loaded.seconds.toFixed(0)} s`);

    // Ingest (each heartbeat with one new five-minute sample, in the last hour) against plain inserts of the same rows.
    const firstWindow = Math.floor((Date.now() - 3600_000) / HEALTH_WINDOW_MS) * HEALTH_WINDOW_MS + HEALTH_WINDOW_MS;
    const requests = Array.from({ length: INGEST }, (_, n) => {
      const round_ = Math.floor(n / PRACTICES);
      return signed(n % PRACTICES, round_ + 1, [sampleAt(firstWindow + round_ * HEALTH_WINDOW_MS, n)]);
    });
    const ingestFrom = new Date(Date.now() - 1000).toISOString();
    let t = performance.now();
    for (const r of requests) await ingestHeartbeat(hub.db, r.request);
    const ingestMs = performance.now() - t;
    const r = regionDb(hub.db);
    const heartbeatRows = await r.selectFrom('region_heartbeats').selectAll().where('received_at', '>=', ingestFrom).execute();
    const healthRows = await (hub.db as any).selectFrom('region_health').selectAll().where('received_at', '>=', ingestFrom).execute();
    if (heartbeatRows.length !== INGEST || healthRows.length !== INGEST) throw new Error(`ingest recorded ${heartbeatRows.length} heartbeats and ${healthRows.length} samples, not ${INGEST}`);
    // The same rows again, into the same (full-size) tables: take them out, then put them back one statement each.
    await r.deleteFrom('region_heartbeats').where('received_at', '>=', ingestFrom).execute();
    await (hub.db as any).deleteFrom('region_health').where('received_at', '>=', ingestFrom).execute();
    t = performance.now();
    for (let k = 0; k < INGEST; k++) {
      await r.insertInto('region_heartbeats').values(heartbeatRows[k]!).execute();
      await (hub.db as any).insertInto('region_health').values(healthRows[k]).execute();
    }
    const plainMs = performance.now() - t;
    const ingestPer = ingestMs / INGEST;
    const plainPer = plainMs / INGEST;
    results.push({
      name: `heartbeat ingest with a health sample (${INGEST} heartbeats, ${PRACTICES} practices, ${loaded.rawRows.toLocaleString('en-GB')} five-minute rows and ${loaded.dailyRows.toLocaleString('en-GB')} days stored)`,
      value: round(ingestPer, 3),
      unit: 'ms each',
      baseline: { name: 'plain INSERT of its history row and its health row into the same tables', value: round(plainPer, 3) },
      ratio: round(ingestPer / plainPer),
      note: 'checks, signature, replay-guarded upsert, history, sample and daily roll-up in one transaction',
    });

    // History: SAMPLES heartbeats per practice in the last hour (bulk-loaded: it is the page that is measured).
    const now = Date.now();
    for (let s = 0; s < SAMPLES; s++) {
      const at = new Date(now - (SAMPLES - s) * (3600_000 / SAMPLES)).toISOString();
      const batch = Array.from({ length: PRACTICES }, (_, i) => ({ ...heartbeatRows[0]!, practice: ods(i), node_id: `node-${i}`, seq: 100_000 + s, sent_at: at, received_at: at, backlog: JSON.stringify(backlog(i + s)) }));
      for (let k = 0; k < batch.length; k += 500) await r.insertInto('region_heartbeats').values(batch.slice(k, k + 500)).execute();
    }
    // Every practice's latest: one fresh heartbeat each through the real ingest.
    for (let i = 0; i < PRACTICES; i++) await ingestHeartbeat(hub.db, signed(i, 200_000).request);
    await sql`ANALYZE region_heartbeats`.execute(hub.db);

    const { token, secret } = await hubStaffAccount(hub, 'bench.lead', 'region-lead');
    const timed = async (path: string, auth: boolean) => {
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const s = performance.now();
        const res = await fetch(`${hub.url}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        samples.push(performance.now() - s);
      }
      return percentile(samples, 95);
    };
    const healthzP95 = await timed('/healthz', false);
    const api = [
      ['/api/region/practices', `${PRACTICES} practices, ${SAMPLES} heartbeats each in the last hour`],
      ['/api/region/health', 'the region summed by day, default 90 days of the daily roll-up'],
      ['/api/region/early-warning', 'every practice, its last six complete weeks'],
    ] as const;
    for (const [path, what] of api) {
      const p95 = await timed(path, true);
      results.push({ name: `GET ${path} p95 of ${ROUNDS} (${what})`, value: round(p95, 1), unit: 'ms', baseline: { name: 'GET /healthz p95', value: round(healthzP95, 1) }, ratio: round(p95 / healthzP95, 1) });
    }
    const flagged = ((await (await fetch(`${hub.url}/api/region/early-warning`, { headers: { authorization: `Bearer ${token}` } })).json()) as { practices: Array<{ flagged: boolean }> }).practices.filter((p) => p.flagged).length;
    console.log(`early warning flags ${flagged} practices (${Math.floor((PRACTICES - 1) / 50) + 1} generated with rising failures)`);

    results.push(await pageInBrowser(hub.url, secret, healthzP95));
    return results;
  } finally {
    await hub.close();
    await dropHubSchema(schema);
  }
}

/** The region page in Chromium: sign in once (password, two-factor), then navigate to it PAGE_ROUNDS times. */
async function pageInBrowser(url: string, secret: string, healthzP95: number): Promise<BenchResult> {
  const name = `region page in Chromium p95 of ${PAGE_ROUNDS}, navigation to ${PRACTICES} rows${CHART ? ` and ${CHART}` : ''} rendered`;
  if (!existsSync(CHROMIUM)) return { name, value: NaN, unit: 'ms', note: `skipped: no Chromium at ${CHROMIUM}` };
  const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) throw new Error('the web app did not build');
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-GB' })).newPage();
    page.on('pageerror', (e) => console.error('bench: page error', e.message));
    await page.goto(url);
    await page.fill('#username', 'bench.lead');
    await page.fill('#password', HUB_STAFF_PASSWORD);
    await page.fill('#workstation', 'ICB-bench');
    await page.keyboard.press('Enter');
    await page.locator('#two-factor-code').waitFor();
    await page.keyboard.type(generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=region-table]', { timeout: 60_000 });
    const samples: number[] = [];
    const apiMs: number[] = [];
    const beforeApi: number[] = [];
    const answered: number[] = [];
    for (let i = 0; i < PAGE_ROUNDS + 2; i++) {
      const t = performance.now();
      await page.goto(`${url}/region`);
      await page.waitForFunction(
        ([n, chart]) => document.querySelectorAll('[data-testid=region-table] tbody tr').length >= (n as number) && (!chart || !!document.querySelector(chart as string)),
        [PRACTICES, CHART ?? ''] as const,
        { timeout: 60_000, polling: 'raf' },
      );
      // The first two warm the browser's cache of the app's files, as a lead's second visit would be.
      if (i >= 2) samples.push(performance.now() - t);
      // Of which: the region API's answer as the page received it (resource timing), and the app's own start.
      const parts = await page.evaluate(() => {
        const api = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/region/practices')).pop() as PerformanceResourceTiming | undefined;
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return { api: api ? api.responseEnd - api.startTime : NaN, apiStart: api?.startTime ?? NaN, apiEnd: api?.responseEnd ?? NaN, dom: nav?.domContentLoadedEventEnd ?? NaN };
      });
      if (i >= 2) {
        apiMs.push(parts.api);
        beforeApi.push(parts.apiStart);
        answered.push(parts.apiEnd);
      }
    }
    const p95 = percentile(samples, 95);
    return {
      name,
      value: round(p95, 0),
      unit: 'ms',
      baseline: { name: 'GET /healthz p95', value: round(healthzP95, 1) },
      ratio: round(p95 / healthzP95, 1),
      target: `p95 < 500 ms: ${p95 < 500 ? 'met' : 'not met'}${CHART ? '' : ' (table only: no charts on this branch)'}`,
      note: `median ${round(percentile(samples, 50), 0)} ms; medians from resource timing: the app asked for the practices at ${round(percentile(beforeApi, 50), 0)} ms, the answer took ${round(percentile(apiMs, 50), 0)} ms and was in at ${round(percentile(answered, 50), 0)} ms; the rest is parsing and rendering`,
    };
  } finally {
    await browser.close();
  }
}
