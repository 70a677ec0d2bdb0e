/**
 * The patient's online consultation form (packages/patient-web) in Chromium on a phone-sized viewport,
 * against a real node on loopback: a medical and an admin request sent and stored, the red-flag stop,
 * and the error summary for bad input. axe: no serious or critical violations on each page checked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { testNhsNumber } from '@steadfast/domain';
import { startTestNode, type TestNode } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const ALWAYS_OPEN = { hours: ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' })) };
// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe("patient's online consultation form in Chromium (390x844)", { skip: chromiumSkip }, () => {
  let node: TestNode;
  let browser: Browser;

  before(async () => {
    node = await startTestNode({ config: { onlineConsultations: { ...ALWAYS_OPEN, practiceName: 'Park Row Surgery' } } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await node?.close();
  });

  async function phone(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[patient form] ${err.message}`));
    await page.goto(`${node.url}/consult/`);
    await page.waitForSelector('h1:has-text("Park Row Surgery")');
    return page;
  }

  async function axe(page: Page, label: string) {
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), [], `${label}: serious or critical accessibility violations`);
  }

  const next = (page: Page) => page.click('button:has-text("Continue")');

  async function allRedFlagsNo(page: Page) {
    await page.waitForSelector('h1:has-text("urgent help")');
    for (const id of await page.$$eval('fieldset input[type=radio][value=no]', (els) => els.map((e) => e.id))) await page.check(`#${id}`);
    await next(page);
  }

  async function identity(page: Page, nhsNumber = '') {
    await page.waitForSelector('h1:has-text("Your details")');
    await page.fill('#givenName', 'Jane');
    await page.fill('#familyName', 'Smith');
    await page.fill('#dob-day', '1');
    await page.fill('#dob-month', '2');
    await page.fill('#dob-year', '1980');
    await page.fill('#postcode', 'LS1 4AP');
    if (nhsNumber) await page.fill('#nhsNumber', nhsNumber);
    await page.fill('#mobile', '07700 900123');
    await page.check('#contact');
  }

  async function send(page: Page): Promise<string> {
    await page.waitForSelector('[data-testid=check-answers]');
    await axe(page, 'check your answers');
    await page.click('#submit');
    await page.waitForSelector('[data-testid=confirmation]');
    await axe(page, 'confirmation');
    return (await page.textContent('[data-testid=reference]'))!.trim();
  }

  async function stored(): Promise<number> {
    const r = await node.fetchAs('clinician', '/api/online-consultations?status=open');
    assert.equal(r.status, 200);
    return ((await r.json()) as { items: unknown[] }).items.length;
  }

  test('a medical request with a photo is sent, stored and given a reference', async () => {
    const before = await stored();
    const page = await phone();
    await axe(page, 'start');
    await page.check('#kind');
    await next(page);
    await axe(page, 'red flags');
    await allRedFlagsNo(page);
    await page.fill('#symptoms', 'A rash on my arm for a week <script>alert(1)</script>');
    await next(page);
    await page.check('#duration');
    await next(page);
    await next(page); // "What have you tried" is optional
    await page.fill('#want', 'Please look at the photo and advise');
    await next(page);
    await page.setInputFiles('#photos', { name: 'rash.png', mimeType: 'image/png', buffer: PNG });
    await next(page);
    await identity(page);
    await axe(page, 'your details');
    await next(page);
    const reference = await send(page);
    assert.match(reference, /^OC-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.equal(await stored(), before + 1);
    await page.context().close();
  });

  test('an admin request (repeat prescription) with a valid NHS number is sent and stored', async () => {
    const before = await stored();
    const page = await phone();
    await page.check('#kind-admin');
    await next(page);
    await allRedFlagsNo(page);
    await page.check('#admin-type-repeat-prescription');
    await next(page);
    await page.fill('#medication', 'Metformin 500mg');
    await next(page);
    await page.fill('#details', 'My repeat has run out');
    await next(page);
    await identity(page, testNhsNumber(4101));
    await next(page);
    assert.match(await send(page), /^OC-/);
    assert.equal(await stored(), before + 1);
    await page.context().close();
  });

  test('a "yes" to chest pain stops the form with "Call 999" and sends nothing', async () => {
    const before = await stored();
    const page = await phone();
    await page.check('#kind');
    await next(page);
    await page.waitForSelector('h1:has-text("urgent help")');
    for (const id of await page.$$eval('fieldset input[type=radio][value=no]', (els) => els.map((e) => e.id))) await page.check(`#${id}`);
    await page.check('#rf-chest-pain');
    await next(page);
    const stop = await page.waitForSelector('[data-testid=red-flag-stop]');
    assert.match((await stop.textContent()) ?? '', /Call 999 now/);
    await axe(page, 'red-flag stop');
    assert.equal(await page.$('button:has-text("Continue")'), null, 'the form cannot go on past the stop');
    assert.equal(await stored(), before);
    await page.context().close();
  });

  test('bad input gets the NHS.UK error summary with links to the fields', async () => {
    const page = await phone();
    await next(page); // nothing chosen
    await page.waitForSelector('[data-testid=error-summary] a[href="#kind"]');
    await axe(page, 'error summary: nothing chosen');
    await page.check('#kind');
    await next(page);
    await next(page); // red flags unanswered
    await page.waitForSelector('[data-testid=error-summary] a[href="#rf-chest-pain"]');
    await allRedFlagsNo(page);
    await next(page); // symptoms missing
    await page.waitForSelector('[data-testid=error-summary] a[href="#symptoms"]');
    await page.fill('#symptoms', 'Cough');
    await next(page);
    await page.check('#duration');
    await next(page);
    await next(page);
    await page.fill('#want', 'Advice');
    await next(page);
    await page.setInputFiles('#photos', { name: 'notes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 not an image') });
    await next(page);
    const photoError = await page.waitForSelector('[data-testid=error-summary] a[href="#photos"]');
    assert.match((await photoError.textContent()) ?? '', /notes\.pdf is not a photo/);
    await page.setInputFiles('#photos', []);
    await next(page);
    await identity(page, '9434765918');
    await page.fill('#dob-day', '31');
    await page.fill('#dob-month', '2');
    await next(page);
    const summary = (await page.textContent('[data-testid=error-summary]')) ?? '';
    assert.match(summary, /Date of birth must be a real date/);
    assert.match(summary, /valid NHS number/);
    assert.ok(await page.$('.nhsuk-form-group--error #nhsNumber'), 'the NHS number field is marked in error');
    await axe(page, 'error summary: your details');
    await page.context().close();
  });

  test('a network error is never shown as received, and the retry re-sends the same device id, stored once', async () => {
    const before = await stored();
    const page = await phone();
    await page.check('#kind-admin');
    await next(page);
    await allRedFlagsNo(page);
    await page.check('#admin-type');
    await next(page);
    await page.fill('#details', 'Fit note for last week');
    await next(page);
    await identity(page);
    await next(page);
    await page.waitForSelector('[data-testid=check-answers]');
    const sentIds: string[] = [];
    let failNext = true;
    await page.route('**/submissions', async (route) => {
      sentIds.push((JSON.parse(route.request().postData() ?? '{}') as { submissionId: string }).submissionId);
      if (failNext) {
        failNext = false;
        await route.abort('connectionreset');
      } else await route.continue();
    });
    await page.click('#submit');
    const problem = await page.waitForSelector('[data-testid=error-summary]');
    assert.match((await problem.textContent()) ?? '', /could not be sent/);
    assert.equal(await page.$('[data-testid=confirmation]'), null, 'no "received" after a network error');
    assert.equal(await stored(), before);
    await page.click('#submit');
    await page.waitForSelector('[data-testid=confirmation]');
    assert.equal(sentIds.length, 2);
    assert.equal(sentIds[0], sentIds[1], 'the retry carries the same submission id');
    assert.equal(await stored(), before + 1);
    await page.context().close();
  });
});
