/**
 * End-to-end: early warning and health charts in Debian's Chromium against a real hub on PostgreSQL.
 * Two practices' nodes report seven weeks of daily health through the real, signed heartbeat route:
 * one practice's failures double week on week, the other's are flat. On the region page the rising
 * one is marked with the rule's reason (and listed first, and found by the filter), the flat one is
 * not; its link opens the practice's charts, whose figures match the hub's API day by day and week by
 * week; the backlog history and the region's daily health are charted too. axe on each screen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { weekStartOf, type EarlyWarningResponse, type HealthSample, type HealthSeriesResponse } from '@steadfast/domain/region';
import { dropHubSchema, hubStaffAccount, postgresAvailable, PG_SKIP_REASON, postHeartbeat, startHub, testHeartbeat, TEST_PG_URL, type RunningHub } from '@steadfast/server/testing';
import { assertAccessible, chromiumSkip, launchChromium } from './browser.ts';
import { putPractice, signInAtHub } from './hub.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const pgOk = await postgresAvailable();
const skip = chromiumSkip || (pgOk ? false : PG_SKIP_REASON);
const ADMIN = 'e2e-hub-admin';
const RISING = 'C84001';
const FLAT = 'C84000';
const DAY = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A day as the charts label it (NHS style: 30-Nov-2026). */
const label = (day: string) => `${Number(day.slice(8, 10))}-${MONTHS[Number(day.slice(5, 7)) - 1]}-${day.slice(0, 4)}`;

