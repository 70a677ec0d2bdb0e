/**
 * A clinician files a result in Chromium and sends the patient the "normal, no action" results
 * message: the result screen offers the matching message with the practice's wording, the filing
 * says the text is queued, and the node's own outbox drainer delivers it to the local GOV.UK Notify
 * server (the production client). axe: no serious or critical violations on the filing form.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser } from 'playwright-core';
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { buildOru, DEMO_TEST_KEY, ingestHl7, NOTIFY_TEMPLATES, startFakeNotify, startTestNode, TEST_PASSWORD, testUsernames, type FakeNotify, type TestNode } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

describe('results message from the result screen in Chromium', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let fake: FakeNotify;
  let browser: Browser;
  let taskId: string;

  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 20 });
    node = await startTestNode({ config: { outbox: { intervalMs: 100 }, messaging: { practiceName: 'Browser Surgery', notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id } } } } });
    const p = await node.create<Patient>('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(4242) }], name: [{ family: 'Browser', given: ['Robin'] }], birthDate: '1966-02-03', gender: 'male' });
    const contact = await node.fetchAs('receptionist', `/api/messaging/patients/${p.id}/contact`, { method: 'PUT', json: { mobile: '07700 900777', smsConsent: true } });
    assert.equal(contact.status, 200);
    await ingestHl7({ store: node.store }, buildOru({ messageId: 'E2E-1', nhsNumber: testNhsNumber(4242), family: 'Browser', given: 'Robin', birthDate: '19660203', filler: 'ACC-E2E', test: ['HBA1C', 'HbA1c'], observedAt: '202611201000', obx: [{ code: 'HBA1C', display: 'HbA1c', value: '38', units: 'mmol/mol', range: '20-41', flag: '' }] }), 'mllp');
    const inbox = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=all')).json()) as { items: Array<{ taskId: string }> };
    taskId = inbox.items[0]!.taskId;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await node?.close();
    await fake?.stop();
  });

  test('files the result as normal and the patient is texted through the local Notify server', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'ROOM-2');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.goto(`${node.url}/results/${taskId}`);
    await page.waitForSelector('[data-testid=result-file]');
    await page.check('#file-normal');
    await page.waitForSelector('[data-testid=result-message-choice]');
    assert.equal(await page.isChecked('#message-result-normal'), true, 'the matching message is offered ready to send');
    await page.waitForSelector('[data-testid=result-message-preview]');
    assert.match((await page.textContent('[data-testid=result-message-preview]')) ?? '', /no further action is needed/);
    await page.evaluate(axeSource);
    const bad = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; impact: string }> }> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    assert.deepEqual(bad, []);
    await page.click('button:has-text("File result")');
    await page.waitForSelector('[data-testid=result-message-outcome]');
    assert.match((await page.textContent('[data-testid=result-message-outcome]')) ?? '', /A text message to the patient is queued/);
    let texts: Array<{ to: string; body: string }> = [];
    for (let i = 0; i < 300 && texts.length === 0; i++) {
      texts = [...fake.notifications.values()];
      if (!texts.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(texts.length, 1, 'one text reached Notify');
    assert.equal(texts[0]!.to, '07700900777');
    assert.match(texts[0]!.body, /^Dear Robin, your recent test results have been reviewed by your doctor and no further action is needed\. Browser Surgery$/);
    await context.close();
  });
});
