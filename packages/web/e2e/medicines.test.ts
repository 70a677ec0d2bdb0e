/**
 * The record's Medications tab in Chromium against a real node: a patient's acute items, repeat
 * templates (issues left, review date, review due), past items and issue history are shown apart; a
 * prescriber stops an item only with a reason (the error summary names the field), and the stopped
 * item moves to the past list with its reason, stored through the change log. axe on the tab.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import type { MedicationRequest, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { assertAccessible, chromiumSkip, launchChromium } from './browser.ts';

const continuous = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] };

describe('medications tab in Chromium', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let browser: Browser;
  let patientId: string;
  const ids: Record<string, string> = {};

  before(async () => {
    node = await startTestNode();
    const write = async (resources: Resource[]) => (await node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' })).map((r) => r.resource!);
    const [p] = await write([{ resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7160) }], name: [{ use: 'official', given: ['Mina'], family: 'Medley' }], birthDate: '1961-03-04' }]);
    patientId = p!.id!;
    const subject = { reference: `Patient/${patientId}` };
    const med = (text: string, extra: Partial<MedicationRequest> = {}): MedicationRequest => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, medicationCodeableConcept: { text }, ...extra });
    const [amox, ramipril, statin] = (await write([
      med('Amoxicillin 500mg capsules', { dosageInstruction: [{ text: 'One capsule three times a day' }], dispenseRequest: { quantity: { value: 15, unit: 'capsule' } }, authoredOn: '2026-12-01' }),
      med('Ramipril 5mg capsules', { courseOfTherapyType: continuous, dosageInstruction: [{ text: 'One capsule daily' }], dispenseRequest: { numberOfRepeatsAllowed: 6, validityPeriod: { start: '2026-06-01', end: '2027-06-01' } } }),
      med('Atorvastatin 20mg tablets', { courseOfTherapyType: continuous, dosageInstruction: [{ text: 'One tablet at night' }], dispenseRequest: { numberOfRepeatsAllowed: 3, validityPeriod: { start: '2025-11-01', end: '2026-11-01' } } }),
      med('Ibuprofen 400mg tablets', { status: 'stopped', statusReason: { text: 'indigestion' }, authoredOn: '2026-01-10' }),
    ])) as MedicationRequest[];
    ids.amox = amox!.id!;
    ids.ramipril = ramipril!.id!;
    ids.statin = statin!.id!;
    await write([
      med('Ramipril 5mg capsules', { status: 'completed', basedOn: [{ reference: `MedicationRequest/${ids.ramipril}` }], authoredOn: '2026-11-02', dosageInstruction: [{ text: 'One capsule daily' }] }),
      med('Ramipril 5mg capsules', { status: 'completed', basedOn: [{ reference: `MedicationRequest/${ids.ramipril}` }], authoredOn: '2026-12-02', dosageInstruction: [{ text: 'One capsule daily' }] }),
    ]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await node?.close();
  });

  async function openTab(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'ROOM-3');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.goto(`${node.url}/patient/${patientId}`);
    await page.click('#tab-medications');
    await page.waitForSelector('[data-testid=medications]', { timeout: 30_000 });
    return page;
  }

  test('acute items, repeat templates with issues left and review date, past items and the issue history are shown apart', async () => {
    const page = await openTab();
    const acute = (await page.textContent('[data-testid=acute-items]')) ?? '';
    assert.match(acute, /Amoxicillin 500mg capsules — One capsule three times a day \(15 capsule\)/);
    assert.doesNotMatch(acute, /Ramipril|Ibuprofen/, 'repeats and stopped items are not in the acute list');
    const rows = await page.$$eval('[data-testid=repeat-row]', (trs) => trs.map((tr) => tr.textContent ?? ''));
    const ramipril = rows.find((r) => r.includes('Ramipril'));
    const statin = rows.find((r) => r.includes('Atorvastatin'));
    assert.match(ramipril ?? '', /4 of 6/, 'two issues of six authorised: four left');
    assert.match(ramipril ?? '', /1-Jun-2027/);
    assert.doesNotMatch(ramipril ?? '', /Review due/);
    assert.match(statin ?? '', /3 of 3.*1-Nov-2026.*Review due/, 'a passed review date is called out');
    assert.match((await page.textContent('[data-testid=past-items]')) ?? '', /Ibuprofen 400mg tablets.*stopped: indigestion/);
    const history = await page.$$eval('[data-testid=issue-history] li', (lis) => lis.map((li) => li.textContent ?? ''));
    assert.equal(history.filter((h) => h.includes('Ramipril')).length, 2, 'each issue of the repeat is in the history');
    assert.match(history[0] ?? '', /2-Dec-2026.*Ramipril/, 'newest first');
    await assertAccessible(page, 'medications tab');
  });

  test('an item is stopped only with a reason; it then shows as stopped with the reason, stored on the record', async () => {
    const page = await openTab();
    const item = page.locator('[data-testid=acute-items] li', { hasText: 'Amoxicillin' });
    await item.locator('[data-testid=stop-open]').click();
    await item.locator('[data-testid=stop-confirm]').click();
    await page.waitForSelector('[data-testid=stop-problems]');
    assert.match((await page.textContent('[data-testid=stop-problems]')) ?? '', /Enter why Amoxicillin 500mg capsules is being stopped/);
    assert.equal(await page.getAttribute('[data-testid=stop-problems] a', 'href'), `#stop-reason-${ids.amox}`, 'the summary links to the field');
    await assertAccessible(page, 'stop form with an error');
    const stillActive = (await node.store.read('MedicationRequest', ids.amox!))!.resource as MedicationRequest;
    assert.equal(stillActive.status, 'active', 'nothing written without a reason');
    await page.fill(`#stop-reason-${ids.amox}`, 'rash on day 2');
    await item.locator('[data-testid=stop-confirm]').click();
    await page.waitForFunction(() => /Amoxicillin 500mg capsules.*stopped: rash on day 2/.test(document.querySelector('[data-testid=past-items]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(await page.$('[data-testid=acute-items]'), null, 'no current acute item is left');
    const stored = (await node.store.read('MedicationRequest', ids.amox!))!.resource as MedicationRequest;
    assert.equal(stored.status, 'stopped');
    assert.equal(stored.statusReason?.text, 'rash on day 2');
  });
});
