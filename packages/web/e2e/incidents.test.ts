/**
 * End-to-end: an incident run in the open, in Debian's Chromium, against a real hub on PostgreSQL and
 * a real practice node (SQLite) that long-polls the hub and sends through its one outbox. A region
 * lead signs in with two-factor, is shown an NHS.UK error summary for an incident with missing fields,
 * opens one, and posts an update; the practice's staff app shows the update in its banner within
 * seconds; practice staff acknowledge it and send a report through the structured form (its error
 * summary first); the hub's incident page shows the acknowledgement and the report; the timeline
 * downloads as CSV and PDF; closing while an affected practice has not been heard from needs an
 * explicit confirmation (a wrong all clear). axe on every screen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import {
  dropHubSchema, hubStaffAccount, newNodeKey, postgresAvailable, PG_SKIP_REASON, postHeartbeat, startHub, startTestNode, testHeartbeat, TEST_PASSWORD, testUsernames, TEST_PG_URL,
  type RunningHub, type TestNode,
} from '@steadfast/server/testing';
import { assertAccessible, chromiumSkip, launchChromium, until } from './browser.ts';
import { putPractice, signInAtHub } from './hub.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const pgOk = await postgresAvailable();
const skip = chromiumSkip || (pgOk ? false : PG_SKIP_REASON);
const ADMIN = 'e2e-hub-admin';
const PRACTICE = 'A83001';
const QUIET = 'A83002';

/** A datetime-local value an hour or two ahead (the contexts run in Europe/London, UTC in December). */
const localIn = (hours: number) => new Date(Date.now() + hours * 3600_000).toISOString().slice(0, 16);

