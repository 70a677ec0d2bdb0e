/**
 * End-to-end: a receptionist runs the day from the appointment book in Chromium: every clinician side
 * by side, who is fully booked, booking with a reason by keyboard, and cancelling only after a
 * confirmation with a reason (which lands on the FHIR Appointment). Axe on each screen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Appointment, Resource, Slot } from '@medplum/fhirtypes';
import { formatNhsNumber, NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const skip = chromiumSkip;
const mary = { nhs: testNhsNumber(6301), family: 'Brown', given: 'Mary' };

function today(): string {
  const t = new Date();
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
}

describe('appointment book in Chromium (receptionist)', { skip }, () => {
  let node: TestNode;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  async function signIn(role: 'receptionist' | 'practice-admin'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser ${role}] ${err.message}`));
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'RECEPTION-2');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    return page;
  }

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

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    node = await startTestNode();
    const write = (resources: Resource[]) => node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' });
    const [gp1, gp2, nurse] = await write([
      { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Asha'], family: 'Patel' }] },
      { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Tom'], family: 'Reid' }] },
      { resourceType: 'Practitioner', name: [{ given: ['Nina'], family: 'Okafor' }] },
    ]);
    const schedules = await write([gp1, gp2, nurse].map((p) => ({ resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${p!.resource!.id}` }] }) as Resource));
    const people = await write([
      { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: mary.nhs }], name: [{ family: mary.family, given: [mary.given] }], birthDate: '1962-04-03', gender: 'female' },
      { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(6302) }], name: [{ family: 'Green', given: ['Ola'] }], birthDate: '1990-01-01', gender: 'male' },
      { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(6303) }], name: [{ family: 'Hall', given: ['Ben'] }], birthDate: '1991-01-01', gender: 'male' },
    ]);
    const session = async (schedule: string, start: string, end: string, slotType: string) => {
      const r = await node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule, date: today(), start, end, minutes: 15, slotType } });
      assert.equal(r.status, 201, await r.clone().text());
      return ((await r.json()) as { slots: Slot[] }).slots;
    };
    const patelSlots = await session(schedules[0]!.resource!.id!, '09:00', '09:30', 'routine');
    await session(schedules[1]!.resource!.id!, '09:00', '10:00', 'telephone');
    // Dr Patel's two slots are both taken: she is fully booked today.
    for (const [i, slot] of patelSlots.entries()) {
      const r = await node.fetchAs('receptionist', '/api/appointments/book', { method: 'POST', json: { slot: slot.id, patient: people[i + 1]!.resource!.id } });
      assert.equal(r.status, 201);
    }
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await node?.close();
  });

  test('the board shows every clinician side by side and who is fully booked; NHS numbers are 3-3-4', async () => {
    const page = await signIn('receptionist');
    await page.click('a.nhsuk-header__navigation-link:has-text("Appointments")');
    await page.waitForSelector('[data-testid=board]');
    const names = await page.locator('[data-testid=board-column] h3').allTextContents();
    assert.deepEqual(names, ['Dr Asha Patel', 'Dr Tom Reid']);
    const summary = (await page.textContent('[data-testid=board-summary]')) ?? '';
    assert.match(summary, /4 free of 6 slots across 2 clinicians\. Fully booked: Dr Asha Patel\./);
    assert.match((await page.locator('[data-testid=board-column]').first().textContent()) ?? '', /Fully booked/);
    assert.match((await page.textContent('main')) ?? '', /No sessions today: Nina Okafor/);
    const booked = (await page.locator('[data-testid=board-column]').first().locator('[data-testid=slot]').allTextContents()).join('\n');
    assert.ok(booked.includes(`GREEN, Ola (${formatNhsNumber(testNhsNumber(6302))})`), booked);
    assert.match((await page.locator('[data-testid=board-column]').nth(1).textContent()) ?? '', /Telephone/);
    await page.screenshot({ path: join(screens, 'appointment-board.png'), fullPage: true });
    await axe(page, 'appointment board');
  });

  test('book by keyboard with a reason, then cancel: a confirmation asks why, and the reason is on the FHIR Appointment', async () => {
    const page = await signIn('receptionist');
    await page.goto(`${node.url}/appointments`);
    await page.waitForSelector('[data-testid=board]');
    const reid = page.locator('[data-testid=board-column]').nth(1);
    const slot = reid.locator('[data-testid=slot]').first();
    const slotId = (await slot.getAttribute('data-slot-id'))!;
    await slot.locator('button', { hasText: 'Book' }).focus();
    await page.keyboard.press('Enter');
    await page.fill('#booking-reason', 'Medication review');
    await page.focus('#booking-patient');
    await page.keyboard.type(mary.nhs);
    await page.waitForSelector('#booking-patient-list li');
    assert.match((await page.textContent('#booking-patient-list')) ?? '', new RegExp(formatNhsNumber(mary.nhs)));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=diary-message]:has-text("Booked")');
    const row = page.locator(`[data-slot-id="${slotId}"]`);
    assert.match((await row.textContent()) ?? '', new RegExp(`BROWN, Mary \\(${formatNhsNumber(mary.nhs)}\\).*Medication review`));

    // Cancelling: open the row's actions, Cancel asks first; "Keep appointment" keeps it.
    await row.locator('button', { hasText: 'Actions' }).click();
    await row.locator('button', { hasText: 'Cancel' }).click();
    await page.waitForSelector('[data-testid=cancel-confirm]');
    assert.match((await page.textContent('[data-testid=cancel-confirm] h2')) ?? '', /Cancel the appointment for BROWN, Mary .* at 09:00/);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H2', 'focus moves to the question');
    await axe(page, 'cancel confirmation');
    await page.click('button:has-text("Keep appointment")');
    assert.equal(await page.locator('[data-testid=cancel-confirm]').count(), 0);
    assert.equal(((await node.store.read('Slot', slotId))!.resource as Slot).status, 'busy', 'kept');

    await row.locator('button', { hasText: 'Actions' }).click();
    await row.locator('button', { hasText: 'Cancel' }).click();
    await page.click('[data-testid=cancel-confirm] button:has-text("Cancel appointment")');
    await page.waitForSelector('[data-testid=cancel-confirm] .nhsuk-error-summary:has-text("Choose why the appointment is cancelled")');
    await page.check('#cancel-reason-pat');
    await page.fill('#cancel-words', 'Feeling better');
    await page.click('[data-testid=cancel-confirm] button:has-text("Cancel appointment")');
    await page.waitForSelector('[data-testid=diary-message]:has-text("Cancelled")');
    assert.match((await page.locator(`[data-slot-id="${slotId}"]`).textContent()) ?? '', /free/);
    const appts = await node.store.search({ resourceType: 'Appointment', params: [{ name: 'slot', values: [`Slot/${slotId}`] }], count: 10, offset: 0 });
    const cancelled = appts.resources[0] as Appointment;
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.cancelationReason?.coding?.[0]?.code, 'pat');
    assert.equal(cancelled.cancelationReason?.text, 'Feeling better');
    assert.match((await page.textContent('[data-testid=board-summary]')) ?? '', /4 free of 6 slots/);
  });
});
