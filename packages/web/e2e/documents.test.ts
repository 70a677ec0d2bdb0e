/**
 * Document workflow in Chromium against a real node: a receptionist with the document-workflow right
 * uploads a hospital letter (a real PDF), views it beside the proposed patient, confirms the patient,
 * sets type and date, codes a suggested diagnosis, and sends it to a clinician as urgent; the
 * clinician finds it first in their own queue and files it; it is on the record's documents tab.
 * axe: no serious or critical violations on the list or the document.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { insertSyntheticDocuments, letterPdf, LETTER_PATIENT, startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { assertAccessible, chromiumSkip, launchChromium } from './browser.ts';

const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** A London day `n` days before today, YYYY-MM-DD. */
const londonDaysAgo = (n: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date(Date.now() - n * 86_400_000));

describe('document workflow in Chromium', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let browser: Browser;
  let patientId: string;
  let letterPath: string;

  before(async () => {
    node = await startTestNode();
    browser = await launchChromium();
    const p = LETTER_PATIENT;
    const created = await node.create('practice-admin', { resourceType: 'Patient', identifier: [{ system: NHS_SYSTEM, value: p.nhsNumber }], name: [{ given: [p.given], family: p.family }], birthDate: p.birthDate, address: [{ postalCode: p.postcode }] });
    patientId = created.id;
    const grant = await node.fetchAs('practice-admin', `/api/documents/workflow-staff/${node.users.receptionist.id}`, { method: 'PUT', body: JSON.stringify({ granted: true }), headers: { 'content-type': 'application/json' } });
    assert.equal(grant.status, 200);
    // Filed letters on known days (filed, so the list to work still starts with the upload below):
    // 6 days ago 3 arrived; 3 days ago 1 arrived and those 3 were filed; yesterday that 1 was filed.
    const at = (n: number) => `${londonDaysAgo(n)}T12:00:00.000Z`;
    await insertSyntheticDocuments(node.store, [
      ...[901, 902, 903].map((i) => ({ i, receivedAt: at(6), fields: { state: 'filed', filed_at: at(3) } })),
      { i: 904, receivedAt: at(3), fields: { state: 'filed', filed_at: at(1) } },
    ]);
    letterPath = join(mkdtempSync(join(tmpdir(), 'steadfast-letter-')), 'discharge-summary.pdf');
    writeFileSync(letterPath, await letterPdf(p, 'Discharge summary', 'Diagnosed type 2 diabetes. Started metformin.'));
  });
  after(async () => {
    await browser?.close();
    await node?.close();
  });

  async function signIn(role: 'receptionist' | 'clinician') {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'DESK-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    return { context, page };
  }

  test('a letter is uploaded, matched, coded, routed as urgent, filed by the clinician, and on the record', async () => {
    const { context, page } = await signIn('receptionist');
    await page.click('a.nhsuk-header__navigation-link:has-text("Documents")');
    await page.waitForSelector('[data-testid=documents-backlog]');
    await page.setInputFiles('#document-file', letterPath);
    await page.click('button:has-text("Upload")');
    await page.waitForSelector('[data-testid=documents-notice]:has-text("1 document uploaded")');
    await page.waitForSelector('[data-testid=documents-row]');
    assert.match((await page.textContent('[data-testid=documents-row]')) ?? '', /Proposed: TESTPATIENT, Alex/);
    assert.match((await page.textContent('[data-testid=documents-oldest]')) ?? '', /Oldest unworked/);
    await assertAccessible(page, 'the documents list');

    // Opened with the keyboard; the PDF itself is served inline as a PDF, beside the patient.
    const pdf = page.waitForResponse((r) => /\/api\/documents\/[^/]+\/content$/.test(r.url()));
    await page.click('h1');
    await page.keyboard.press('Enter');
    const pdfResponse = await pdf;
    assert.equal(pdfResponse.status(), 200);
    assert.equal(pdfResponse.headers()['content-type'], 'application/pdf');
    assert.equal(pdfResponse.headers()['x-content-type-options'], 'nosniff');
    await page.waitForSelector('[data-testid=document-viewer]');
    await page.waitForSelector('[data-testid=document-patient]');
    assert.match((await page.textContent('[data-testid=document-patient]')) ?? '', /TESTPATIENT, Alex · born 12 Mar 1980|TESTPATIENT, Alex/);
    await assertAccessible(page, 'one document');

    await page.click('button:has-text("Confirm this patient")');
    await page.waitForSelector('[data-testid=document-notice]:has-text("Patient confirmed")');
    await page.selectOption('#document-type', 'discharge-summary');
    await page.fill('#document-date', '2026-11-30');
    await page.fill('#suggestion-display', 'Type 2 diabetes mellitus');
    await page.fill('#suggestion-code', '44054006');
    await page.click('button:has-text("Add suggestion")');
    await page.click('button:has-text("Save type, date and suggestions")');
    await page.waitForSelector('[data-testid=document-notice]:has-text("Coding saved")');
    // Sending without choosing a clinician is refused, naming what is missing.
    await page.check('#route-action-urgent');
    await page.click('button:has-text("Send to clinician")');
    await page.waitForSelector('[data-testid=document-error]:has-text("Choose the clinician")');
    await page.selectOption('#route-clinician', { index: 1 });
    await page.click('button:has-text("Send to clinician")');
    await page.waitForSelector('[data-testid=document-notice]:has-text("Sent to the clinician")');
    await context.close();

    const gp = await signIn('clinician');
    await gp.page.click('a.nhsuk-header__navigation-link:has-text("Documents")');
    await gp.page.waitForSelector('[data-testid=documents-mine]');
    assert.match((await gp.page.textContent('[data-testid=documents-mine]')) ?? '', /Urgent/);
    await gp.page.click('[data-testid=documents-mine] a');
    await gp.page.waitForSelector('[data-testid=document-suggestions]:has-text("Type 2 diabetes mellitus")');
    await gp.page.click('button:has-text("File to the record")');
    await gp.page.waitForSelector('[data-testid=document-filed]');
    assert.match((await gp.page.textContent('[data-testid=document-history]')) ?? '', /routed[\s\S]*filed/);
    await gp.page.goto(`${node.url}/patient/${patientId}`);
    await gp.page.click('#tab-documents');
    await gp.page.waitForSelector('table:has-text("Discharge summary")');
    const href = await gp.page.getAttribute('table:has-text("Discharge summary") a', 'href');
    assert.match(href ?? '', /^\/api\/documents\/binary\//);
    const bytes = await gp.page.evaluate(async (u) => (await fetch(u)).headers.get('content-type'), href!);
    assert.equal(bytes, 'application/pdf');
    await gp.context.close();
  });

  test('the arrived-since filter is in the address (a link shares it), with the oldest unworked and the days as a table', async () => {
    const { context, page } = await signIn('receptionist');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
    await page.goto(`${node.url}/documents`);
    await page.waitForSelector('[data-testid=documents-backlog]');
    await page.fill('#documents-since', today);
    await page.waitForFunction((d) => location.search === `?since=${d}`, today);
    // The shared link, opened afresh, shows the same filter.
    const shared = await context.newPage();
    await shared.goto(`${node.url}/documents?since=${today}`);
    await shared.waitForSelector('[data-testid=documents-total]');
    assert.equal(await shared.inputValue('#documents-since'), today);
    assert.match((await shared.textContent('[data-testid=documents-total]')) ?? '', /received since/);
    assert.match((await shared.textContent('[data-testid=documents-oldest]')) ?? '', /Oldest unworked|Nothing waiting/);
    await shared.click('[data-testid=documents-daily] summary');
    await shared.waitForSelector('[data-testid=documents-day]');
    const rows = await shared.$$eval('[data-testid=documents-day]', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    assert.equal(rows.length, 1, 'from the since date to today: one day');
    assert.ok(Number(rows[0]![1]) >= 1, `the letter uploaded today is counted as arrived: ${JSON.stringify(rows)}`);
    await assertAccessible(shared, 'the documents list since today');
    await context.close();
  });

  test('the daily chart: a sized canvas named by its summary, whose figures (read from its legend) equal the table and the API, from the arrived-since date', async () => {
    const { context, page } = await signIn('receptionist');
    const from = londonDaysAgo(7);
    const today = londonDaysAgo(0);
    await page.goto(`${node.url}/documents?since=${from}`);
    const chart = '[data-testid=documents-daily-chart]';
    await page.waitForSelector(`${chart} canvas`);
    const box = await page.locator(`${chart} canvas`).boundingBox();
    assert.ok(box && box.width > 200 && box.height > 100, `the canvas is drawn at a usable size: ${JSON.stringify(box)}`);
    const summary = (await page.getAttribute(`${chart} [role=img]`, 'aria-label')) ?? '';
    assert.match(summary, /^Documents arrived and filed each day, .+\. Arrived: highest 3, latest \d+; Filed: highest 3, latest \d+\.$/);

    const api = await page.evaluate(async (u) => (await fetch(u)).json(), `/api/documents/backlog/daily?from=${from}&to=${today}`);
    const days = (api as { days: Array<{ date: string; arrived: number; filed: number }> }).days;
    assert.equal(days.length, 8, 'from the since date to today');
    const byDate = new Map(days.map((d) => [d.date, d]));
    assert.deepEqual(byDate.get(londonDaysAgo(6)), { date: londonDaysAgo(6), arrived: 3, filed: 0 });
    assert.deepEqual(byDate.get(londonDaysAgo(3)), { date: londonDaysAgo(3), arrived: 1, filed: 3 });
    assert.deepEqual(byDate.get(londonDaysAgo(1)), { date: londonDaysAgo(1), arrived: 0, filed: 1 });

    // The table (the chart's text alternative) holds the API's figures, day by day.
    await page.click('[data-testid=documents-daily] summary');
    const table = await page.$$eval('[data-testid=documents-day]', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    assert.deepEqual(table.map((r) => [Number(r[1]), Number(r[2])]), days.map((d) => [d.arrived, d.filed]));

    // The chart's own figures: the cursor on each day, its legend names that day and its values.
    const over = (await page.locator(`${chart} .u-over`).boundingBox())!;
    const legend: string[][] = [];
    for (let i = 0; i < days.length; i++) {
      // The last day is at the right edge of the plot: one pixel inside it.
      await page.mouse.move(over.x + Math.min(over.width - 1, (over.width * i) / (days.length - 1)), over.y + over.height / 2);
      legend.push(await page.$$eval(`${chart} .u-legend .u-series`, (rows) => rows.map((r) => r.querySelector('.u-value')?.textContent ?? '')));
    }
    assert.deepEqual(legend, table.map((r) => [r[0], r[1], r[2]]), 'the chart plots the same days and figures as the table');
    await assertAccessible(page, 'the documents list with its daily chart');
    await context.close();
  });
});
