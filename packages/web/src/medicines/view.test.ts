import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MedicationRequest } from '../fhirTypes.ts';
import { medicationsView, stoppedBody } from './view.ts';

const subject = { reference: 'Patient/p1' };
const med = (id: string, extra: Partial<MedicationRequest>): MedicationRequest => ({ resourceType: 'MedicationRequest', id, status: 'active', intent: 'order', subject, medicationCodeableConcept: { text: id }, ...extra });
const continuous = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] };

test('current acute, repeat templates with issues left and review date, past items and the issue history are told apart', () => {
  const list = [
    med('amox', { authoredOn: '2026-12-01' }),
    med('ramipril', { courseOfTherapyType: continuous, dispenseRequest: { numberOfRepeatsAllowed: 6, validityPeriod: { end: '2027-06-01' } } }),
    med('ramipril-1', { basedOn: [{ reference: 'MedicationRequest/ramipril' }], authoredOn: '2026-11-01', status: 'completed' }),
    med('ramipril-2', { basedOn: [{ reference: 'MedicationRequest/ramipril' }], authoredOn: '2026-12-01', status: 'completed' }),
    med('statin', { courseOfTherapyType: continuous, dispenseRequest: { numberOfRepeatsAllowed: 1, validityPeriod: { end: '2026-11-30' } } }),
    med('ibuprofen', { status: 'stopped', statusReason: { text: 'indigestion' } }),
    med('wrong', { status: 'entered-in-error' }),
  ];
  const v = medicationsView(list, '2026-12-04');
  assert.deepEqual(v.acute.map((m) => m.id), ['amox']);
  assert.deepEqual(v.repeats.map((r) => [r.template.id, r.issues.map((i) => i.id), r.issuesLeft, r.reviewDue]), [
    ['ramipril', ['ramipril-2', 'ramipril-1'], 4, false],
    ['statin', [], 1, true],
  ]);
  assert.deepEqual(v.past.map((m) => m.id), ['ibuprofen'], 'an item entered in error is shown nowhere');
  assert.deepEqual(v.history.map((m) => m.id), ['amox', 'ramipril-2', 'ramipril-1', 'ibuprofen']);
});

test('stopping keeps the reason on the request', () => {
  const s = stoppedBody(med('x', {}), '  rash  ');
  assert.equal(s.status, 'stopped');
  assert.equal(s.statusReason?.text, 'rash');
});
