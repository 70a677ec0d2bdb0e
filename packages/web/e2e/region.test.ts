/**
 * End-to-end: the region page in Debian's Chromium against a real hub on PostgreSQL. A region lead
 * signs in (password, then a two-factor code), sees every registered practice on one screen (one
 * never reported, one needing attention, one working), sorts by a backlog column, filters by PCN, and
 * opens one practice's history. axe finds no serious or critical violations on either page.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { dropHubSchema, hubStaffAccount, postgresAvailable, PG_SKIP_REASON, postHeartbeat, startHub, testHeartbeat, TEST_PG_URL, type RunningHub } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';
import { putPractice, signInAtHub } from './hub.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const pgOk = await postgresAvailable();
const skip = chromiumSkip || (pgOk ? false : PG_SKIP_REASON);
const ADMIN = 'e2e-hub-admin';

describe('the region page in Chromium', { skip }, () => {
  let hub: RunningHub;
  let browser: Browser;
  let secret: string;
  const schema = `e2e_region_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN });
    const keys: Record<string, string> = {};
    for (const [ods, name, pcn] of [
      ['A82001', 'Riverside Surgery', 'North PCN'],
      ['A82002', 'Hilltop Medical Centre', 'North PCN'],
      ['B82003', 'Quayside Practice', 'South PCN'],
    ] as const) {
      keys[ods] = await hub.addNode(ods, `node-${ods.toLowerCase()}-1`);
      await putPractice(hub.url, ADMIN, ods, name, pcn);
    }
    assert.equal(await postHeartbeat(hub.url, keys.A82001!, testHeartbeat('A82001', 'node-a82001-1', 1, { backlog: [{ kind: 'results-unfiled', count: 12 }, { kind: 'tasks-overdue', count: 3 }] })), 202);
    assert.equal(await postHeartbeat(hub.url, keys.A82001!, testHeartbeat('A82001', 'node-a82001-1', 2, { backlog: [{ kind: 'results-unfiled', count: 15 }, { kind: 'tasks-overdue', count: 3 }] })), 202);
    assert.equal(await postHeartbeat(hub.url, keys.A82002!, testHeartbeat('A82002', 'node-a82002-1', 1, { backlog: [{ kind: 'results-unfiled', count: 40 }, { kind: 'outbox-failed', count: 2 }] })), 202);
    ({ secret } = await hubStaffAccount(hub, 'lena.lead', 'region-lead'));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });

  async function axe(page: Page, label: string) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(result.filter((v) => v.impact === 'serious' || v.impact === 'critical'), [], `${label}: serious or critical accessibility violations`);
  }

  const practicesInTable = (page: Page) => page.locator('[data-testid=region-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-practice')));

  test('a region lead sees every practice, sorts by a backlog, filters by PCN and opens a practice history', async () => {
    const page = await signInAtHub(browser, hub.url, 'lena.lead', secret);
    const context = page.context();
    await page.waitForSelector('[data-testid=region-table]');

    assert.match((await page.textContent('[data-testid=signed-in-user]')) ?? '', /Region lead/);
    assert.equal(await page.locator('text=Find a patient').count(), 0, 'no patient search for hub staff');
    // Worst first: never reported, then needs attention, then working.
    assert.deepEqual(await practicesInTable(page), ['B82003', 'A82002', 'A82001']);
    assert.match((await page.textContent('[data-testid=region-summary]')) ?? '', /3 practices: 0 unreachable, 1 never reported, 1 needing attention, 1 working/);
    const hilltop = page.locator('tr[data-practice=A82002]');
    assert.match((await hilltop.textContent()) ?? '', /Needs attention.*2 outgoing messages failed/);
    assert.equal((await page.locator('tr[data-practice=A82001] td[data-kind=results-unfiled]').textContent())?.trim(), '15');
    assert.match((await page.locator('tr[data-practice=A82001] td[data-kind=documents-unfiled]').textContent()) ?? '', /Not reported/, 'a kind not reported is not shown as 0');
    assert.match((await page.locator('tr[data-practice=A82001]').textContent()) ?? '', /Results unfiled up 3 to 15/);
    assert.match((await page.locator('tr[data-practice=B82003] td[data-kind=replication-waiting]').textContent()) ?? '', /Not reported/, 'a practice never heard from has no backlog of 0');
    await shot(page, 'region-01-practices');
    await axe(page, 'region page');

    // Sort by results unfiled (largest first; not reported counts as largest), then by keyboard the other way.
    await page.click('button:has-text("Results unfiled")');
    assert.deepEqual(await practicesInTable(page), ['B82003', 'A82002', 'A82001']);
    assert.equal(await page.getAttribute('th:has(button:has-text("Results unfiled"))', 'aria-sort'), 'descending');
    await page.focus('button:has-text("Results unfiled")');
    await page.keyboard.press('Enter');
    assert.deepEqual(await practicesInTable(page), ['A82001', 'A82002', 'B82003']);

    await page.selectOption('#pcn-filter', 'North PCN');
    assert.deepEqual((await practicesInTable(page)).sort(), ['A82001', 'A82002']);
    await page.selectOption('#pcn-filter', 'South PCN');
    assert.deepEqual(await practicesInTable(page), ['B82003']);
    await page.selectOption('#pcn-filter', '');

    await page.click('a:has-text("Riverside Surgery")');
    await page.waitForSelector('[data-testid=practice-history]');
    assert.match((await page.textContent('h1')) ?? '', /Riverside Surgery \(A82001\)/);
    assert.equal(await page.locator('[data-testid=practice-history] tbody tr').count(), 2, 'both heartbeats are in the history');
    await shot(page, 'region-02-practice');
    await axe(page, 'practice page');
    await context.close();
  });
});
