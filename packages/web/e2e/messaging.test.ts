/**
 * Patient messaging in Chromium against a real node whose outbox drains to the local GOV.UK Notify
 * server through the production client: a free-text message from the record reaches Notify and
 * comes back delivered; a message Notify refused shows on the outbox screen with its reason and goes
 * on retry; a service disruption broadcast is previewed (each patient once, the unreachable listed),
 * sent while Notify is cut off (the status bar says so), and stopped; a patient's reply is matched
 * and marked dealt with; a template is checked and previewed. axe on every screen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import type { Appointment, Patient, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { DO_NOT_CONTACT_EXTENSION, SMS_CONSENT_EXTENSION } from '@steadfast/domain/systems';
import { DEMO_TEST_KEY, NOTIFY_TEMPLATES, startFakeNotify, startTestNode, TEST_PASSWORD, testUsernames, type FakeNotify, type TestNode } from '@steadfast/server/testing';
import { assertAccessible, chromiumSkip, launchChromium, until } from './browser.ts';

const TOKEN = 'callback-token-for-browser-tests-0123456789';
const BROADCAST_DAY = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);

describe('patient messaging in Chromium', { skip: chromiumSkip }, () => {
  let fake: FakeNotify;
  let node: TestNode;
  let browser: Browser;
  let alexId: string;
  const broadcastPatients: Array<{ id: string; name: string; reachable: boolean }> = [];

  async function signIn(role: 'receptionist' | 'practice-admin' | 'clinician'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'RECEPTION-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    return page;
  }

  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 50 });
    node = await startTestNode({
      config: {
        outbox: { intervalMs: 200 },
        messaging: { practiceName: 'Riverside Surgery', pollIntervalMs: 500, notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id, email: NOTIFY_TEMPLATES[1]!.id }, callbackToken: TOKEN } },
      },
    });
    fake.setCallback(`${node.url}/api/messaging/notify/callback`, TOKEN);
    const write = async (resources: Resource[]) => (await node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' })).map((r) => r.resource!);
    const patient = (n: number, given: string, family: string, extra: Partial<Patient> = {}): Patient => ({
      resourceType: 'Patient',
      identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(5200 + n) }],
      name: [{ use: 'official', given: [given], family }],
      birthDate: '1970-01-01',
      ...extra,
    });
    const consenting = (mobile: string): Partial<Patient> => ({ telecom: [{ system: 'phone', use: 'mobile', value: mobile }], extension: [{ url: SMS_CONSENT_EXTENSION, valueBoolean: true }] });
    const [alex] = await write([patient(0, 'Alex', 'Messenger')]);
    alexId = alex!.id!;
    // Twelve patients booked on the broadcast day: nine can be texted (one booked twice), one has no
    // consent, one no mobile, one asked not to be contacted.
    const people: Array<[string, string, Partial<Patient>, boolean]> = [];
    for (let i = 1; i <= 9; i++) people.push([`Pat${i}`, 'Booked', consenting(`077009001${String(i).padStart(2, '0')}`), true]);
    people.push(['Nora', 'Noconsent', { telecom: [{ system: 'phone', use: 'mobile', value: '07700900150' }] }, false]);
    people.push(['Lana', 'Landline', { telecom: [{ system: 'phone', use: 'home', value: '01632 960001' }], extension: [{ url: SMS_CONSENT_EXTENSION, valueBoolean: true }] }, false]);
    people.push(['Dana', 'Donotcontact', { ...consenting('07700900151'), extension: [{ url: SMS_CONSENT_EXTENSION, valueBoolean: true }, { url: DO_NOT_CONTACT_EXTENSION, valueBoolean: true }] }, false]);
    const stored = await write(people.map(([g, f, extra], i) => patient(i + 1, g, f, extra)));
    stored.forEach((p, i) => broadcastPatients.push({ id: p.id!, name: `${people[i]![0]} ${people[i]![1]}`, reachable: people[i]![3] }));
    const appointment = (patientId: string, hour: number): Appointment => ({
      resourceType: 'Appointment',
      status: 'booked',
      start: `${BROADCAST_DAY}T${String(hour).padStart(2, '0')}:00:00Z`,
      end: `${BROADCAST_DAY}T${String(hour).padStart(2, '0')}:10:00Z`,
      participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'accepted' }],
    });
    await write([...stored.map((p, i) => appointment(p.id!, 8 + (i % 9))), appointment(stored[0]!.id!, 17)]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await node?.close();
    await fake?.stop();
  });

  test('a free-text message from the record reaches the local Notify server and shows delivered; a bad mobile is refused naming the field', async () => {
    const page = await signIn('receptionist');
    await page.goto(`${node.url}/patient/${alexId}`);
    await page.click('#tab-messages');
    await page.waitForSelector('[data-testid=contact-form]');
    assert.ok(await page.$('[data-testid=messages-unreachable]'), 'with no mobile the form says the patient cannot be texted');
    await page.fill('#contact-mobile', '01632 960001');
    await page.click('[data-testid=contact-save]');
    await page.waitForSelector('[data-testid=contact-problems]');
    assert.match((await page.textContent('#contact-mobile-error')) ?? '', /not a UK mobile number/);
    assert.equal(await page.getAttribute('[data-testid=contact-problems] a', 'href'), '#contact-mobile', 'the summary links to the field');
    await assertAccessible(page, 'contact details with an error');
    await page.fill('#contact-mobile', '+44 7700 900111');
    await page.check('#contact-sms-consent');
    await page.click('[data-testid=contact-save]');
    await page.waitForSelector('[data-testid=contact-notice]');
    assert.equal(await page.inputValue('#contact-mobile'), '07700900111', 'stored in the national format');

    await page.waitForSelector('[data-testid=message-form]');
    await page.fill('#message-text', 'See www.example.com');
    await page.click('[data-testid=message-send]');
    assert.match((await page.textContent('#message-text-error')) ?? '', /may not contain links/);
    assert.equal(fake.notifications.size, 0, 'nothing reached Notify');

    const text = 'Please call the surgery about your appointment.';
    await page.fill('#message-text', text);
    assert.match((await page.textContent('[data-testid=message-count]')) ?? '', /1 text message/);
    const button = (await page.textContent('[data-testid=message-send]')) ?? '';
    assert.match(button, /MESSENGER, Alex/, 'the Send button names the patient');
    assert.match(button, /07700900111/, 'and the number');
    await page.click('[data-testid=message-send]');
    await page.waitForSelector('[data-testid=message-notice]');
    await page.waitForSelector('[data-testid=message-status]:has-text("Delivered")', { timeout: 20_000 });
    const sent = [...fake.notifications.values()];
    assert.equal(sent.length, 1, 'one message at Notify');
    assert.equal(sent[0]!.to, '07700900111');
    assert.match(sent[0]!.body, new RegExp(text));
    assert.match(sent[0]!.body, /Riverside Surgery/);
    await assertAccessible(page, 'the Messages tab');
    await page.context().close();
  });

  test('the outbox screen shows a message Notify refused with its reason, and Retry sends it', async () => {
    fake.failNext(1, 400, 'BadRequestError', 'Simulated refusal for the outbox screen');
    const res = await node.fetchAs('receptionist', `/api/messaging/patients/${alexId}/messages`, { method: 'POST', json: { template: 'free-text', channel: 'sms', text: 'Your prescription is ready to collect.' } });
    assert.equal(res.status, 201, await res.text());
    const page = await signIn('receptionist');
    await page.click('a.nhsuk-header__navigation-link:has-text("Messaging")');
    await page.click('nav[aria-label=Messaging] a:has-text("Outbox")');
    await page.waitForSelector('[data-testid=outbox-failed-row]', { timeout: 20_000 });
    assert.match((await page.textContent('[data-testid=outbox-failed-reason]')) ?? '', /400 BadRequestError: Simulated refusal/);
    assert.equal(await page.textContent('[data-testid=outbox-channel-notify-sms] [data-state=failed]'), '1');
    await page.waitForSelector('[data-testid=delivery-failure-row]');
    await assertAccessible(page, 'the outbox with a failure');
    await page.click('[data-testid=outbox-failed-row] button:has-text("Retry")');
    await page.waitForSelector('[data-testid=outbox-notice]:has-text("queued again")');
    await page.waitForSelector('[data-testid=outbox-no-failures]', { timeout: 20_000 });
    await until('the retried message at Notify', () => [...fake.notifications.values()].find((n) => /prescription is ready/.test(n.body)));
    // The record follows: on its way again, then delivered, not left "could not be sent".
    await page.goto(`${node.url}/patient/${alexId}`);
    await page.click('#tab-messages');
    await page.waitForSelector('[data-testid=message-row]:has-text("prescription is ready") [data-testid=message-status]:has-text("Delivered")', { timeout: 20_000 });
    await page.context().close();
  });

  test('a service disruption broadcast is previewed, sent while Notify is down (the status bar says so), and stopped', async () => {
    const page = await signIn('practice-admin');
    await page.click('a.nhsuk-header__navigation-link:has-text("Messaging")');
    await page.click('nav[aria-label=Messaging] a:has-text("broadcast")');
    await page.waitForSelector('[data-testid=broadcast-form]');
    await page.fill('#broadcast-from', BROADCAST_DAY);
    await page.fill('#broadcast-to', BROADCAST_DAY);
    await page.click('[data-testid=broadcast-preview-button]');
    await page.waitForSelector('[data-testid=broadcast-problems]');
    assert.match((await page.textContent('#broadcast-reason-error')) ?? '', /Enter the reason/);
    await page.fill('#broadcast-reason', 'the surgery is closed because of a power cut');
    await page.waitForSelector('[data-testid=broadcast-example]:has-text("power cut")');
    await page.click('[data-testid=broadcast-preview-button]');
    await page.waitForSelector('[data-testid=broadcast-preview]');
    assert.equal(await page.textContent('[data-testid=broadcast-patients]'), '12', 'each patient once (one is booked twice)');
    assert.equal(await page.textContent('[data-testid=broadcast-reachable]'), '9');
    const unreachable = (await page.textContent('[data-testid=broadcast-unreachable-list]')) ?? '';
    for (const p of broadcastPatients.filter((x) => !x.reachable)) assert.match(unreachable, new RegExp(p.name), `${p.name} is listed as not texted`);
    assert.match(unreachable, /asked not to be contacted/);
    await assertAccessible(page, 'the broadcast preview');

    fake.cutOff();
    await page.click('[data-testid=broadcast-confirm]');
    await page.waitForSelector('[data-testid=broadcast-state]:has-text("All queued")', { timeout: 20_000 });
    assert.match((await page.textContent('[data-testid=broadcast-progress]')) ?? '', /9 texts queued, 3 could not be texted/);
    // A second press (or a second manager) with the same dates and reason is the same broadcast.
    const again = await node.fetchAs('practice-admin', '/api/messaging/broadcasts', { method: 'POST', json: { from: BROADCAST_DAY, to: BROADCAST_DAY, reason: 'the surgery is closed because of a power cut' } });
    assert.equal(again.status, 200);

    // Notify is unreachable: the outbox screen and the status bar say messages are waiting.
    const outbox = await page.context().newPage();
    await outbox.goto(`${node.url}/outbox`);
    await outbox.waitForSelector('[data-testid=outbox-service-down]', { timeout: 20_000 });
    const bar = await outbox.waitForSelector('[data-testid="status-outbox:notify-sms"]');
    assert.match((await bar.textContent()) ?? '', /GOV\.UK Notify: not connected.*waiting/);
    await assertAccessible(outbox, 'the outbox while Notify is down');
    await outbox.close();

    await page.click('[data-testid=broadcast-stop]');
    await page.waitForSelector('[data-testid=broadcast-stopped]');
    assert.match((await page.textContent('[data-testid=broadcast-stopped]')) ?? '', /[1-9]\d* texts? not yet sent (was|were) cancelled/);
    fake.restore();
    await new Promise((r) => setTimeout(r, 1500));
    const broadcastTexts = [...fake.notifications.values()].filter((n) => /power cut/.test(n.body));
    assert.ok(broadcastTexts.length < 9, `a stopped broadcast does not go on: ${broadcastTexts.length} of 9 reached Notify`);
    await page.context().close();
  });

  test("a patient's reply is matched to their record and marked as dealt with", async () => {
    fake.receiveText('07700900111', 'Thanks, I will call this afternoon');
    fake.receiveText('07700900999', 'Who is this?');
    const page = await signIn('receptionist');
    await page.click('a.nhsuk-header__navigation-link:has-text("Messaging")');
    await until('both replies on the screen', async () => {
      await page.reload();
      await page.waitForSelector('[data-testid=replies-unread]');
      return (await page.$$('[data-testid=reply-row]')).length === 2 || undefined;
    });
    await page.waitForSelector('a.nhsuk-header__navigation-link:has-text("Messaging (2 replies)")');
    const matched = page.locator('[data-testid=reply-row]', { hasText: 'call this afternoon' });
    assert.equal(await matched.locator('[data-testid=reply-patient]').textContent(), 'Alex Messenger');
    assert.ok(await page.locator('[data-testid=reply-row]', { hasText: 'Who is this' }).locator('[data-testid=reply-unmatched]').count(), 'an unknown number is not guessed');
    await assertAccessible(page, 'patient replies');
    await matched.locator('button').click();
    await page.waitForSelector('[data-testid=replies-unread]:has-text("1 reply is waiting")');
    await page.context().close();
  });

  test('a template with an unknown placeholder is caught as it is typed, and the preview fills in example details', async () => {
    const page = await signIn('practice-admin');
    await page.click('a.nhsuk-header__navigation-link:has-text("Messaging")');
    await page.click('nav[aria-label=Messaging] a:has-text("Message templates")');
    await page.click('[data-testid=template-appointment-reminder] button');
    await page.fill('#template-body', 'Hello ((firstname)), see you ((when)).');
    await page.waitForSelector('[data-testid=template-check]:has-text("((firstname))")');
    await page.click('button:has-text("Save template")');
    await page.waitForSelector('[data-testid=template-problems]');
    await assertAccessible(page, 'template with an error');
    await page.fill('#template-body', 'Hello ((first_name)), see you ((when)) at ((practice_name)). Reply STOP to opt out… ✓');
    await page.waitForSelector('[data-testid=template-preview]:has-text("Hello Alex")');
    assert.match((await page.textContent('[data-testid=template-count]')) ?? '', /unicode/);
    await page.click('button:has-text("Save template")');
    await page.waitForSelector('[data-testid=template-notice]');
    const saved = (await (await node.fetchAs('practice-admin', '/api/messaging/templates')).json()) as Array<{ key: string; body: string }>;
    assert.match(saved.find((t) => t.key === 'appointment-reminder')!.body, /^Hello \(\(first_name\)\)/);
    await page.context().close();
  });
});
