/**
 * Everyday screens a practice runs on (issue 15 items 1, 2, 3, 6), walked per role in Chromium with
 * axe: reception registers a patient and edits their details; the receptionist cannot close a result
 * review; the practice manager sees the results list and gives a result to a clinician; the clinician
 * sees who each result is for and its abnormal flags, and is asked before filing an abnormal result
 * as normal; everyday words find tests; a first visit is not told its session ended; the alarm alert
 * lets another alarm be raised and the header keeps its layout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Task } from '@medplum/fhirtypes';
import { formatNhsNumber, NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { buildOru, ingestHl7, startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
type Role = 'receptionist' | 'clinician' | 'practice-admin';

const ida = { nhs: testNhsNumber(8801), family: 'Inbox', given: 'Ida', birthDate: '1961-07-08' };
const newPatient = { nhs: testNhsNumber(8802), family: 'Newcomer', given: 'Nia', birthDate: '1990-04-05' };

describe('everyday screens per role', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let browser: Browser;
  let idaId: string;
  let resultTaskId: string;
  const contexts: BrowserContext[] = [];

  async function newPage(label: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser ${label}] ${err.message}`));
    return page;
  }

  async function signIn(role: Role, workstation: string): Promise<Page> {
    const page = await newPage(role);
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', workstation);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.waitForSelector('[data-testid=status-alarm]:has-text("listening")');
    return page;
  }

  async function axe(page: Page, label: string) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad, [], `${label}: serious or critical accessibility violations`);
  }

  const go = (page: Page, path: string) => page.evaluate((p) => {
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);

  before(async () => {
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    node = await startTestNode();
    const ida_ = await node.create('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: ida.nhs }], name: [{ use: 'official', family: ida.family, given: [ida.given] }], birthDate: ida.birthDate, gender: 'female' });
    idaId = ida_.id!;
    const oru = buildOru({
      messageId: 'EVERYDAY-1', nhsNumber: ida.nhs, family: ida.family, given: ida.given, birthDate: ida.birthDate.replace(/-/g, ''), filler: 'EVERYDAY-F1', test: ['UE', 'Urea and electrolytes'],
      obx: [
        { code: 'K', display: 'Potassium', value: '6.9', units: 'mmol/L', range: '3.5-5.3', flag: 'HH' },
        { code: 'CREA', display: 'Creatinine', value: '130', units: 'umol/L', range: '45-110', flag: 'H' },
      ],
    });
    assert.equal((await ingestHl7({ store: node.store }, oru, 'folder')).state, 'filed');
    const tasks = await node.store.search({ resourceType: 'Task', params: [{ name: 'patient', values: [`Patient/${idaId}`] }], count: 10, offset: 0 });
    resultTaskId = (tasks.resources as Task[]).find((t) => t.code?.coding?.some((c) => c.code === 'pathology-result'))!.id!;
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await node?.close();
  });

  test('regression: a first visit was told "your session has ended"', async () => {
    const page = await newPage('first visit');
    await page.goto(node.url);
    await page.waitForSelector('#username');
    assert.doesNotMatch((await page.textContent('body')) ?? '', /session has ended/i);
    await axe(page, 'sign-in on a first visit');
  });

  test('receptionist registers a patient: every mistake named at once, then the record shows the details; edits are saved', async () => {
    const page = await signIn('receptionist', 'RECEPTION-1');
    await page.click('[data-testid=register-patient]');
    await page.waitForSelector('[data-testid=registration-form]');
    await page.fill('#reg-mobile', '0113 496 0000');
    await page.click('[data-testid=registration-submit]');
    const summary = await page.waitForSelector('[data-testid=registration-errors]');
    const text = (await summary.textContent()) ?? '';
    for (const expected of [/Enter the first name/, /Enter the last name/, /Enter the date of birth/, /Select the gender/, /not a UK mobile/]) assert.match(text, expected);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'registration-errors', 'the error summary takes the focus');
    await axe(page, 'registration with errors');

    await page.fill('#reg-title', 'Ms');
    await page.fill('#reg-givenName', newPatient.given);
    await page.fill('#reg-familyName', newPatient.family);
    await page.fill('#reg-birthDate', newPatient.birthDate);
    await page.selectOption('#reg-gender', 'female');
    await page.fill('#reg-nhsNumber', formatNhsNumber(newPatient.nhs));
    await page.fill('#reg-addressLine1', '3 Canal Street');
    await page.fill('#reg-town', 'Leeds');
    await page.fill('#reg-postcode', 'ls1 4ap');
    await page.fill('#reg-phone', '0113 496 0777');
    await page.fill('#reg-mobile', '07700 900321');
    await page.fill('#reg-email', 'nia@example.com');
    await page.check('#reg-smsConsent');
    await page.click('[data-testid=registration-submit]');
    await page.waitForSelector('[data-testid=patient-details]');
    assert.match((await page.textContent('[data-testid=details-notice]')) ?? '', /Patient registered/);
    assert.equal(await page.textContent('[data-testid=details-nhs-number]'), formatNhsNumber(newPatient.nhs));
    assert.equal(await page.textContent('[data-testid=details-mobile]'), '07700 900321');
    assert.equal(await page.textContent('[data-testid=details-email]'), 'nia@example.com');
    assert.match((await page.textContent('[data-testid=details-address]')) ?? '', /LS1 4AP/);
    assert.match((await page.textContent('[data-testid=details-contact-by]')) ?? '', /Text messages/);
    await axe(page, 'details tab');

    await page.click('[data-testid=change-details]');
    await page.waitForSelector('#reg-mobile');
    assert.equal(await page.inputValue('#reg-familyName'), newPatient.family, 'the form opens with the details held');
    await page.fill('#reg-mobile', '07700 900999');
    await page.fill('#reg-email', '');
    await page.check('#reg-doNotContact');
    await axe(page, 'change details');
    await page.click('[data-testid=registration-submit]');
    await page.waitForSelector('[data-testid=details-notice]:has-text("Details saved")');
    assert.equal(await page.textContent('[data-testid=details-mobile]'), '07700 900999');
    assert.equal(await page.textContent('[data-testid=details-email]'), 'Not recorded');
    assert.equal(await page.textContent('[data-testid=details-contact-by]'), 'Do not contact');
  });

  test('receptionist: a result review shows "To do" with the reason, never a Done choice; statuses in plain English', async () => {
    const page = await signIn('receptionist', 'RECEPTION-1');
    await go(page, '/tasks');
    await page.waitForSelector('[data-testid=task-list][aria-busy=false]');
    const fixed = page.locator(`[data-testid=status-fixed-${resultTaskId}]`);
    assert.match((await fixed.textContent()) ?? '', /To do.*results inbox/s);
    assert.equal(await page.locator(`#status-${resultTaskId}`).count(), 0, 'no status choice on a result review');
    assert.doesNotMatch((await page.textContent('[data-testid=task-list]')) ?? '', /\b(requested|in-progress)\b/);
    await axe(page, 'tasks for reception');
  });

  test('practice manager sees the results list (patient, NHS number, abnormal flags) and gives a result to a clinician', async () => {
    const page = await signIn('practice-admin', 'OFFICE-1');
    await go(page, '/results');
    const row = page.locator('[data-testid=results-admin-list] [data-testid=results-row]').first();
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /INBOX, Ida/);
    assert.match(text, new RegExp(formatNhsNumber(ida.nhs)));
    assert.match(text, /Born 8-Jul-1961/);
    assert.match(text, /Critically high/);
    await axe(page, 'results list for the practice manager');
    await page.selectOption(`#reassign-${resultTaskId}`, { label: 'Test clinician' });
    await page.waitForSelector('[data-testid=results-notice]:has-text("given to Test clinician")');
  });

  test('clinician: the inbox row names the patient; filing an abnormal result as normal asks first; units shown one way', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    await go(page, '/results');
    const row = page.locator('[data-testid=results-list] [data-testid=results-row]').first();
    await row.waitFor();
    assert.match((await row.locator('[data-testid=results-row-patient]').textContent()) ?? '', new RegExp(`INBOX, Ida.*${formatNhsNumber(ida.nhs)}.*8-Jul-1961`, 's'));
    assert.match((await row.locator('[data-testid=results-row-abnormal]').textContent()) ?? '', /Critically high Potassium.*High Creatinine/s);
    await axe(page, 'results inbox');
    await row.locator('a').first().click();
    await page.waitForSelector('[data-testid=result-values]');
    assert.equal(await page.textContent('[data-testid=result-nhs-number]'), formatNhsNumber(ida.nhs));
    assert.match((await page.textContent('[data-testid=result-values]')) ?? '', /130 µmol\/L/);
    await page.check('#file-normal');
    await page.click('button:has-text("File result")');
    await page.waitForSelector('[data-testid=confirm-normal]');
    assert.match((await page.textContent('[data-testid=confirm-normal]')) ?? '', /critical values: Potassium \(Critically high\)/);
    await axe(page, 'confirm filing an abnormal result as normal');
    assert.equal(((await node.store.read('Task', resultTaskId))!.resource as Task).status, 'requested', 'nothing filed before confirming');
    await page.click('button:has-text("Choose another action")');
    await page.check('#file-urgent-contact');
    await page.click('button:has-text("File result")');
    await page.waitForSelector('[data-testid=results-backlog]');
    assert.equal(((await node.store.read('Task', resultTaskId))!.resource as Task).status, 'completed');
  });

  test('clinician: "U&E" finds Urea and electrolytes on the request screen', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    await go(page, `/patient/${idaId}/pathology-request`);
    await page.waitForSelector('#test-search');
    await page.fill('#test-search', 'U&E');
    await page.waitForFunction(() => /Urea and electrolytes/.test(document.querySelector('main')?.textContent ?? ''));
    await axe(page, 'request tests');
  });

  test('an alarm alert never blocks raising another, and the header keeps its layout after an alarm is sent', async () => {
    const clinician = await signIn('clinician', 'CONSULT-3');
    const receptionist = await signIn('receptionist', 'RECEPTION-1');
    const header = async (page: Page) => (await page.locator('header.nhsuk-header').boundingBox())!.height;
    const before = await header(receptionist);
    await receptionist.click('.nhsuk-header button:has-text("Panic alarm")');
    await receptionist.click('button:has-text("Confirm panic alarm")');
    await clinician.waitForSelector('[role=alertdialog]');
    await receptionist.waitForSelector('.sf-panic__status--sent');
    assert.equal(await header(receptionist), before, 'the sent message does not change the header');
    const another = clinician.locator('[data-testid=alarm-raise-another]');
    await another.locator('button:has-text("Raise another alarm")').click();
    await another.locator('button:has-text("Confirm panic alarm")').click();
    await receptionist.waitForSelector('[data-testid=alarm-where]:has-text("Test clinician")');
    await axe(clinician, 'alarm alert with raise another');
    await clinician.reload();
    await clinician.waitForSelector('[role=alertdialog]');
    assert.ok(await clinician.locator('[data-testid=alarm-where]').count(), 'after a reload the alarm is shown again');
  });
});
