import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DmdProduct, MedicineAlert } from '@steadfast/domain/api/medicines';
import { alertsOfOutcome, courseQuantity, emptyPrescribeDraft, overrideField, pickDosage, pickProduct, prescribeProblems, prescribeRequest, submitFailure } from './prescribe.ts';

const amox: DmdProduct = {
  vmp: '39732311000001104',
  name: 'Amoxicillin 500mg capsules',
  vtm: '27658006',
  vtmName: 'Amoxicillin',
  form: 'capsule',
  route: 'oral',
  strength: { value: 500, unit: 'mg' },
  strengthText: '500mg',
  unitOfMeasure: 'capsule',
  amps: [],
  classes: ['penicillin'],
  usuallyRepeat: false,
  verifiedBy: 'test fixture',
  standardDosages: [
    { text: 'One capsule three times a day for 5 days', dosePerAdministration: 1, frequencyPerDay: 3, days: 5 },
    { text: 'One capsule three times a day', dosePerAdministration: 1, frequencyPerDay: 3 },
  ],
};
const allergy: MedicineAlert = { id: 'allergy:penicillin:39732311000001104', kind: 'allergy', severity: 'stop', message: 'Penicillin allergy recorded', source: 'test rules', vmp: amox.vmp };
const duplicate: MedicineAlert = { id: 'duplicate:statin:x', kind: 'duplicate', severity: 'warn', message: 'Already on a statin', source: 'test rules', vmp: amox.vmp };
const today = '2026-12-04';

test('a standard dosage fills the dose, frequency, days and the quantity they imply; a dosage without days keeps the days typed', () => {
  const d = pickProduct(emptyPrescribeDraft(), amox);
  assert.equal(d.dosageText, 'One capsule three times a day for 5 days');
  assert.equal(d.quantity, '15');
  assert.equal(d.days, '5');
  const longer = pickDosage({ ...d, days: '7' }, '1');
  assert.equal(longer.quantity, '21', '1 x 3 a day x 7 days');
  assert.equal(courseQuantity(0.5, 2, 7), 7);
  assert.equal(courseQuantity(1, 3, undefined), undefined);
  assert.equal(pickDosage(d, 'free').dosageText, d.dosageText, 'switching to free keeps the text to edit');
});

test('each problem names its field: no medicine, no dosage, no quantity, a repeat without issues or a future review date', () => {
  assert.deepEqual(prescribeProblems(emptyPrescribeDraft(), [], today).map((p) => p.field), ['rx-search']);
  const d = { ...pickProduct(emptyPrescribeDraft(), amox), dosageText: ' ', quantity: '0', days: '2.5' };
  assert.deepEqual(prescribeProblems(d, [], today).map((p) => p.field), ['rx-dosage-text', 'rx-quantity', 'rx-days']);
  const repeat = { ...pickProduct(emptyPrescribeDraft(), amox), kind: 'repeat' as const, authorisedIssues: '25', reviewDate: '2026-12-03' };
  const problems = prescribeProblems(repeat, [], today);
  assert.deepEqual(problems.map((p) => p.field), ['rx-issues', 'rx-review']);
  assert.match(problems[0]!.text, /1 to 24/);
  assert.match(problems[1]!.text, /today or later/);
  assert.deepEqual(prescribeProblems({ ...repeat, authorisedIssues: '6', reviewDate: today }, [], today), [], 'a review today is allowed');
  assert.deepEqual(prescribeProblems({ ...repeat, authorisedIssues: '6', reviewDate: '2027-06-01' }, [], today), []);
});

test("every alert, 'stop' or 'warn', needs a reason of 5 characters or more; reasons are sent as overrides with the alert's id", () => {
  const d = pickProduct(emptyPrescribeDraft(), amox);
  const problems = prescribeProblems({ ...d, overrides: { [duplicate.id]: ' ok  ' } }, [allergy, duplicate], today);
  assert.deepEqual(problems.map((p) => p.field), [overrideField(allergy.id), overrideField(duplicate.id)]);
  assert.match(problems[0]!.text, /Penicillin allergy recorded: enter your reason to prescribe anyway \(at least 5 characters\)/);
  assert.match(overrideField(allergy.id), /^rx-override-[A-Za-z0-9_-]+$/, 'a valid element id');
  const withReason = { ...d, overrides: { [allergy.id]: '  tolerated amoxicillin in 2024, allergy disputed ', [duplicate.id]: 'switching statin' } };
  assert.deepEqual(prescribeProblems(withReason, [allergy, duplicate], today), []);
  const body = prescribeRequest(withReason, [allergy, duplicate], 'key-1');
  assert.deepEqual(body.overrides, [
    { alertId: allergy.id, reason: 'tolerated amoxicillin in 2024, allergy disputed' },
    { alertId: duplicate.id, reason: 'switching statin' },
  ]);
  assert.equal(body.idempotencyKey, 'key-1');
  assert.deepEqual(body.quantity, { value: 15, unit: 'capsule' });
  assert.equal(body.kind, 'acute');
  assert.equal(body.repeat, undefined);
});

test("the node's 409 alerts are read from the OperationOutcome; anything else gives none", () => {
  assert.deepEqual(alertsOfOutcome({ resourceType: 'OperationOutcome', issue: [], alerts: [allergy, { junk: 1 }] }), [allergy]);
  assert.deepEqual(alertsOfOutcome(undefined), []);
  assert.deepEqual(alertsOfOutcome({ alerts: 'no' }), []);
});

test('a 5xx answer or no answer keeps the key (the outcome is unknown); only a 4xx answer means nothing was written (review finding 6)', () => {
  for (const status of [500, 502, 503, 504, undefined]) assert.equal(submitFailure(status), 'unknown', `status ${status}: the node may have written it`);
  const alerts409 = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'business-rule' }], alerts: [{ id: 'allergy:penicillin:x', message: 'Penicillin allergy', severity: 'stop', kind: 'allergy', vmp: 'x', source: 's' }] };
  assert.equal(submitFailure(409, alerts409), 'nothing-written', "the checks' 409 wrote nothing");
  for (const status of [400, 401, 403, 404, 422]) assert.equal(submitFailure(status, { resourceType: 'OperationOutcome', issue: [] }), 'nothing-written', `status ${status}`);
});

test('a 409 without alerts (the key already made a prescription, other content under it) keeps the form locked: check the record (review finding 5)', () => {
  const keyUsed = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'conflict', diagnostics: 'This idempotencyKey was already used for a prescription with other content (quantity differ...)', expression: ['quantity'] }] };
  assert.equal(submitFailure(409, keyUsed), 'key-used');
});
