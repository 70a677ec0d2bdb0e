/**
 * Prescribing in Chromium against a real node (issue 16): acute prescribing from the record's
 * Medications tab with dm+d search by keyboard; each safety check shown as the prescriber picks
 * (penicillin allergy against amoxicillin needs a reason before anything is written; duplicate
 * therapy; an interaction; the dose range); the node's own 409 (an allergy recorded after the form
 * opened) shown as an NHS.UK error summary; a repeat authorised, issued until no issues are left,
 * then re-authorised; prescribing from the consultation screen; after issuing, the EPS state and the
 * printed prescription (the node's PDF); the prescriber's queue of patients' repeat requests (issue,
 * reject with a reason). axe on each screen.
 * Synthetic patients (999 range); codes from the bundled dm+d subset.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import type { AllergyIntolerance, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { bundledSubset, DMD_SYSTEM, PRESCRIPTION_ORDER_NUMBER_SYSTEM } from '@steadfast/domain/medicines';
import { CURRENT_QUESTIONNAIRE, submissionRecordId } from '@steadfast/domain/online-consultations';
import { startTestNode, TEST_PASSWORD, testUsernames, type TestNode } from '@steadfast/server/testing';
import { assertAccessible, chromiumSkip, launchChromium } from './browser.ts';

const continuous = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] };
const product = (name: string) => {
  const p = bundledSubset.products.find((x) => x.name === name);
  if (!p) throw new Error(`${name} is not in the bundled dm+d subset`);
  return p;
};
const coded = (name: string) => ({ coding: [{ system: DMD_SYSTEM, code: product(name).vmp, display: name }], text: name });
const PRESCRIPTION_ID = /^[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}[0-9A-Z+]$/;
const today = new Date().toISOString().slice(0, 10);

describe('prescribing in Chromium', { skip: chromiumSkip }, () => {
  let node: TestNode;
  let browser: Browser;
  /** Penny: penicillin allergy, on diazepam (repeat) and paracetamol (acute, this week). */
  let penny: string;
  /** Oscar: no allergies, no medication. */
  let oscar: string;
  let write: (resources: Resource[]) => Promise<Resource[]>;

  before(async () => {
    const hours = ([0, 1, 2, 3, 4, 5, 6] as const).map((day) => ({ day, opens: '00:00', closes: '24:00' }));
    node = await startTestNode({ config: { onlineConsultations: { hours } } });
    write = async (resources) => (await node.store.write(resources.map((resource) => ({ kind: 'create' as const, resource })), { author: 'test:seed' })).map((r) => r.resource!);
    const patient = (n: number, given: string, family: string) => ({ resourceType: 'Patient' as const, identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(n) }], name: [{ use: 'official' as const, given: [given], family }], birthDate: '1970-05-06' });
    const [p1, p2] = await write([patient(7161, 'Penny', 'Cillin'), patient(7162, 'Oscar', 'Script')]);
    penny = p1!.id!;
    oscar = p2!.id!;
    const subject = { reference: `Patient/${penny}` };
    await write([
      { resourceType: 'AllergyIntolerance', patient: subject, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] }, type: 'allergy', code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }], text: 'Penicillin allergy' } } as AllergyIntolerance,
      { resourceType: 'MedicationRequest', status: 'active', intent: 'plan', subject, courseOfTherapyType: continuous, medicationCodeableConcept: coded('Diazepam 2mg tablets'), dosageInstruction: [{ text: 'One tablet at night' }], dispenseRequest: { numberOfRepeatsAllowed: 6, validityPeriod: { start: '2026-06-01', end: '2027-06-01' }, quantity: { value: 28, unit: 'tablet' } } } as MedicationRequest,
      { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, authoredOn: today, medicationCodeableConcept: coded('Paracetamol 500mg tablets'), dosageInstruction: [{ text: 'Two tablets up to four times a day when required' }], dispenseRequest: { quantity: { value: 32, unit: 'tablet' } } } as MedicationRequest,
    ]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await node?.close();
  });

  async function signIn(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(node.url);
    await page.fill('#username', testUsernames.clinician);
    await page.fill('#password', TEST_PASSWORD);
    await page.fill('#workstation', 'ROOM-4');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=signed-in-user]');
    return page;
  }

  async function openPrescribing(patientId: string): Promise<Page> {
    const page = await signIn();
    await page.goto(`${node.url}/patient/${patientId}`);
    await page.click('#tab-medications');
    await page.waitForSelector('[data-testid=medications]', { timeout: 30_000 });
    await page.click('[data-testid=prescribe-open]');
    await page.waitForSelector('[data-testid=prescribe-form]');
    return page;
  }

  /** Type into the dm+d search, move down to the named result with the arrow keys, press Enter. */
  async function choose(page: Page, typed: string, name: string): Promise<void> {
    await page.fill('#rx-search', typed);
    await page.waitForSelector('[data-testid=rx-result]');
    const names = await page.$$eval('[data-testid=rx-result]', (lis) => lis.map((li) => li.textContent ?? ''));
    const at = names.findIndex((n) => n.startsWith(name));
    assert.ok(at >= 0, `${name} is offered for "${typed}" (offered: ${names.join('; ')})`);
    for (let i = 0; i < at; i++) await page.press('#rx-search', 'ArrowDown');
    await page.press('#rx-search', 'Enter');
    await page.waitForFunction((n) => document.querySelector('[data-testid=rx-chosen]')?.textContent?.includes(n), name);
  }

  const alertsShown = (page: Page) => page.$$eval('[data-testid=rx-alert]', (els) => els.map((e) => ({ kind: e.getAttribute('data-kind'), severity: e.getAttribute('data-severity'), text: e.textContent ?? '' })));
  const requestsOf = async (patientId: string) => {
    const r = await node.fetchAs('clinician', `/fhir/R4/MedicationRequest?patient=Patient/${patientId}&_count=200`);
    return ((await r.json()) as { entry?: Array<{ resource: MedicationRequest }> }).entry?.map((e) => e.resource) ?? [];
  };

  test('acute: amoxicillin for a penicillin-allergic patient needs a reason per alert before anything is written; then it is prescribed with a prescription id and shown on the tab', async () => {
    const page = await openPrescribing(penny);
    await choose(page, 'amoxicillin 500', 'Amoxicillin 500mg capsules');
    assert.equal(await page.inputValue('#rx-quantity'), '15', 'one capsule three times a day for 5 days');
    const alerts = await alertsShown(page);
    const allergy = alerts.find((a) => a.kind === 'allergy' && a.severity === 'stop');
    assert.ok(allergy, `a stop alert for the penicillin allergy (shown: ${JSON.stringify(alerts)})`);
    assert.match(allergy.text, /Stop.*Penicillin allergy/);
    await assertAccessible(page, 'prescribing form with an allergy alert');
    const before = (await requestsOf(penny)).length;
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-problems]');
    assert.match((await page.textContent('[data-testid=rx-problems]')) ?? '', /enter your reason to prescribe anyway/);
    const href = (await page.getAttribute('[data-testid=rx-problems] a', 'href')) ?? '';
    assert.match(href, /^#rx-override-/, 'the summary links to the reason field');
    assert.ok(await page.$(href), 'and the field it links to exists');
    await assertAccessible(page, 'prescribing form with an error summary');
    assert.equal((await requestsOf(penny)).length, before, 'nothing written without a reason');
    for (const id of await page.$$eval('[data-testid=rx-alert] input', (els) => els.map((e) => e.id))) await page.fill(`#${id}`, 'Tolerated amoxicillin in 2025; allergy label disputed');
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-prescribed]', { timeout: 30_000 });
    const rxId = (await page.textContent('[data-testid=rx-prescription-id]')) ?? '';
    assert.match(rxId, PRESCRIPTION_ID);
    await page.waitForFunction(() => /Amoxicillin 500mg capsules/.test(document.querySelector('[data-testid=acute-items]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const stored = (await requestsOf(penny)).filter((m) => m.medicationCodeableConcept?.coding?.some((c) => c.code === product('Amoxicillin 500mg capsules').vmp));
    assert.equal(stored.length, 1, 'one MedicationRequest written');
    assert.equal(stored[0]!.intent, 'order');
    assert.equal(stored[0]!.identifier?.find((i) => i.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM)?.value, rxId);
    assert.match(JSON.stringify(stored[0]), /allergy label disputed/, 'the override reason is recorded on the request');
    await assertAccessible(page, 'prescribed notice');
  });

  test('duplicate therapy and an interaction are shown as the prescriber picks (co-codamol with paracetamol and diazepam); the dose range as a free dosage is typed', async () => {
    const page = await openPrescribing(penny);
    await choose(page, 'co-codamol', 'Co-codamol 30mg/500mg tablets');
    const alerts = await alertsShown(page);
    assert.ok(alerts.some((a) => a.kind === 'duplicate' && /Paracetamol/i.test(a.text)), `duplicate paracetamol (shown: ${JSON.stringify(alerts)})`);
    assert.ok(alerts.some((a) => a.kind === 'interaction' && /Diazepam/i.test(a.text)), `opioid with a benzodiazepine (shown: ${JSON.stringify(alerts)})`);
    for (const a of alerts) assert.match(a.text, /^(Stop|Warning)/, 'each alert says its severity');
    await page.click('button:has-text("Change medicine")');
    await choose(page, 'diclofenac', 'Diclofenac potassium 50mg tablets');
    assert.deepEqual((await alertsShown(page)).filter((a) => a.kind === 'dose'), [], 'a standard dosage is in range');
    await page.check('#rx-dosage-free');
    await page.fill('#rx-dosage-text', 'One tablet four times a day');
    await page.fill('#rx-dose', '1');
    await page.fill('#rx-frequency', '4');
    await page.waitForSelector('[data-testid=rx-alert][data-kind=dose]');
    assert.match((await alertsShown(page)).find((a) => a.kind === 'dose')!.text, /^Stop.*200 mg.*150 mg/, 'the daily dose and the maximum are named');
    await page.fill('#rx-dose', '2');
    await page.fill('#rx-frequency', '2');
    await page.waitForFunction(() => /a dose.*50 mg/.test(document.querySelector('[data-testid=rx-alert][data-kind=dose]')?.textContent ?? ''));
    await page.fill('#rx-dose', '1');
    await page.waitForSelector('[data-testid=rx-alert][data-kind=dose]', { state: 'detached' });
    await assertAccessible(page, 'prescribing form with a free dosage');
  });

  test("the node's 409 (an allergy recorded after the form opened) is an error summary with the alert to answer; nothing is written until it is", async () => {
    const page = await openPrescribing(oscar);
    await choose(page, 'flucloxacillin', 'Flucloxacillin 500mg capsules');
    assert.ok(await page.$('[data-testid=rx-no-alerts]'), 'no alerts for a patient with no allergies');
    await write([{ resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${oscar}` }, type: 'allergy', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] } } as AllergyIntolerance]);
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-problems]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=rx-problems]')) ?? '', /safety checks stopped this prescription \(nothing was written\)/);
    assert.ok((await alertsShown(page)).some((a) => a.kind === 'allergy'), 'the alert the node found is shown with its reason field');
    assert.equal((await requestsOf(oscar)).length, 0);
    await assertAccessible(page, "the node's 409 as an error summary");
    for (const id of await page.$$eval('[data-testid=rx-alert] input', (els) => els.map((e) => e.id))) await page.fill(`#${id}`, 'Allergy entered in error, checked with patient');
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-prescribed]', { timeout: 30_000 });
    assert.equal((await requestsOf(oscar)).length, 1);
  });

  test('repeat: authorised with issues and a review date; issued until none are left (then Issue is disabled with the reason); re-authorised', async () => {
    const page = await openPrescribing(oscar);
    await choose(page, 'salbutamol', 'Salbutamol 100micrograms/dose inhaler CFC free');
    await page.check('#rx-kind-repeat');
    await page.fill('#rx-quantity', '200');
    await page.fill('#rx-issues', '2');
    await page.fill('#rx-review', '2027-03-01');
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-prescribed]', { timeout: 30_000 });
    const row = page.locator('[data-testid=repeat-row]', { hasText: 'Salbutamol' });
    await row.waitFor({ timeout: 30_000 });
    assert.match((await row.textContent()) ?? '', /1 of 2.*1-Mar-2027/, 'the first issue is made with the template');
    await assertAccessible(page, 'repeat medication with actions');
    await row.locator('[data-testid=issue-repeat]').click();
    await page.waitForFunction(() => /0 of 2/.test([...document.querySelectorAll('[data-testid=repeat-row]')].find((r) => r.textContent?.includes('Salbutamol'))?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=repeat-issued]')) ?? '', /Issued: prescription [0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}[0-9A-Z+], 0 issues left/);
    const again = row.locator('[data-testid=issue-repeat]');
    assert.equal(await again.isDisabled(), true, 'no issues left: Issue is disabled');
    assert.match((await row.locator('[data-testid=issue-blocked]').textContent()) ?? '', /No issues left: re-authorise first/);
    const template = (await requestsOf(oscar)).find((m) => m.intent === 'plan')!;
    const issues = (await requestsOf(oscar)).filter((m) => m.basedOn?.some((b) => b.reference === `MedicationRequest/${template.id}`));
    assert.equal(issues.length, 2, 'two issues basedOn the template');
    await row.locator('[data-testid=reauthorise-open]').click();
    await page.fill(`#reauth-issues-${template.id}`, '3');
    await page.fill(`#reauth-review-${template.id}`, '2027-09-01');
    await row.locator('[data-testid=reauthorise-confirm]').click();
    await page.waitForFunction(() => /3 of 5.*1-Sept?-2027/.test([...document.querySelectorAll('[data-testid=repeat-row]')].find((r) => r.textContent?.includes('Salbutamol'))?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(await page.locator('[data-testid=repeat-row]', { hasText: 'Salbutamol' }).locator('[data-testid=issue-repeat]').isDisabled(), false, 'can issue again');
  });

  test('a submit that got no answer, pressed again, is prescribed once (the same idempotency key); a 5xx answer keeps the key too and the form stays locked meanwhile (review findings 5 and 6)', async () => {
    const page = await openPrescribing(oscar);
    const before = (await requestsOf(oscar)).length;
    await choose(page, 'paracetamol 500', 'Paracetamol 500mg tablets');
    await page.fill('#rx-quantity', '32');
    // The node receives and writes the first submit, but its answer never reaches the browser; the
    // second press reaches it too, but the answer is replaced by a 503 (a proxy failing part-way).
    let lost = 0;
    await page.route('**/api/patients/*/prescriptions', async (route) => {
      const n = lost++;
      if (n === 0) {
        await route.fetch();
        await route.abort('connectionreset');
      } else if (n === 1) {
        await route.fetch();
        await route.fulfill({ status: 503, contentType: 'application/fhir+json', body: JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'upstream failed' }] }) });
      } else await route.continue();
    });
    await page.click('[data-testid=rx-submit]');
    await page.waitForFunction(() => /No answer from the node/.test(document.querySelector('[data-testid=rx-problems]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal((await requestsOf(oscar)).length, before + 1, 'the node did write it');
    assert.equal(await page.isDisabled('#rx-quantity'), true, 'the form is locked while the outcome is unknown, so an edit cannot be answered with the earlier prescription');
    await page.click('[data-testid=rx-submit]');
    await page.waitForFunction(() => /No answer from the node \(/.test(document.querySelector('[data-testid=rx-problems]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(await page.isDisabled('#rx-quantity'), true, 'a 5xx is not "nothing written": still locked, same key');
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-prescribed]', { timeout: 30_000 });
    assert.ok(await page.$('[data-testid=rx-duplicate]'), 'the screen says it had already been made');
    assert.equal((await requestsOf(oscar)).length, before + 1, 'pressed again: still one');
  });

  test('when the check rules cannot be loaded the form says the checks are not shown, and never "no alerts"', async () => {
    const page = await signIn();
    await page.route('**/api/medicines/rules', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'rules unavailable' }] }) }));
    await page.goto(`${node.url}/patient/${penny}`);
    await page.click('#tab-medications');
    await page.click('[data-testid=prescribe-open]');
    await choose(page, 'amoxicillin 500', 'Amoxicillin 500mg capsules');
    assert.match((await page.textContent('[data-testid=rx-checks-unavailable]')) ?? '', /Safety checks not shown.*The node still checks/s);
    assert.equal(await page.$('[data-testid=rx-no-alerts]'), null);
  });

  test('after issuing, the EPS state is shown (waiting: this node has no EPS) and Print prescription opens the node\'s PDF; the issue is then printed, a second print a copy', async () => {
    const page = await openPrescribing(oscar);
    await choose(page, 'doxycycline', 'Doxycycline 100mg tablets');
    await page.click('[data-testid=rx-submit]');
    await page.waitForSelector('[data-testid=rx-out][data-eps=queued]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=rx-eps]')) ?? '', /Waiting to be sent to the Electronic Prescription Service/);
    await assertAccessible(page, 'prescribed, with the EPS state and print');
    const href = (await page.getAttribute('[data-testid=rx-print]', 'href')) ?? '';
    assert.match(href, /^\/api\/prescriptions\/[^/]+\/print\.pdf$/);
    const [popup] = await Promise.all([page.context().waitForEvent('page'), page.click('[data-testid=rx-print]')]);
    await popup.close();
    await page.waitForSelector('[data-testid=rx-out][data-eps=printed]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=rx-print]')) ?? '', /Print a copy \(not for dispensing\)/);
    const copy = await page.context().request.get(`${node.url}${href}`);
    assert.equal(copy.status(), 200);
    assert.equal(copy.headers()['content-type'], 'application/pdf');
    assert.equal((await copy.body()).subarray(0, 5).toString(), '%PDF-');
    assert.match(copy.headers()['content-disposition'] ?? '', /-copy\.pdf/, 'the second print is a copy');
  });

  test("the prescriber's queue of patients' repeat requests: the named repeat is offered first and issued; another request is rejected only with a reason", async () => {
    const [ada] = await write([{ resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(7163) }], name: [{ use: 'official', given: ['Ada'], family: 'Repeat' }], birthDate: '1958-02-03' }]);
    // The repeats are made through the prescribing API, as the screens make them.
    const repeat = async (name: string) => {
      const std = product(name).standardDosages[0]!;
      const r = await node.fetchAs('clinician', `/api/patients/${ada!.id}/prescriptions`, { method: 'POST', json: { kind: 'repeat', vmp: product(name).vmp, dosageText: std.text, dosePerAdministration: std.dosePerAdministration, frequencyPerDay: std.frequencyPerDay, quantity: { value: 28, unit: product(name).unitOfMeasure }, repeat: { authorisedIssues: 6, reviewDate: '2027-06-01' }, idempotencyKey: crypto.randomUUID() } });
      const text = await r.text();
      assert.equal(r.status, 201, text);
      return (JSON.parse(text) as { template: { id: string } }).template;
    };
    const salbutamol = await repeat('Salbutamol 100micrograms/dose inhaler CFC free');
    await repeat('Furosemide 40mg tablets');
    const practice = node.store.practice;
    const ask = async (medication: string) => {
      const submissionId = crypto.randomUUID();
      const redFlags = Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.filter((q) => q.kinds.includes('admin')).map((q) => [q.linkId, false]));
      const r = await fetch(`${node.url}/api/public/online-consultations/${practice}/submissions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ submissionId, questionnaireVersion: CURRENT_QUESTIONNAIRE.version, kind: 'admin', redFlags, answers: { 'admin-type': 'repeat-prescription', medication, details: 'I have nearly run out' }, identity: { givenName: 'Ada', familyName: 'Repeat', birthDate: '1958-02-03', postcode: 'LS1 4AP', mobile: '07700900123' }, contactPreference: 'sms' }),
      });
      assert.equal(r.status, 201, await r.text());
      const id = submissionRecordId(practice, submissionId);
      const matched = await node.fetchAs('receptionist', `/api/online-consultations/${id}/match`, { method: 'POST', json: { patientId: ada!.id } });
      assert.equal(matched.status, 200, await matched.text());
      return id;
    };
    await ask('my salbutamol inhaler');
    await ask('water tablets');
    const page = await signIn();
    await page.click('a.nhsuk-header__navigation-link:has-text("Repeats")');
    await page.waitForSelector('[data-testid=repeat-request]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid=request-count]')) ?? '', /^2 waiting/);
    await assertAccessible(page, 'repeat requests queue');
    const first = page.locator('[data-testid=repeat-request]').first();
    assert.match((await first.textContent()) ?? '', /my salbutamol inhaler/, 'oldest first');
    const boxes = await first.locator('input[type=checkbox]').evaluateAll((els) => els.map((e) => ({ label: e.nextElementSibling?.textContent ?? '', checked: (e as HTMLInputElement).checked })));
    assert.match(boxes[0]!.label, /Salbutamol.*named by the patient/, 'the named repeat first');
    assert.equal(boxes[0]!.checked, true);
    assert.equal(boxes[1]!.checked, false, 'an unnamed repeat is not chosen for the prescriber');
    await first.locator('[data-testid=request-issue]').click();
    await page.waitForFunction(() => /Ada Repeat: issued [0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z+]{6}/i.test(document.querySelector('[data-testid=request-decided]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const issues = (await requestsOf(ada!.id!)).filter((m) => m.basedOn?.some((b) => b.reference === `MedicationRequest/${salbutamol.id}`));
    assert.equal(issues.length, 2, 'the first issue (made with the template) and the one from the request');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=repeat-request]').length === 1, undefined, { timeout: 30_000 });
    const second = page.locator('[data-testid=repeat-request]').first();
    await second.locator('[data-testid=request-reject]').click();
    await second.locator('[data-testid=request-reject]').click();
    const problems = await second.locator('[role=alert]').textContent();
    assert.match(problems ?? '', /Enter why the request is rejected/);
    await assertAccessible(page, 'reject without a reason');
    await second.locator('input[id^=reject-reason-]').fill('Needs a review appointment first');
    await second.locator('[data-testid=request-reject]').click();
    await page.waitForFunction(() => /rejected: Needs a review appointment first/.test(document.querySelector('[data-testid=request-decided]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.waitForSelector('[data-testid=repeat-request]', { state: 'detached' });
  });

  test('prescribing from the consultation screen checks against the allergies and medication in view', async () => {
    const page = await signIn();
    await page.goto(`${node.url}/patient/${penny}/consultation`);
    await page.click('[data-testid=prescribe-open]');
    await choose(page, 'cefalexin', 'Cefalexin 250mg/5ml oral suspension');
    const alerts = await alertsShown(page);
    assert.ok(alerts.some((a) => a.kind === 'allergy' && a.severity === 'warn'), `penicillin allergy against a cephalosporin is a warning (shown: ${JSON.stringify(alerts)})`);
    await assertAccessible(page, 'prescribing in a consultation');
  });
});
