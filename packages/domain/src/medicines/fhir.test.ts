/** The FHIR shapes of a prescription and the request checks, without a server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PrescribeRequest } from '../api/medicines.ts';
import { SteadfastError } from '../errors.ts';
import { issueRecords, prescribeIds, prescribeRecords, recordedOverrides, structuredDose } from './fhir.ts';
import { isValidPrescriptionId } from './prescription-id.ts';
import { bundledKnowledge, productByCode } from './products.ts';
import { validatePrescribeRequest } from './request.ts';

const KEY = '0b8f5a52-4c1e-4d0e-9a53-3f1d2f6c9e11';
const TODAY = '2026-12-04';
const base: PrescribeRequest = { kind: 'acute', vmp: '39732411000001106', dosageText: 'One capsule three times a day', dosePerAdministration: 1, frequencyPerDay: 3, quantity: { value: 15, unit: 'capsule' }, days: 5, idempotencyKey: KEY };

test('prescribeIds: the same practice and key give the same issue, template and prescription ids anywhere; another key or practice gives others', () => {
  const a = prescribeIds('C84001', KEY);
  assert.deepEqual(prescribeIds('C84001', KEY.toUpperCase()), a);
  assert.ok(isValidPrescriptionId(a.prescriptionId), a.prescriptionId);
  assert.equal(a.prescriptionId.slice(7, 13), 'C84001');
  assert.notEqual(prescribeIds('C84001', '1b8f5a52-4c1e-4d0e-9a53-3f1d2f6c9e11').prescriptionId, a.prescriptionId);
  assert.notEqual(prescribeIds('B82005', KEY).issueId, a.issueId);
  assert.notEqual(a.issueId, a.templateId);
});

test('weekly and one-and-a-half-a-day doses become valid FHIR timings and read back as the same times a day', () => {
  const product = productByCode('15517911000001104', bundledKnowledge.products)!;
  const weekly = prescribeRecords({ practice: 'C84001', patientId: 'p1', request: { ...base, vmp: product.vmp, frequencyPerDay: 1 / 7, quantity: { value: 4, unit: product.unitOfMeasure } }, product, prescriber: { id: 'u1', name: 'Dr Chen' }, overridden: [], now: '2026-12-04T10:00:00Z', today: TODAY });
  assert.deepEqual(weekly.issue.dosageInstruction?.[0]?.timing?.repeat, { frequency: 1, period: 7, periodUnit: 'd' });
  assert.ok(Math.abs(structuredDose(weekly.issue).frequencyPerDay! - 1 / 7) < 0.001);
  const amox = productByCode(base.vmp, bundledKnowledge.products)!;
  const odd = prescribeRecords({ practice: 'C84001', patientId: 'p1', request: { ...base, frequencyPerDay: 1.5 }, product: amox, prescriber: { id: 'u1', name: 'Dr Chen' }, overridden: [], now: '2026-12-04T10:00:00Z', today: TODAY });
  assert.deepEqual(odd.issue.dosageInstruction?.[0]?.timing?.repeat, { frequency: 3, period: 2, periodUnit: 'd' });
  assert.equal(structuredDose(odd.issue).frequencyPerDay, 1.5);
});

test('a repeat issue copies the template and points the template at it; overrides read back as written', () => {
  const amox = productByCode(base.vmp, bundledKnowledge.products)!;
  const alert = { id: `allergy:penicillin-class:${amox.vmp}`, kind: 'allergy' as const, severity: 'stop' as const, message: 'Recorded allergy', source: 's', vmp: amox.vmp, overrideReason: 'Tolerated it in 2024' };
  const first = prescribeRecords({ practice: 'C84001', patientId: 'p1', request: { ...base, kind: 'repeat', repeat: { authorisedIssues: 3, reviewDate: '2027-03-01' } }, product: amox, prescriber: { id: 'u1', name: 'Dr Chen' }, overridden: [alert], now: '2026-12-04T10:00:00Z', today: TODAY });
  assert.deepEqual(recordedOverrides(first.issue).map((o) => [o.id, o.severity, o.overrideReason, o.by]), [[alert.id, 'stop', 'Tolerated it in 2024', 'Dr Chen']]);
  const next = issueRecords({ practice: 'C84001', template: first.template!, idempotencyKey: '2b8f5a52-4c1e-4d0e-9a53-3f1d2f6c9e11', prescriber: { id: 'u2', name: 'Dr Patel' }, overridden: [], now: '2026-12-05T10:00:00Z' });
  assert.deepEqual(next.issue.basedOn, [{ reference: `MedicationRequest/${first.template!.id}` }]);
  assert.deepEqual(next.issue.dosageInstruction, first.template!.dosageInstruction);
  assert.equal(recordedOverrides(next.issue).length, 0);
  const pointers = (next.template.extension ?? []).filter((e) => e.url.endsWith('medicine-last-issue'));
  assert.deepEqual(pointers.map((e) => e.valueReference?.reference), [`MedicationRequest/${next.issue.id}`]);
});

test('validatePrescribeRequest: a good request passes; each bad field is named, all at once', () => {
  assert.equal(validatePrescribeRequest(base, bundledKnowledge, TODAY).product.name, 'Amoxicillin 500mg capsules');
  try {
    validatePrescribeRequest({ ...base, kind: 'repeat', frequencyPerDay: 30, repeat: { authorisedIssues: 0, reviewDate: '2026-02-30' }, amp: '381511000001101' }, bundledKnowledge, TODAY);
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof SteadfastError);
    assert.deepEqual([err, ...err.more].map((e) => e.field), ['amp', 'frequencyPerDay', 'repeat.authorisedIssues', 'repeat.reviewDate']);
  }
  assert.throws(() => validatePrescribeRequest({ ...base, kind: 'repeat', repeat: { authorisedIssues: 2, reviewDate: '2026-12-03' } }, bundledKnowledge, TODAY), /has passed/);
  assert.throws(() => validatePrescribeRequest({ ...base, kind: 'repeat', repeat: { authorisedIssues: 2, reviewDate: '2028-12-03' } }, bundledKnowledge, TODAY), /15 months/);
  assert.throws(() => validatePrescribeRequest('x', bundledKnowledge, TODAY), /JSON object/);
});
