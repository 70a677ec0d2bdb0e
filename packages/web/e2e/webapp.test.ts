/**
 * End-to-end: the built staff app in Debian's Chromium against a real node on loopback (SQLite in a
 * temp dir), with seeded patients. Screenshots go to test-artifacts/screens/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Encounter, Resource } from '@medplum/fhirtypes';
import { encodeHlc, NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { buildOru, ingestHl7, startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { CONSULTATION_NOTE_EXTENSION } from '@steadfast/domain/systems';
import { axeSource, chromiumSkip, launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const screens = join(root, 'test-artifacts', 'screens');
const skip = chromiumSkip;

const SECRET_NOTE = 'Confidential: discussed low mood and alcohol intake';
const jane = { nhs: testNhsNumber(4101), family: 'Smith', given: 'Jane', birthDate: '1980-02-01', postcode: 'LS1 4AP' };

async function seed(node: TestNode) {
  const write = (resources: Resource[]) => node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' });
  const patient = (nhs: string, family: string, given: string, birthDate: string, postcode: string, gender: 'female' | 'male') => ({
    resourceType: 'Patient' as const,
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }],
    name: [{ use: 'official' as const, family, given: [given] }],
    birthDate,
    gender,
    address: [{ use: 'home' as const, line: ['1 Park Row'], city: 'Leeds', postalCode: postcode }],
  });
  const gp = (await write([{ resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Ann'], family: 'Jones' }] }]))[0]!.resource!;
  const people = await write([
    { ...patient(jane.nhs, jane.family, jane.given, jane.birthDate, jane.postcode, 'female'), generalPractitioner: [{ reference: `Practitioner/${gp.id}`, display: 'Dr Ann Jones' }] },
    patient(testNhsNumber(4102), 'Smith', 'John', '1975-06-10', 'LS2 7EW', 'male'),
    patient(testNhsNumber(4103), 'Patel', 'Ann', '1990-03-15', 'M1 1AE', 'female'),
    patient(testNhsNumber(4104), 'Smithson', 'Paul', '1980-02-01', 'LS6 2AB', 'male'),
  ]);
  const janeId = people[0]!.resource!.id!;
  const johnId = people[1]!.resource!.id!;
  const subject = { reference: `Patient/${janeId}` };
  await write([
    { resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${johnId}` }, code: { coding: [{ system: 'http://snomed.info/sct', code: '409137002', display: 'No known drug allergy' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, recordedDate: '2020-03-01' },
    { resourceType: 'AllergyIntolerance', patient: subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, reaction: [{ manifestation: [{ text: 'Anaphylaxis' }] }] },
    { resourceType: 'Flag', status: 'active', subject, code: { text: 'Needs an interpreter (Polish)' } },
    { resourceType: 'Condition', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, onsetDateTime: '2019-05-01' },
    { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, medicationCodeableConcept: { text: 'Metformin 500mg tablets' }, dosageInstruction: [{ text: 'One twice a day' }] },
    {
      resourceType: 'Observation',
      status: 'final',
      subject,
      category: [{ coding: [{ code: 'laboratory' }] }],
      code: { text: 'HbA1c' },
      valueQuantity: { value: 71, unit: 'mmol/mol' },
      referenceRange: [{ high: { value: 48 } }],
      effectiveDateTime: '2026-10-01',
    },
    {
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      subject,
      period: { start: '2026-10-02T10:00:00Z' },
      type: [{ text: 'Consultation' }],
      extension: [{ url: CONSULTATION_NOTE_EXTENSION, extension: [{ url: 'history', valueString: SECRET_NOTE }] }],
    },
  ] as Resource[]);
  const schedule = (await write([{ resourceType: 'Schedule', active: true, actor: [{ reference: `Practitioner/${gp.id}`, display: 'Dr Ann Jones' }] }]))[0]!.resource!;
  const today = new Date();
  const date = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
  const res = await node.fetchAs('practice-admin', '/api/appointments/sessions', { method: 'POST', json: { schedule: schedule.id, date, start: '09:00', end: '10:00', minutes: 15 } });
  assert.equal(res.status, 201);
  const rooms = await node.fetchAs('practice-admin', '/api/alarm/rooms/RECEPTION-1', { method: 'PUT', json: { room: 'Reception desk' } });
  assert.equal(rooms.status, 200);
  return { janeId, johnId, scheduleId: schedule.id! };
}

describe('staff web app in Chromium', { skip }, () => {
  let node: TestNode;
  let browser: Browser;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const contexts: BrowserContext[] = [];
  /** Every request a page made to anywhere but the practice node: must stay empty (works offline). */
  const external: string[] = [];

  async function signIn(role: 'receptionist' | 'clinician' | 'practice-admin', workstation: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser ${role}] ${err.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(node.url) && !r.url().startsWith('data:')) external.push(r.url());
    });
    await page.goto(node.url);
    await page.fill('#username', testUsernames[role]);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', workstation);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    await page.waitForSelector('[data-testid=status-alarm]:has-text("listening")');
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });

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

  async function search(page: Page, text: string) {
    await page.fill('#patient-search', '');
    await page.fill('#patient-search', text);
    await page.waitForFunction(() => /found/.test(document.querySelector('[data-testid=result-count]')?.textContent ?? ''));
    return page.locator('[data-testid=search-result]').allTextContents();
  }

  before(async () => {
    mkdirSync(screens, { recursive: true });
    const build = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs')], { stdio: 'inherit', cwd: root });
    assert.equal(build.status, 0, 'the web app builds');
    node = await startTestNode();
    seeded = await seed(node);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await node?.close();
  });

  test('sign in shows the user and role; the status bar says the hub is not configured', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    assert.match(await page.textContent('[data-testid=signed-in-user]') ?? '', /Test clinician\s*Clinician/);
    assert.match(await page.textContent('[data-testid=status-hub]') ?? '', /Regional hub: not configured/);
    assert.doesNotMatch(await page.textContent('[data-testid=status-bar]') ?? '', /hub: connected/i);
    await shot(page, '01-search-empty');
    await axe(page, 'search page');
  });

  test('wrong password is refused with a clear message', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signin-error]');
    await shot(page, '00-sign-in-error');
    await axe(page, 'sign-in page');
  });

  test('find a patient by NHS number, by name and by date of birth, then open the record with the keyboard', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    const spaced = `${jane.nhs.slice(0, 3)} ${jane.nhs.slice(3, 6)} ${jane.nhs.slice(6)}`;
    const byNhs = await search(page, spaced);
    assert.equal(byNhs.length, 1);
    assert.match(byNhs[0]!, /SMITH, Jane/);

    const byName = await search(page, 'Smith, Jane');
    assert.equal(byName.length, 1);
    assert.match(byName[0]!, /SMITH, Jane/);

    const byDob = await search(page, '1 Feb 1980');
    assert.equal(byDob.length, 2, 'Jane Smith and Paul Smithson share the birth date');

    const byPostcode = await search(page, 'ls1 4ap');
    assert.equal(byPostcode.length, 1);

    const combined = await search(page, 'smith 01/02/1980');
    assert.equal(combined.length, 2, 'surname prefix "smith" matches Smith and Smithson');
    await shot(page, '02-search-results');
    await axe(page, 'search results');

    // Keyboard only: the second result is highlighted with ArrowDown, Enter opens it.
    const names = await page.locator('[data-testid=search-result] .sf-results__name').allTextContents();
    await page.press('#patient-search', 'ArrowDown');
    await page.press('#patient-search', 'Enter');
    await page.waitForSelector('[data-testid=patient-banner]');
    assert.equal(await page.textContent('[data-testid=banner-name]'), names[1]);

    await page.goto(`${node.url}/patient/${seeded.janeId}`);
    await page.waitForSelector('[data-testid=banner-allergy]');
    assert.equal(await page.textContent('[data-testid=banner-nhs]'), spaced);
    assert.match(await page.textContent('[data-testid=banner-allergy]') ?? '', /penicillin/i);
    assert.match(await page.textContent('[data-testid=banner-alert]') ?? '', /interpreter/i);
    await page.waitForSelector('[data-testid=abnormal]');
    assert.match(await page.textContent('[data-testid=active-problems]') ?? '', /Type 2 diabetes/);
    assert.match(await page.textContent('[data-testid=patient-banner]') ?? '', /Dr Ann Jones/);
    await shot(page, '03-record-summary');
    await axe(page, 'record summary');

    // The banner stays in view when the record scrolls.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const top = await page.locator('[data-testid=patient-banner]').evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(top >= 0 && top < 5, `banner top is ${top}px after scrolling`);

    await page.click('#tab-timeline');
    await page.waitForSelector('[data-testid=timeline]');
    await shot(page, '04-record-timeline');
    const rows = () => page.locator('[data-testid=timeline] tbody tr').count();
    const all = await rows();
    await page.uncheck('#tl-consultation');
    assert.equal(await rows(), all - 1, 'unticking Consultations hides the one consultation');
    await page.check('#tl-consultation');
    await page.fill('#tl-text', 'metformin');
    assert.equal(await rows(), 1);
  });

  test('"No known drug allergy" shows as a plain statement, never as a red allergy', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    await page.goto(`${node.url}/patient/${seeded.johnId}`);
    await page.waitForSelector('[data-testid=banner-no-known-allergy]');
    assert.match(await page.textContent('[data-testid=banner-no-known-allergy]') ?? '', /No known drug allergy \(recorded 1-Mar-2020\)/);
    assert.equal(await page.locator('[data-testid=banner-allergy]').count(), 0);
  });

  test('Enter never opens a patient from an earlier query whose results are still on screen', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    const first = await search(page, 'patel');
    assert.equal(first.length, 1);
    // Hold the next search at the network so Enter is certainly pressed while it is pending.
    let release!: () => void;
    let held!: () => void;
    const requested = new Promise<void>((r) => (held = r));
    await page.route(/\/fhir\/R4\/Patient\?.*family=Smith/, async (route) => {
      held();
      await new Promise<void>((r) => (release = r));
      await route.continue();
    });
    await page.fill('#patient-search', 'Smith, Jane');
    await requested;
    await page.press('#patient-search', 'Enter');
    assert.equal(await page.locator('[data-testid=search-result]').count(), 0, 'the Patel results are no longer offered');
    assert.equal(new URL(page.url()).pathname, '/', 'Enter while searching opened nothing');
    release();
    await page.waitForFunction(() => /1 patient found/.test(document.querySelector('[data-testid=result-count]')?.textContent ?? ''));
    assert.equal(new URL(page.url()).pathname, '/', 'still on the search page');
    assert.match((await page.locator('[data-testid=search-result]').allTextContents())[0]!, /SMITH, Jane/);
    await page.press('#patient-search', 'Enter');
    await page.waitForSelector('[data-testid=banner-name]');
    assert.equal(await page.textContent('[data-testid=banner-name]'), 'SMITH, Jane');
  });

  test('write a consultation: the draft survives a reload, then saves as one transaction', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    await page.goto(`${node.url}/patient/${seeded.janeId}/consultation`);
    await page.waitForSelector('#c-history');
    // Allergies stay in view while writing.
    await page.waitForSelector('[data-testid=banner-allergy]:has-text("penicillin")');
    await page.fill('#c-history', 'Three weeks of cough, worse at night.');
    await page.fill('#c-plan', 'Chest X-ray; review in two weeks.');
    await page.fill('#code-search', 'hypert');
    await page.waitForSelector('[data-testid=code-result]');
    await page.press('#code-search', 'Enter');
    await page.waitForSelector('[data-testid=coded-entries]');
    await page.fill('#v-systolic', '150');
    await page.fill('#v-diastolic', '95');
    await page.fill('#v-weight', '80');
    await page.fill('#v-height', '170');
    await page.fill('#v-pulse', '900');
    assert.match(await page.textContent('[data-testid=bmi]') ?? '', /27\.7/);
    await page.waitForSelector('[data-testid=draft-status]:has-text("Draft kept")');

    await page.reload();
    await page.waitForSelector('[data-testid=draft-restored]');
    assert.equal(await page.inputValue('#c-history'), 'Three weeks of cough, worse at night.');
    assert.equal(await page.inputValue('#v-systolic'), '150');

    // An impossible pulse blocks saving and says why.
    await page.click('text=Save consultation');
    await page.waitForSelector('[data-testid=consultation-errors]');
    assert.match(await page.textContent('[data-testid=consultation-errors]') ?? '', /Pulse rate of 900/);
    await shot(page, '05-consultation-errors');
    await page.fill('#v-pulse', '88');
    await shot(page, '06-consultation');
    await axe(page, 'consultation');
    await page.click('text=Save consultation');
    await page.waitForURL(`${node.url}/patient/${seeded.janeId}`);
    await page.waitForSelector('[data-testid=recent-consultations]:has-text("Three weeks of cough")');

    const encounters = await node.store.search({ resourceType: 'Encounter', params: [{ name: 'patient', values: [`Patient/${seeded.janeId}`] }], count: 50, offset: 0 });
    const saved = encounters.resources.find((e) => JSON.stringify(e).includes('Three weeks of cough')) as Encounter;
    assert.ok(saved, 'the Encounter was stored');
    const conditions = await node.store.search({ resourceType: 'Condition', params: [{ name: 'encounter', values: [`Encounter/${saved.id}`] }], count: 50, offset: 0 });
    assert.equal(conditions.resources.length, 1);
    const observations = await node.store.search({ resourceType: 'Observation', params: [{ name: 'encounter', values: [`Encounter/${saved.id}`] }], count: 50, offset: 0 });
    assert.equal(observations.resources.length, 5, 'BP, pulse, weight, height, BMI');
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('steadfast.draft')).length), 0, 'the draft is cleared after saving');
    await shot(page, '07-record-after-consultation');
  });

  test('book, move and cancel an appointment from the diary', async () => {
    const page = await signIn('receptionist', 'RECEPTION-1');
    await page.goto(`${node.url}/appointments?patient=${seeded.janeId}&view=day`);
    await page.waitForSelector('[data-testid=booking-for]');
    await page.waitForSelector('[data-testid=slot]');
    const firstFree = page.locator('[data-testid=slot]', { hasText: 'free' }).first();
    const slotId = await firstFree.getAttribute('data-slot-id');
    await firstFree.locator('button', { hasText: 'Book' }).click();
    await page.waitForSelector('[data-testid=diary-message]:has-text("Booked")');
    const booked = page.locator(`[data-slot-id="${slotId}"]`);
    assert.match(await booked.textContent() ?? '', /SMITH, Jane/);
    await shot(page, '08-appointments-booked');
    await axe(page, 'appointments');
    // Move it to the last free slot of the session, then cancel it there.
    await booked.locator('button', { hasText: 'Move' }).click();
    const target = page.locator('[data-testid=slot]', { hasText: 'free' }).last();
    const targetId = await target.getAttribute('data-slot-id');
    await target.locator('button', { hasText: 'Move here' }).click();
    await page.waitForSelector('[data-testid=diary-message]:has-text("Moved")');
    assert.match(await page.locator(`[data-slot-id="${slotId}"]`).textContent() ?? '', /free/);
    const moved = page.locator(`[data-slot-id="${targetId}"]`);
    assert.match(await moved.textContent() ?? '', /SMITH, Jane/);
    await moved.locator('button', { hasText: 'Cancel' }).click();
    await page.check('#cancel-reason-pat');
    await page.click('[data-testid=cancel-confirm] button:has-text("Cancel appointment")');
    await page.waitForSelector('[data-testid=diary-message]:has-text("Cancelled")');
    assert.match(await page.locator(`[data-slot-id="${targetId}"]`).textContent() ?? '', /free/);
    const appts = await node.store.search({ resourceType: 'Appointment', params: [{ name: 'slot', values: [`Slot/${targetId}`] }], count: 10, offset: 0 });
    assert.deepEqual(appts.resources.map((a) => (a as { status: string }).status), ['cancelled']);
    await page.click('#view-week');
    await page.waitForSelector('[data-testid=diary-week]');
    await shot(page, '09-appointments-week');
  });

  test('panic alarm raised in one browser reaches another, naming the person and the room', async () => {
    const clinician = await signIn('clinician', 'CONSULT-3');
    const receptionist = await signIn('receptionist', 'RECEPTION-1');
    await receptionist.click('button:has-text("Panic alarm")');
    await receptionist.click('button:has-text("Confirm panic alarm")');
    await clinician.waitForSelector('[role=alertdialog]');
    const where = await clinician.textContent('[data-testid=alarm-where]');
    assert.match(where ?? '', /Test receptionist/);
    assert.match(where ?? '', /Reception desk/);
    await shot(clinician, '10-alarm-received');
    await axe(clinician, 'panic alarm alert');
    await clinician.click('button:has-text("I am responding")');
    await receptionist.waitForSelector('[data-testid=alarm-acks]:has-text("Test clinician")');
    await shot(receptionist, '11-alarm-raiser-sees-response');
    await receptionist.click('button:has-text("Stand down")');
    await clinician.waitForSelector('[role=alertdialog]', { state: 'detached' });
  });

  test('a receptionist sees demographics and appointments but is refused clinical text', async () => {
    const page = await signIn('receptionist', 'RECEPTION-1');
    await page.goto(`${node.url}/patient/${seeded.janeId}`);
    await page.waitForSelector('[data-testid=banner-allergy]');
    await page.waitForSelector('[data-testid=not-available]');
    const body = (await page.textContent('body')) ?? '';
    assert.match(body, /not available to your role/);
    assert.doesNotMatch(body, /low mood/);
    assert.doesNotMatch(body, /Type 2 diabetes/);
    assert.doesNotMatch(body, /could not be loaded/);
    assert.equal(await page.locator('[data-testid=new-consultation]').count(), 0);
    await shot(page, '12-receptionist-record');
    await page.click('#tab-timeline');
    await page.waitForSelector('[data-testid=not-available]');
    assert.doesNotMatch((await page.textContent('body')) ?? '', /low mood/);
    // Asking the node directly is refused too: the UI is not the only guard.
    const res = await page.evaluate(async (id) => (await fetch(`/fhir/R4/Encounter?patient=Patient/${id}`)).status, seeded.janeId);
    assert.equal(res, 403);
    await page.goto(`${node.url}/patient/${seeded.janeId}/consultation`);
    await page.waitForSelector('[data-testid=not-available]');
    await axe(page, 'receptionist record');
  });

  test('a receptionist takes emergency access with a reason, sees the clinical record under a banner, and the practice-admin reviews it', async () => {
    const page = await signIn('receptionist', 'RECEPTION-2');
    await page.goto(`${node.url}/patient/${seeded.janeId}`);
    await page.waitForSelector('[data-testid=emergency-offer]');
    assert.doesNotMatch((await page.textContent('body')) ?? '', /Type 2 diabetes/);
    // Keyboard only: the button opens the reason box and puts the cursor in it.
    await page.focus('[data-testid=emergency-open]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=emergency-reason]');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'emergency-reason');
    assert.match((await page.textContent('[data-testid=emergency-offer]')) ?? '', /30 minutes/);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=emergency-offer] [role=alert]');
    assert.equal((await node.fetchAs('practice-admin', '/api/break-glass').then((r) => r.json()) as { grants: unknown[] }).grants.length, 0, 'no grant without a reason');
    await page.focus('[data-testid=emergency-reason]');
    await page.keyboard.type('Collapsed at the desk; ambulance crew asking for medication');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=emergency-banner]');
    assert.match((await page.textContent('[data-testid=emergency-banner]')) ?? '', /Emergency access — ends \d\d:\d\d — every view is audited/);
    await page.waitForSelector('[data-testid=active-problems]');
    const body = (await page.textContent('body')) ?? '';
    assert.match(body, /Type 2 diabetes/);
    assert.match(body, /Metformin/);
    assert.equal(await page.locator('[data-testid=new-consultation]').count(), 0, 'still no writing');
    await shot(page, '13-receptionist-emergency-access');
    await axe(page, 'emergency access');
    const rows = await node.audit.list({ patient: `Patient/${seeded.janeId}`, user: node.users.receptionist.id });
    assert.ok(rows.some((r) => r.event === 'search' && r.detail?.startsWith('break-glass: Collapsed at the desk')));

    const admin = await signIn('practice-admin', 'OFFICE-1');
    await admin.waitForSelector('a:has-text("Emergency access (1 to review)")');
    await admin.click('a:has-text("Emergency access")');
    await admin.waitForSelector('[data-testid=break-glass-use]');
    assert.match((await admin.textContent('[data-testid=break-glass-use]')) ?? '', /Collapsed at the desk/);
    await admin.click('[data-testid=break-glass-review]');
    await admin.waitForSelector('text=Reviewed by');
    // Nothing left to review: the header drops the item; the Practice admin page still links it.
    await admin.waitForSelector('.nhsuk-header a:has-text("Emergency access")', { state: 'detached' });
    await admin.goto(`${node.url}/admin`);
    await admin.waitForSelector('a:has-text("Emergency access")');
  });

  test('an idle screen locks, hides the record, and unlocks with the password', async () => {
    assert.equal((await node.fetchAs('practice-admin', '/api/webapp/config', { method: 'PUT', json: { idleLockMinutes: 0.05 } })).status, 200);
    try {
      const page = await signIn('clinician', 'CONSULT-3');
      await page.goto(`${node.url}/patient/${seeded.janeId}`);
      await page.waitForSelector('[data-testid=lock-screen]', { timeout: 20_000 });
      assert.equal(await page.locator('[data-testid=patient-banner]').isVisible(), false, 'the record is hidden while locked');
      await shot(page, '15-locked');
      await page.reload();
      await page.waitForSelector('[data-testid=lock-screen]');
      assert.equal(await page.locator('[data-testid=patient-banner]').isVisible(), false, 'a reload does not unlock');
      await page.fill('#unlock-password', TEST_PASSWORD);
      await page.click('button:has-text("Unlock")');
      await page.waitForSelector('[data-testid=patient-banner]', { state: 'visible' });
    } finally {
      await node.fetchAs('practice-admin', '/api/webapp/config', { method: 'PUT', json: { idleLockMinutes: 10 } });
    }
  });

  test('tasks list and rooms page', async () => {
    const admin = await signIn('practice-admin', 'OFFICE-1');
    await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: 'Scan discharge letter', patient: seeded.janeId } });
    await admin.goto(`${node.url}/tasks`);
    await admin.waitForSelector('[data-testid=task-list]:has-text("Scan discharge letter")');
    assert.match(await admin.textContent('[data-testid=task-summary]') ?? '', /Open: 1/);
    await shot(admin, '13-tasks');
    await axe(admin, 'tasks');
    await admin.goto(`${node.url}/admin/rooms`);
    await admin.waitForSelector('text=Reception desk');
    await shot(admin, '14-rooms');
    await axe(admin, 'rooms');
  });

  test('a clinician shares a record with another practice and withdraws it; a record shared with this practice opens read-only', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    await page.goto(`${node.url}/patient/${seeded.janeId}`);
    await page.click('#tab-sharing');
    await page.fill('#share-practice', 'c84001');
    await page.fill('#share-reason', 'Extended access appointments');
    await page.click('[data-testid=share-record] button[type=submit]');
    await page.waitForSelector('[data-testid=share-record] td:has-text("C84001")');
    assert.match((await page.textContent('[data-testid=share-record]')) ?? '', /Extended access appointments.*Shared/s);
    await shot(page, '12-share-record');
    await axe(page, 'share record');
    await page.click('[data-testid=share-record] button:has-text("Withdraw")');
    await page.waitForSelector('[data-testid=share-record] td:has-text("Withdrawn")');

    // A record another practice (B82005) shares with this one, as the hub delivers it.
    const owner = 'B82005';
    const patientId = 'shared-patient-1';
    const entry = (resource: Resource, n: number) => ({
      entryId: `shared-entry-${n}`,
      originNode: 'node-b82005',
      practice: owner,
      hlc: encodeHlc({ wallMs: Date.parse('2026-11-30T10:00:00Z') + n, counter: 0, node: 'node-b82005' }),
      resourceType: resource.resourceType,
      resourceId: resource.id!,
      versionId: `shared-entry-${n}`,
      baseVersionId: null,
      op: 'put' as const,
      resource,
      author: 'user:dr.b',
    });
    const subject = { reference: `Patient/${patientId}` };
    await node.store.practiceView(owner).applyRemote([
      entry({ resourceType: 'Patient', id: patientId, identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(4199) }], name: [{ family: 'Visitor', given: ['Vera'] }], birthDate: '1961-07-08', gender: 'female' } as Resource, 1),
      entry({ resourceType: 'Condition', id: 'shared-cond-1', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } } as Resource, 2),
      entry({ resourceType: 'AllergyIntolerance', id: 'shared-allergy-1', patient: subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] } } as Resource, 3),
    ]);
    await node.store.db
      .insertInto('sync_cursors' as never)
      .values({ practice: node.store.practice, peer: `shared:${owner}:${patientId}`, push_cursor: 0, pull_cursor: 3, pull_anchor: 'shared-entry-3', last_exchange_at: new Date().toISOString() } as never)
      .execute();
    await page.click('a.nhsuk-header__navigation-link:has-text("Shared records")');
    await page.waitForSelector('[data-testid=shared-records]');
    assert.match((await page.textContent('[data-testid=shared-records]')) ?? '', /VISITOR, Vera.*B82005/s);
    await shot(page, '13-shared-records');
    await axe(page, 'shared records');
    await page.click('[data-testid=shared-records] a:has-text("VISITOR")');
    await page.waitForSelector('[data-testid=patient-banner]');
    assert.match((await page.textContent('[data-testid=shared-record-notice]')) ?? '', /read-only copy of the record held by practice B82005/);
    assert.match((await page.textContent('main')) ?? '', /Hypertension/);
    assert.match((await page.textContent('[data-testid=patient-banner]')) ?? '', /penicillin/i);
    await shot(page, '14-shared-record');
    await axe(page, 'shared record');
  });

  test('a clinician requests tests and prints the form; the result comes back to their inbox with the earlier value and trend, and is filed', async () => {
    const page = await signIn('clinician', 'CONSULT-3');
    await page.goto(`${node.url}/patient/${seeded.janeId}`);
    await page.click('[data-testid=request-tests]');
    await page.waitForSelector('[data-testid=test-choices]');
    await page.fill('#test-search', 'full blood');
    await page.check('#test-FBC');
    await page.fill('#test-search', '');
    await page.waitForSelector('#test-UE');
    await page.check('#test-UE');
    assert.match((await page.textContent('[data-testid=tubes]')) ?? '', /Lavender.*Full blood count/s);
    await page.fill('#clinical-details', 'Tired all the time; on metformin');
    await page.check('#urgency-urgent');
    await shot(page, '15-request-tests');
    await axe(page, 'request tests');
    await page.click('[data-testid=request-submit]');
    await page.waitForSelector('[data-testid=request-created]');
    const orderNumber = ((await page.textContent('[data-testid=request-created] h2')) ?? '').replace('Order ', '').trim();
    assert.match(orderNumber, /^[A-Z0-9]+-\d{6}-[A-Z]\d{4}-[0-9A-Z]$/);
    const formUrl = await page.getAttribute('[data-testid=print-form]', 'href');
    const pdf = await page.request.get(`${node.url}${formUrl}`);
    assert.equal(pdf.status(), 200);
    assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');

    // An earlier full blood count, then the result of this request with the placer order number.
    const oru = (id: string, filler: string, when: string, hb: string, placer = '') =>
      buildOru({ messageId: id, nhsNumber: jane.nhs, family: jane.family, given: jane.given, birthDate: jane.birthDate.replace(/-/g, ''), placer, filler, observedAt: when, test: ['FBC', 'Full blood count'], obx: [{ code: 'HB', display: 'Haemoglobin', value: hb, units: 'g/L', range: '115-165', flag: Number(hb) < 115 ? 'L' : '' }] });
    assert.equal((await ingestHl7({ store: node.store }, oru('E2E-1', 'OLD-1', '202609011000', '128'), 'folder')).state, 'filed');
    assert.equal((await ingestHl7({ store: node.store }, oru('E2E-2', 'NEW-1', '202612011000', '104', orderNumber), 'folder')).state, 'filed');

    // Regression (three spellings of the staff-user system): the requester's result Task is theirs on the Tasks page.
    await page.click('a.nhsuk-header__navigation-link:has-text("Tasks")');
    await page.selectOption('#task-filter-owner', 'me');
    await page.waitForFunction(() => /Review|result/i.test(document.querySelector('table tbody')?.textContent ?? ''));
    assert.match((await page.textContent('table tbody')) ?? '', /Test clinician/, 'assigned to the clinician who asked for it');
    await page.click('a.nhsuk-header__navigation-link:has-text("Results")');
    await page.waitForSelector('[data-testid=results-list]');
    assert.match((await page.textContent('[data-testid=results-backlog]')) ?? '', /Waiting for review\s*1/);
    await shot(page, '16-results-inbox');
    await axe(page, 'results inbox');
    await page.click('[data-testid=results-list] a');
    await page.waitForSelector('[data-testid=result-values]');
    const row = (await page.textContent('[data-testid=result-value]')) ?? '';
    assert.match(row, /104 g\/L/);
    assert.match(row, /Low/);
    assert.match(row, /1-Sept?-2026: 128 g\/L/);
    assert.equal(await page.locator('[data-testid=result-value] svg.sf-sparkline').count(), 1, 'a trend line of the two values');
    await shot(page, '17-result-view');
    await axe(page, 'result view');
    await page.check('#file-urgent-contact');
    await page.fill('#file-comment', 'Low Hb, new since September');
    await page.click('[data-testid=result-file] button[type=submit]');
    await page.waitForSelector('[data-testid=results-empty]');
    const tasks = (await (await node.fetchAs('clinician', '/api/tasks?status=open')).json()) as { tasks: Array<{ description?: string; priority?: string }> };
    assert.ok(tasks.tasks.some((t) => t.priority === 'urgent' && /Needs urgent contact/.test(t.description ?? '')), 'the urgent follow-up task was created');

    // A result whose name disagrees with the record waits for a person, who chooses the patient.
    const mismatch = buildOru({ messageId: 'E2E-3', nhsNumber: jane.nhs, family: 'Smyth', given: jane.given, birthDate: jane.birthDate.replace(/-/g, ''), filler: 'NEW-2', test: ['CRP', 'C-reactive protein'], obx: [{ code: 'CRP', display: 'CRP', value: '12', units: 'mg/L', range: '0-5', flag: 'H' }] });
    assert.equal((await ingestHl7({ store: node.store }, mismatch, 'folder')).state, 'unmatched');
    await page.reload();
    await page.waitForSelector('[data-testid=results-held]');
    assert.match((await page.textContent('[data-testid=results-held]')) ?? '', /Patient not matched.*family name differs/s);
    await page.click('[data-testid=results-held] button:has-text("Choose the patient")');
    await page.fill('#booking-patient', jane.nhs);
    await page.waitForSelector('#booking-patient-list li');
    await page.press('#booking-patient', 'Enter');
    await page.waitForSelector('[data-testid=results-held] button:has-text("Yes, file it")');
    assert.match((await page.textContent('[data-testid=results-held]')) ?? '', /SMITH, Jane/);
    await shot(page, '18-results-held');
    await axe(page, 'results held for a person');
    await page.click('[data-testid=results-held] button:has-text("Yes, file it")');
    await page.waitForSelector('[data-testid=results-notice]');
    assert.match((await page.textContent('[data-testid=results-notice]')) ?? '', /^Filed/);
  });

  test('no page asked for anything beyond the practice node (no fonts, scripts or images from the internet)', () => {
    assert.deepEqual(external, []);
  });
});
