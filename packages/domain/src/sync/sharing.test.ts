import '../fhir/definitions.node.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { validateResource } from '../fhir/validate.ts';
import { patientsOf, readShareConsent, shareConsent } from './sharing.ts';

const grant = { patientId: 'p1', withPractice: 'C84001', reason: 'Extended access appointments', start: '2026-12-01T09:00:00.000Z' };

test('a share Consent is valid FHIR R4 and reads back as the grant it records', () => {
  const consent = { ...shareConsent(grant), id: 'c1' };
  assert.doesNotThrow(() => validateResource(consent));
  assert.deepEqual(readShareConsent(consent), { consentId: 'c1', patientId: 'p1', withPractice: 'C84001', active: true, reason: 'Extended access appointments' });
});

test('a withdrawn, denied or expired share is not active; a Consent of another kind is not a share', () => {
  const consent = { ...shareConsent(grant), id: 'c1' };
  assert.equal(readShareConsent({ ...consent, status: 'inactive' })?.active, false);
  assert.equal(readShareConsent({ ...consent, provision: { ...consent.provision, type: 'deny' } })?.active, false);
  const ended = { ...consent, provision: { ...consent.provision, period: { start: grant.start, end: '2026-12-02T00:00:00.000Z' } } };
  assert.equal(readShareConsent(ended, new Date('2026-12-01T12:00:00Z'))?.active, true);
  assert.equal(readShareConsent(ended, new Date('2026-12-03T00:00:00Z'))?.active, false);
  assert.equal(readShareConsent({ ...consent, category: [{ text: 'research' }] }), undefined);
  assert.equal(readShareConsent({ resourceType: 'Patient', id: 'p1' }), undefined);
});

test('patientsOf: the patient compartment of each kind of record', () => {
  const cases: Array<[Resource, string[]]> = [
    [{ resourceType: 'Patient', id: 'p1' }, ['p1']],
    [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p2' } }, ['p2']],
    [{ resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: 'Patient/p3' } }, ['p3']],
    [{ resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p4' } }, ['p4']],
    [{ resourceType: 'Appointment', status: 'booked', participant: [{ actor: { reference: 'Patient/p5' }, status: 'accepted' }, { actor: { reference: 'Practitioner/d1' }, status: 'accepted' }] }, ['p5']],
    [{ ...shareConsent(grant), id: 'c1' }, ['p1']],
    [{ resourceType: 'Slot', status: 'free', schedule: { reference: 'Schedule/s1' }, start: '2026-12-01T09:00:00Z', end: '2026-12-01T09:10:00Z' }, []],
    [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Group/g1' } }, []],
  ];
  for (const [resource, expected] of cases) assert.deepEqual(patientsOf(resource), expected, resource.resourceType);
});
