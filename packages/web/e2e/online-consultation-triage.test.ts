/**
 * Staff triage of online consultations in Chromium against a real node: a request sent through the
 * public API appears in the inbox (red flags first), opens with Enter, is marked urgent, replied to
 * (queued in the outbox) and closed with an outcome. axe: no serious or critical violations.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser } from 'playwright-core';
import { startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { CURRENT_QUESTIONNAIRE } from '@steadfast/domain/online-consultations';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const ALWAYS_OPEN = { hours: ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' })) };

describe('online consultation triage in Chromium', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let browser: Browser;

  async function submit(symptoms: string, redFlagYes?: string) {
    const redFlags = Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.filter((q) => q.kinds.includes('medical')).map((q) => [q.linkId, q.linkId === redFlagYes]));
    const r = await fetch(`${node.url}/api/public/online-consultations/${node.store.practice}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ submissionId: crypto.randomUUID(), questionnaireVersion: CURRENT_QUESTIONNAIRE.version, kind: 'medical', redFlags, answers: { symptoms, duration: 'days', want: 'Advice please' }, identity: { givenName: 'Jane', familyName: 'Smith', birthDate: '1980-02-01', postcode: 'LS1 4AP', mobile: '07700900123' }, contactPreference: 'sms' }),
    });
    assert.ok(r.status === 201 || r.status === 200, await r.text());
  }

  before(async () => {
    node = await startTestNode({ config: { onlineConsultations: ALWAYS_OPEN } });
    browser = await launchChromium();
    await submit('Routine cough for a week');
    await submit('Feeling very unwell and confused', 'rf-sepsis');
  });
  after(async () => {
    await browser?.close();
    await node?.close();
  });

  test('a clinician sees red flags first, opens with Enter, marks urgent, replies and closes', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'ROOM-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.click('a.nhsuk-header__navigation-link:has-text("Online consultations")');
    await page.waitForSelector('[data-testid=oc-row]');
    const rows = await page.$$eval('[data-testid=oc-row]', (els) => els.map((e) => e.textContent ?? ''));
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /Red flag/, 'the red-flagged request is first');
    await page.evaluate(axeSource);
    const bad = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; impact: string }> }> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    assert.deepEqual(bad, []);
    await page.click('h1'); // keys act when focus is not on a link or field
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=oc-detail]');
    assert.match((await page.textContent('main')) ?? '', /Feeling very unwell and confused/);
    await page.click('button:has-text("urgent")');
    await page.waitForSelector('[data-testid=oc-status]:has-text("urgent"), [data-testid=oc-error]');
    assert.equal(await page.$('[data-testid=oc-error]'), null, (await page.textContent('[data-testid=oc-error]').catch(() => '')) ?? '');
    await page.fill('#oc-reply', 'Please call the practice this morning.');
    await page.click('button:has-text("Send reply")');
    await page.waitForSelector('[data-testid=oc-notice]:has-text("Reply queued")');
    await page.selectOption('#oc-outcome', 'advice-given');
    await page.click('button:has-text("Close request")');
    await page.waitForSelector('[data-testid=oc-status]:has-text("closed")');
    await context.close();
  });
});
