import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIDENTIALITY_SYSTEM, isRestrictedPatient, mayChangeConfidentiality, recordAccess } from './access.ts';

const rec = (over: Partial<Parameters<typeof recordAccess>[0]>) =>
  recordAccess({ role: 'receptionist', type: 'Observation', access: 'read', restricted: false, granted: false, ...over });

test('a receptionist reading clinical data is offered break-glass, and a grant lets the read through', () => {
  assert.equal(rec({}), 'break-glass');
  assert.equal(rec({ granted: true }), 'allowed');
  assert.equal(rec({ type: 'MedicationRequest', granted: true }), 'allowed');
});

test('break-glass never widens writes beyond the role', () => {
  assert.equal(rec({ access: 'write' }), 'refused');
  assert.equal(rec({ access: 'write', granted: true }), 'refused');
  assert.equal(rec({ role: 'clinician', access: 'write', granted: true }), 'allowed');
});

test('a sensitive record needs break-glass for every role, even for what the role may normally see', () => {
  for (const role of ['receptionist', 'clinician', 'practice-admin'] as const) {
    assert.equal(rec({ role, type: 'Patient', restricted: true }), 'break-glass', role);
    assert.equal(rec({ role, type: 'Patient', restricted: true, granted: true }), 'allowed', role);
  }
  assert.equal(rec({ role: 'clinician', access: 'write', restricted: true }), 'break-glass');
  assert.equal(rec({ role: 'clinician', access: 'write', restricted: true, granted: true }), 'allowed');
});

test('within the role and not sensitive, no grant is needed', () => {
  assert.equal(rec({ type: 'AllergyIntolerance' }), 'allowed');
  assert.equal(rec({ role: 'clinician' }), 'allowed');
});

test('the audit trail is never opened by break-glass', () => {
  assert.equal(rec({ type: 'AuditEvent', granted: true }), 'refused');
  assert.equal(rec({ role: 'clinician', type: 'AuditEvent', granted: true }), 'refused');
  assert.equal(rec({ role: 'practice-admin', type: 'AuditEvent' }), 'allowed');
});

test('a Patient is sensitive with Confidentiality R or V, not with N or another system', () => {
  assert.equal(isRestrictedPatient({ meta: { security: [{ system: CONFIDENTIALITY_SYSTEM, code: 'R' }] } }), true);
  assert.equal(isRestrictedPatient({ meta: { security: [{ system: CONFIDENTIALITY_SYSTEM, code: 'V' }] } }), true);
  assert.equal(isRestrictedPatient({ meta: { security: [{ system: CONFIDENTIALITY_SYSTEM, code: 'N' }] } }), false);
  assert.equal(isRestrictedPatient({ meta: { security: [{ system: 'http://example.org', code: 'R' }] } }), false);
  assert.equal(isRestrictedPatient({}), false);
  assert.equal(isRestrictedPatient(undefined), false);
});

test('only clinicians and practice-admins may mark or unmark a record sensitive', () => {
  assert.equal(mayChangeConfidentiality('receptionist'), false);
  assert.equal(mayChangeConfidentiality('clinician'), true);
  assert.equal(mayChangeConfidentiality('practice-admin'), true);
});

test('online consultation triage, role by action: receptionists (care navigators) route clinical requests but do not triage them; admin requests they may', async () => {
  const { consultationActions, mayActOnConsultation } = await import('./access.ts');
  const medical = { kind: 'medical' as const, redFlags: [] };
  const admin = { kind: 'admin' as const, redFlags: [] };
  const redFlaggedAdmin = { kind: 'admin' as const, redFlags: ['rf-chest-pain'] };
  const medicalRecategorisedAdmin = { kind: 'medical' as const, category: 'fit-note', redFlags: [] };
  const adminEscalatedClinical = { kind: 'admin' as const, category: 'clinical', redFlags: [] };
  const expected: Record<string, Record<string, string[]>> = {
    receptionist: {
      medical: ['view', 'match', 'assign'],
      admin: ['view', 'match', 'assign', 'triage', 'reply', 'book', 'close'],
      redFlaggedAdmin: ['view', 'match', 'assign'],
      medicalRecategorisedAdmin: ['view', 'match', 'assign', 'triage', 'reply', 'book', 'close'],
      adminEscalatedClinical: ['view', 'match', 'assign'],
    },
    clinician: Object.fromEntries(['medical', 'admin', 'redFlaggedAdmin', 'medicalRecategorisedAdmin', 'adminEscalatedClinical'].map((k) => [k, [...consultationActions]])),
    'practice-admin': Object.fromEntries(['medical', 'admin', 'redFlaggedAdmin', 'medicalRecategorisedAdmin', 'adminEscalatedClinical'].map((k) => [k, [...consultationActions]])),
  };
  const requests = { medical, admin, redFlaggedAdmin, medicalRecategorisedAdmin, adminEscalatedClinical };
  for (const [role, byRequest] of Object.entries(expected)) {
    for (const [name, allowed] of Object.entries(byRequest)) {
      const actual = consultationActions.filter((a) => mayActOnConsultation(role as 'receptionist', a, requests[name as keyof typeof requests]));
      assert.deepEqual(actual, allowed, `${role} on ${name}`);
    }
  }
});
