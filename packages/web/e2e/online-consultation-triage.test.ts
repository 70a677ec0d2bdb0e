/**
 * Staff triage of online consultations in Chromium against a real node with the local GOV.UK Notify
 * server (the production client and the one outbox drainer deliver): a receptionist (care navigator)
 * routes a clinical request to a clinician but cannot triage it; the clinician sees red flags first,
 * opens with Enter, confirms the suggested patient, marks it urgent, replies with a template (the text
 * reaches Notify, to the mobile given on the request), books an appointment from the request and
 * closes it. axe on the inbox and the request: no serious or critical violations.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import type { Resource } from '@medplum/fhirtypes';
import {
  DEMO_TEST_KEY, NOTIFY_TEMPLATES, startFakeNotify, startTestNode, TEST_PASSWORD, testUsernames, type FakeNotify, type TestNode,
} from '@steadfast/server/testing';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain/nhs-number';
import { CURRENT_QUESTIONNAIRE } from '@steadfast/domain/online-consultations';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const ALWAYS_OPEN = { hours: ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' })) };
const NHS = '9990000018';

function londonDate(offsetDays: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + offsetDays * 86_400_000));
}

describe('online consultation triage in Chromium', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let notify: FakeNotify;
  let browser: Browser;
  const tomorrow = londonDate(1);

  async function submit(symptoms: string, redFlagYes?: string) {
    const redFlags = Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.filter((q) => q.kinds.includes('medical')).map((q) => [q.linkId, q.linkId === redFlagYes]));
    const r = await fetch(`${node.url}/api/public/online-consultations/${node.store.practice}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ submissionId: crypto.randomUUID(), questionnaireVersion: CURRENT_QUESTIONNAIRE.version, kind: 'medical', redFlags, answers: { symptoms, duration: 'days', want: 'Advice please' }, identity: { givenName: 'Jane', familyName: 'Smith', birthDate: '1980-02-01', postcode: 'LS1 4AP', mobile: '07700900123', nhsNumber: NHS }, contactPreference: 'sms' }),
    });
    assert.ok(r.status === 201 || r.status === 200, await r.text());
  }

  async function signIn(role: 'receptionist' | 'clinician'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', role === 'clinician' ? 'ROOM-1' : 'DESK-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    return page;
  }

  async function axeProblems(page: Page): Promise<string[]> {
    await page.evaluate(axeSource);
    return page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; impact: string }> }> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
  }

  async function noError(page: Page, waitFor: string) {
    await page.waitForSelector(`${waitFor}, [data-testid=oc-error]`);
    assert.equal(await page.$('[data-testid=oc-error]'), null, (await page.textContent('[data-testid=oc-error]').catch(() => '')) ?? '');
  }

  before(async () => {
    notify = await startFakeNotify({ deliveryDelayMs: 10 });
    node = await startTestNode({
      config: {
        onlineConsultations: ALWAYS_OPEN,
        outbox: { intervalMs: 50 },
        messaging: { practiceName: 'Test Surgery', notify: { baseUrl: notify.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id, email: NOTIFY_TEMPLATES[1]!.id } } },
      },
    });
    const write = (resources: Resource[]) => node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' });
    await write([{ resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: NHS }], name: [{ use: 'official', family: 'Smith', given: ['Jane'] }], birthDate: '1980-02-01', address: [{ use: 'home', line: ['1 Park Row'], city: 'Leeds', postalCode: 'LS1 4AP' }] }]);
    const gp = (await write([{ resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Ann'], family: 'Jones' }] }]))[0]!.resource!;
    const schedule = (await write([{ resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp.id}`, display: 'Dr Ann Jones' }] }]))[0]!.resource!;
    const res = await node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule: schedule.id, date: tomorrow, start: '09:00', end: '10:00', minutes: 15 } });
    assert.equal(res.status, 201, await res.text());
    browser = await launchChromium();
    await submit('Routine cough for a week');
    await submit('Feeling very unwell and confused', 'rf-sepsis');
  });
  after(async () => {
    await browser?.close();
    await node?.close();
    await notify?.stop();
  });

  test('a receptionist (care navigator) assigns a clinical request to a clinician but is not offered triage, reply or close', async () => {
    const page = await signIn('receptionist');
    await page.click('a.nhsuk-header__navigation-link:has-text("Online consultations")');
    await page.waitForSelector('[data-testid=oc-row]');
    await page.click('[data-testid=oc-row] a:has-text("OC-")');
    await page.waitForSelector('[data-testid=oc-detail]');
    assert.match((await page.textContent('main')) ?? '', /This is a clinical request with red flags: assign it to a clinician/);
    for (const control of ['button:has-text("Save triage")', 'button:has-text("Send reply")', 'button:has-text("Close request")', 'button:has-text("Turn into a consultation")']) {
      assert.equal(await page.$(control), null, `${control} is not offered`);
    }
    const clinicianOption = await page.$eval('#oc-assignee', (s) => [...(s as HTMLSelectElement).options].find((o) => o.textContent?.includes('(clinician)'))?.value ?? '');
    await page.selectOption('#oc-assignee', clinicianOption);
    await page.click('button:has-text("Assign")');
    await noError(page, '[data-testid=oc-notice]:has-text("Assigned to")');
    assert.match((await page.textContent('[data-testid=oc-status]')) ?? '', /assigned to/);
    assert.deepEqual(await axeProblems(page), []);
    await page.context().close();
  });

  test('a clinician sees red flags first, opens with Enter, matches, marks urgent, replies through Notify, books from the request and closes', async () => {
    const page = await signIn('clinician');
    await page.click('a.nhsuk-header__navigation-link:has-text("Online consultations")');
    await page.waitForSelector('[data-testid=oc-row]');
    const rows = await page.$$eval('[data-testid=oc-row]', (els) => els.map((e) => e.textContent ?? ''));
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /Red flag/, 'the red-flagged request is first');
    assert.deepEqual(await axeProblems(page), []);
    await page.click('h1'); // keys act when focus is not on a link or field
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=oc-detail]');
    assert.match((await page.textContent('main')) ?? '', /Feeling very unwell and confused/);
    const reference = /OC-[A-Z0-9-]+/.exec((await page.textContent('h1')) ?? '')![0];

    // Matching: suggested, never silent; a person confirms.
    assert.match((await page.textContent('[data-testid=oc-matched]')) ?? '', /Not matched yet/);
    await page.click('button:has-text("Find the patient")');
    await page.waitForSelector('[data-testid=oc-candidate]');
    assert.match((await page.textContent('[data-testid=oc-candidate]')) ?? '', /Suggested.*NHS number/s);
    await page.click('[data-testid=oc-candidate] button:has-text("Confirm")');
    await noError(page, '[data-testid=oc-matched]:has-text("SMITH")');

    await page.selectOption('#oc-urgency', 'urgent');
    await page.selectOption('#oc-category', 'clinical');
    await page.click('button:has-text("Save triage")');
    await noError(page, '[data-testid=oc-status]:has-text("urgent")');

    await page.selectOption('#oc-template', 'oc-please-book');
    await page.click('button:has-text("Send reply")');
    await noError(page, '[data-testid=oc-notice]:has-text("Reply queued")');
    // Delivered by the outbox drainer through notifications-node-client to the local Notify server.
    const deadline = Date.now() + 15_000;
    let sent;
    while (!(sent = [...notify.notifications.values()].find((n) => n.body.includes(reference))) && Date.now() < deadline) await page.waitForTimeout(100);
    assert.ok(sent, 'the reply reached GOV.UK Notify');
    assert.equal(sent.to.replace(/^\+44/, '0'), '07700900123', 'to the mobile given on the request');
    assert.match(sent.body, /^Dear Jane, about your online request OC-.*please call the surgery to book an appointment\. Test Surgery/);

    await page.click('button:has-text("Find a free appointment")');
    await page.waitForSelector('#oc-schedule');
    await page.fill('#oc-day', tomorrow);
    await page.click('button:has-text("Show free times")');
    await page.waitForSelector('#oc-slot, [data-testid=oc-no-slots]');
    await page.click('button:has-text("Book this appointment")');
    await noError(page, '[data-testid=oc-appointment]');
    assert.deepEqual(await axeProblems(page), []);

    await page.selectOption('#oc-outcome', 'appointment-booked');
    await page.click('button:has-text("Close request")');
    await page.waitForSelector('[data-testid=oc-status]:has-text("closed")');
    const history = (await page.textContent('[data-testid=oc-history]')) ?? '';
    for (const action of ['received', 'matched', 'triaged', 'responded', 'booked', 'closed']) assert.match(history, new RegExp(action));
    await page.context().close();
  });
});