describe('early warning and health charts in Chromium', { skip }, () => {
  let hub: RunningHub;
  let browser: Browser;
  let secret: string;
  let token: string;
  /** The region lead, signed in once (a two-factor code is accepted once). */
  let page: Page;
  const schema = `e2e_rhealth_${process.pid}_${Date.now().toString(36)}`;

  /** One sample at noon (UTC) of `day`: the rising practice's failed exchanges double each week. */
  function sample(day: string, week: number, rising: boolean): HealthSample {
    const errors5xx = rising ? 0 : 1;
    return {
      windowStart: `${day}T12:00:00.000Z`, exchanges: 2000, failedExchanges: rising ? 2 ** week : 3, slowExchanges: rising ? week : 1, requests: 500,
      p50Ms: 20, p95Ms: rising ? 100 + 20 * week : 80, routeErrors: errors5xx ? [{ route: 'GET /fhir/Patient/:id', status4xx: 0, status5xx: errors5xx }] : [], restarts: 0, outboxFailures: 0, inboxFailures: 0,
    };
  }

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN });
    ({ secret, token } = await hubStaffAccount(hub, 'lena.lead', 'region-lead'));
    // Seven complete weeks before this Monday, then this week up to yesterday.
    const monday = Date.parse(`${weekStartOf(new Date().toISOString().slice(0, 10))}T00:00:00Z`);
    const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    const days: Array<{ day: string; week: number }> = [];
    for (let t = monday - 7 * 7 * DAY; new Date(t).toISOString().slice(0, 10) <= yesterday; t += DAY) days.push({ day: new Date(t).toISOString().slice(0, 10), week: Math.min(6, Math.floor((t - (monday - 7 * 7 * DAY)) / (7 * DAY))) });
    for (const [ods, name, rising] of [[RISING, 'Millbrook Surgery', true], [FLAT, 'Abbey Lane Practice', false]] as const) {
      const nodeId = `node-${ods.toLowerCase()}-1`;
      const key = await hub.addNode(ods, nodeId);
      await putPractice(hub.url, ADMIN, ods, name, 'East PCN');
      let seq = 0;
      for (let i = 0; i < days.length; i += 12) {
        seq++;
        const health = days.slice(i, i + 12).map((d) => sample(d.day, d.week, rising));
        assert.equal(await postHeartbeat(hub.url, key, testHeartbeat(ods, nodeId, seq, { health, backlog: [{ kind: 'results-unfiled', count: 10 * seq }] })), 202, `heartbeat ${seq} of ${ods}`);
      }
    }
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  const api = async <T,>(path: string): Promise<T> => (await (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });
  /** A TimeChart's figures table, row by row: [label, ...values]. */
  const chartRows = (page: Page, testId: string) =>
    page.locator(`[data-testid=${testId}] details table tbody tr`).evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent?.trim() ?? '')));
  /** The same as {date label: [values]} (one row per day or week). */
  const chartTable = async (page: Page, testId: string) => Object.fromEntries((await chartRows(page, testId)).map((cells) => [cells[0]!, cells.slice(1)]));

  test('the rising practice is flagged with its reason on the region page, the flat one is not, and the filter finds it', async () => {
    const warning = await api<EarlyWarningResponse>('/api/region/early-warning');
    const rising = warning.practices.find((p) => p.practice === RISING)!;
    assert.equal(rising.flagged, true, rising.reason);
    assert.equal(warning.practices.find((p) => p.practice === FLAT)!.flagged, false);

    page = await signInAtHub(browser, hub.url, 'lena.lead', secret);
    await page.waitForSelector('[data-testid=early-warning-list]');
    const callout = (await page.textContent('[data-testid=early-warning]')) ?? '';
    assert.match(callout, /Early warning: 1 practice with failures rising over weeks/);
    assert.match(callout, /Millbrook Surgery \(C84001\): see its charts — Failures rising from 14 to 448 a week over 6 weeks/);
    assert.doesNotMatch(callout, /Abbey Lane/);
    assert.equal(await page.locator(`tr[data-practice=${RISING}] [data-testid=early-warning-flag]`).count(), 1);
    assert.match((await page.textContent(`tr[data-practice=${RISING}] [data-testid=early-warning-flag]`)) ?? '', /Early warning Failures rising from 14 to 448 a week over 6 weeks/);
    assert.equal(await page.locator(`tr[data-practice=${FLAT}] [data-testid=early-warning-flag]`).count(), 0, 'the flat practice is not marked');
    const order = await page.locator('[data-testid=region-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-practice')));
    assert.deepEqual(order, [RISING, FLAT], 'both working: the flagged one first (before one earlier in the alphabet)');
    await page.check('#early-warning-filter');
    assert.deepEqual(await page.locator('[data-testid=region-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-practice'))), [RISING]);
    await page.uncheck('#early-warning-filter');

    // The region's daily health: the two practices summed, as the API gives them.
    const region = await api<HealthSeriesResponse>(`/api/region/health?from=${new Date(Date.now() - 41 * DAY).toISOString().slice(0, 10)}`);
    await page.waitForSelector('[data-testid=region-health-failures] canvas');
    const table = await chartTable(page, 'region-health-failures');
    for (const p of region.points) assert.equal(table[label(p.at)]?.[0], String(p.failedExchanges), `region failed exchanges on ${p.at}`);
    assert.ok(region.points.length >= 35, `six weeks of days: ${region.points.length}`);
    await shot(page, 'region-health-01-region');
    await assertAccessible(page, 'the region page with early warning and health');
  });

  test("the flag's link opens the practice's charts, whose figures match the API by day and by week", async () => {
    await page.click('[data-testid=early-warning-list] a:has-text("Millbrook Surgery")');
    await page.waitForSelector('[data-testid=practice-health-failures] canvas');
    assert.match((await page.textContent('h1')) ?? '', /Millbrook Surgery \(C84001\)/);
    assert.match((await page.textContent('[data-testid=practice-early-warning]')) ?? '', /Failures rising from 14 to 448 a week over 6 weeks/);

    const from = new Date(Date.now() - 41 * DAY).toISOString().slice(0, 10);
    const series = await api<HealthSeriesResponse>(`/api/region/practices/${RISING}/health?from=${from}`);
    const daily = await chartTable(page, 'practice-health-failures');
    const columns = await page.locator('[data-testid=practice-health-failures] details table thead th').allTextContents();
    assert.deepEqual(columns.slice(0, 4), ['Date', 'Failed exchanges', 'Slow exchanges', 'Server errors (5xx)']);
    for (const p of series.points) {
      assert.deepEqual(daily[label(p.at)]?.slice(0, 3), [String(p.failedExchanges), String(p.slowExchanges), String(p.errors5xx)], `the figures of ${p.at}`);
    }
    const aria = (await page.getAttribute('[data-testid=practice-health-failures] [role=img]', 'aria-label')) ?? '';
    assert.match(aria, /^Failures per day, .* Failed exchanges: highest 64, latest 64/, 'the text summary');
    const p95 = await chartTable(page, 'practice-health-p95');
    const last = series.points[series.points.length - 1]!;
    assert.deepEqual(p95[label(last.at)], [String(last.worstP95Ms)]);
    await shot(page, 'region-health-02-practice');
    await page.click('[data-testid=practice-health-failures] summary');
    await assertAccessible(page, "the practice's charts");

    // By week: each week's figure is the sum of its days from the API.
    await page.selectOption('#practice-health-step', 'week');
    await page.waitForSelector('[data-testid=practice-health-failures] th:has-text("Week starting")');
    const weekly = await chartTable(page, 'practice-health-failures');
    const sums = new Map<string, number>();
    for (const p of series.points) sums.set(weekStartOf(p.at), (sums.get(weekStartOf(p.at)) ?? 0) + p.failedExchanges);
    const complete = [...sums].filter(([w]) => w >= from);
    assert.ok(complete.length >= 5);
    for (const [week, sum] of complete) assert.equal(weekly[label(week)]?.[0], String(sum), `the week starting ${week}`);

    // The backlog history: one point per heartbeat, as received.
    await page.selectOption('#history-period', String(24));
    await page.waitForSelector('[data-testid=practice-backlog-chart] canvas');
    const backlog = (await chartRows(page, 'practice-backlog-chart')).map((cells) => cells[1]);
    assert.equal(backlog[backlog.length - 1], String(10 * backlog.length), 'the latest backlog figure');
    await assertAccessible(page, 'the practice page with its backlog chart');
    await page.context().close();
  });
});