describe('an incident in Chromium: the hub, the banner at a practice, its acknowledgement and report', { skip }, () => {
  let hub: RunningHub;
  let node: TestNode;
  let browser: Browser;
  let secret: string;
  const key = newNodeKey();
  const schema = `e2e_incidents_${process.pid}_${Date.now().toString(36)}`;
  let lead: Page;
  let staff: Page;
  let incidentPath = '';

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    hub = await startHub({ databaseUrl: TEST_PG_URL, pgSchema: schema, port: 0, adminToken: ADMIN });
    node = await startTestNode({ practice: PRACTICE, config: { incidents: { hub: { url: hub.url, key }, pollWaitMs: 5000 }, outbox: { intervalMs: 200 } } });
    await hub.addNode(PRACTICE, node.store.nodeId, key);
    await hub.addNode(QUIET, 'node-a83002-1');
    await putPractice(hub.url, ADMIN, PRACTICE, 'Riverside Surgery', 'North PCN');
    await putPractice(hub.url, ADMIN, QUIET, 'Quayside Practice', 'South PCN');
    // The practice node is heard from; the other practice never has been.
    assert.equal(await postHeartbeat(hub.url, key, testHeartbeat(PRACTICE, node.store.nodeId, 1, { backlog: [{ kind: 'results-unfiled', count: 7 }] })), 202);
    ({ secret } = await hubStaffAccount(hub, 'lena.lead', 'region-lead'));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await node?.close();
    await hub?.close();
    await dropHubSchema(schema);
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });

  test('a region lead gets an error summary for missing fields, then opens an incident for a PCN and a practice', async () => {
    lead = await signInAtHub(browser, hub.url, 'lena.lead', secret);
    await lead.click('a:has-text("Incidents")');
    await lead.waitForSelector('[data-testid=open-incident]');
    await lead.fill('#open-title', 'HSCN link down');
    await lead.click('button:has-text("Open the incident")');
    const summary = lead.locator('[data-testid=open-error]');
    await summary.waitFor();
    const problems = await summary.locator('li a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(problems, ['#open-practices', '#open-known', '#open-practicesShould', '#open-nextUpdateAt'], 'every missing field named and linked');
    assert.equal(await lead.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'open-error', 'the summary takes focus');
    assert.equal(await lead.locator('.nhsuk-form-group--error').count(), 4);
    await shot(lead, 'incidents-01-errors');
    await assertAccessible(lead, 'open an incident, with errors');

    await lead.getByLabel('All of North PCN').check();
    await lead.check(`#practice-${QUIET}`);
    await lead.fill('#open-known', 'The data centre link is down');
    await lead.fill('#open-practicesShould', 'Keep working on the practice node; phone the lab for urgent results');
    await lead.fill('#open-nextUpdateAt', localIn(1));
    await lead.click('button:has-text("Open the incident")');
    await lead.waitForSelector('[data-testid=incident-practices]');
    incidentPath = new URL(lead.url()).pathname;
    assert.match(incidentPath, /^\/region\/incidents\/[0-9a-f-]+$/);
    assert.deepEqual(await lead.locator('[data-testid=incident-practices] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-practice'))), [PRACTICE, QUIET]);
    await assertAccessible(lead, 'the incident page');
  });

  test("the practice's staff app shows the banner, and an update posted at the hub within seconds", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    staff = await context.newPage();
    staff.on('pageerror', (err) => console.error(`[browser] ${err.message}`));
    await staff.goto(node.url);
    await staff.fill('#username', testUsernames.receptionist);
    await staff.fill('#password', TEST_PASSWORD);
    await staff.fill('#workstation', 'RECEPTION-1');
    await staff.click('button[type=submit]');
    await staff.waitForSelector('[data-testid=signed-in-user]');
    await until('the banner', async () => (await staff.locator('[data-testid=incident-known]').count()) > 0);
    assert.match((await staff.textContent('[data-testid=incident-known]')) ?? '', /The data centre link is down/);

    await lead.fill('#update-known', 'An engineer is on site');
    await lead.fill('#update-practicesShould', 'Carry on with the outage plan');
    await lead.fill('#update-nextUpdateAt', localIn(2));
    await lead.fill('#update-expectedRestorationAt', localIn(3));
    const posted = Date.now();
    await lead.click('button:has-text("Post the update")');
    await lead.waitForSelector('[data-testid=incident-updates] li:has-text("Update 2")');
    await until('update 2 in the banner', async () => /An engineer is on site/.test((await staff.textContent('[data-testid=incident-known]')) ?? ''), 10_000);
    const seconds = (Date.now() - posted) / 1000;
    assert.ok(seconds < 10, `the banner showed the update ${seconds.toFixed(1)} s after it was posted`);
    assert.match((await staff.textContent('[data-testid=incident-banner]')) ?? '', /Update 2, posted .* Service expected back by/);
    assert.equal(await staff.locator('[data-testid=incident-stale]').count(), 0, 'a current update is not marked stale');
    await shot(staff, 'incidents-02-banner');
    await assertAccessible(staff, 'the staff app with the incident banner');
  });

  test('practice staff acknowledge the update and send a report through the structured form', async () => {
    await staff.click('button:has-text("Acknowledge update 2")');
    await until('the acknowledgement reaches the hub', async () => /received by the regional hub/.test((await staff.locator('[data-testid=incident-acknowledged]').textContent().catch(() => '')) ?? ''));

    await staff.click('a:has-text("Report your practice’s problems and needs")');
    await staff.waitForSelector('button:has-text("Send report")');
    await staff.click('button:has-text("Send report")');
    const summary = staff.locator('[data-testid=report-error]');
    await summary.waitFor();
    assert.deepEqual(await summary.locator('li a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), ['#report-notWorking', '#report-backlog', '#report-helpNeeded']);
    await assertAccessible(staff, 'the report form, with errors');
    await staff.check('#area-pathology-results');
    await staff.fill('#report-backlog', 'About 60 results unfiled');
    await staff.fill('#report-helpNeeded', 'A courier for samples');
    await staff.click('button:has-text("Send report")');
    await staff.waitForSelector('[data-testid=report-sent]');
    await assertAccessible(staff, 'the report sent');
    await staff.click('button:has-text("Back to work")');
    await until('the report reaches the hub', async () => /received by the hub/.test((await staff.locator('[data-testid=incident-reports]').textContent().catch(() => '')) ?? ''));
  });

  test("the hub's incident page shows the acknowledgement and the report; the timeline downloads as CSV and PDF", async () => {
    const row = lead.locator(`[data-testid=incident-practices] tr[data-practice=${PRACTICE}]`);
    await until('the acknowledgement at the hub', async () => /^Yes/.test(((await row.locator('[data-testid=acknowledged]').textContent()) ?? '').trim()));
    assert.match((await row.locator('[data-testid=acknowledged]').textContent()) ?? '', /Update 2: Test receptionist \(receptionist\)/);
    await until('the report at the hub', async () => /About 60 results unfiled/.test((await row.locator('[data-testid=reports]').textContent()) ?? ''));
    assert.match((await row.locator('[data-testid=reports]').textContent()) ?? '', /not working: .*Help needed: A courier for samples/);
    assert.match((await lead.locator(`tr[data-practice=${QUIET}] [data-testid=acknowledged]`).textContent()) ?? '', /Not yet/);
    await shot(lead, 'incidents-03-hub');
    await assertAccessible(lead, 'the incident page with an acknowledgement and a report');

    const [csv] = await Promise.all([lead.waitForEvent('download'), lead.click('a:has-text("Timeline (CSV)")')]);
    const text = readFileSync((await csv.path())!, 'utf8');
    assert.match(csv.suggestedFilename(), /^incident-.*-timeline\.csv$/);
    for (const event of ['opened', 'update', 'acknowledgement', 'report']) assert.ok(text.includes(`,"${event}",`), `a ${event} row in the CSV`);
    assert.ok(text.includes('About 60 results unfiled'));
    const [pdf] = await Promise.all([lead.waitForEvent('download'), lead.click('a:has-text("Timeline (PDF)")')]);
    assert.equal(readFileSync((await pdf.path())!).subarray(0, 5).toString(), '%PDF-');
  });

  test('a wrong all clear: closing while a practice has not been heard from needs an explicit confirmation', async () => {
    // The practice node reports again; the other practice never has.
    assert.equal(await postHeartbeat(hub.url, key, testHeartbeat(PRACTICE, node.store.nodeId, 2)), 202);
    await lead.reload();
    await lead.waitForSelector('[data-testid=close-incident]');
    const warning = lead.locator('[data-testid=close-unheard]');
    await warning.waitFor();
    assert.match((await warning.textContent()) ?? '', /Quayside Practice \(A83002\): never heard from/);
    assert.doesNotMatch((await warning.textContent()) ?? '', /Riverside/, 'a practice heard from is not listed');
    await lead.fill('#close-known', 'The link was restored at 15:00');
    await lead.fill('#close-practicesShould', 'File the results that arrived during the outage');
    await lead.click('button:has-text("Close the incident")');
    const summary = lead.locator('[data-testid=close-error]');
    await summary.waitFor();
    assert.match((await summary.textContent()) ?? '', /Not heard from, so their status is unknown: Quayside Practice \(A83002\), never heard from/);
    assert.equal(await summary.locator('a').getAttribute('href'), '#close-confirmUnheard');
    assert.match((await lead.textContent('h1 + p')) ?? '', /Open/, 'not closed without the confirmation');
    await shot(lead, 'incidents-04-close-unheard');
    await assertAccessible(lead, 'closing with a practice not heard from');

    await lead.check('#close-confirmUnheard');
    await lead.click('button:has-text("Close the incident")');
    await until('closed', async () => /Closed/.test((await lead.textContent('h1 + p')) ?? ''));
    await until('the closed banner at the practice', async () => /Incident closed: HSCN link down/.test((await staff.textContent('[data-testid=incident-banner] h2').catch(() => '')) ?? ''), 10_000);
    assert.match((await staff.textContent('[data-testid=incident-should]')) ?? '', /File the results that arrived/);
    await assertAccessible(staff, 'the staff app with the closed incident');
  });
});
