/** Reception registers a patient and edits their details through /api/reception/patients. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { contactPreferencesOf } from '@steadfast/domain/contact';
import { CONFIDENTIALITY_SYSTEM, NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { startTestNode } from '../testing/harness.ts';

const jane = {
  title: 'Mrs',
  givenName: 'Jane',
  familyName: 'Registrar',
  birthDate: '1984-03-09',
  gender: 'female',
  nhsNumber: testNhsNumber(7301),
  addressLine1: '2 Mill Lane',
  town: 'Leeds',
  postcode: 'ls6 2aa',
  phone: '0113 496 0123',
  mobile: '07700 900456',
  email: 'jane.registrar@example.com',
  smsConsent: true,
};

test('a receptionist registers a patient; the record carries demographics, contact details and preferences; audited', async () => {
  const node = await startTestNode();
  try {
    const res = await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: jane });
    assert.equal(res.status, 201, await res.clone().text());
    const { patient } = (await res.json()) as { patient: Patient };
    const stored = (await node.store.read('Patient', patient.id!))!.resource as Patient;
    assert.equal(stored.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value, jane.nhsNumber);
    assert.equal(stored.address?.[0]?.postalCode, 'LS6 2AA');
    const prefs = contactPreferencesOf(stored);
    assert.equal(prefs.mobile, '07700900456');
    assert.equal(prefs.smsConsent, true);
    const messagingView = (await (await node.fetchAs('receptionist', `/api/messaging/patients/${patient.id}/contact`)).json()) as { mobile?: string };
    assert.equal(messagingView.mobile, '07700900456', 'messaging reads the same contact details');
    assert.match(await (await node.fetchAs('practice-admin', '/api/audit')).text(), /patient registered at reception/);
  } finally {
    await node.close();
  }
});

test('a registration with mistakes is refused whole, every problem named by its field, nothing written', async () => {
  const node = await startTestNode();
  try {
    const before = (await node.store.search({ resourceType: 'Patient', params: [], count: 100, offset: 0 })).resources.length;
    const res = await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: { givenName: 'Jo', birthDate: '2999-01-01', gender: 'female', nhsNumber: '999 123 4560', mobile: '0113 496 0000' } });
    assert.equal(res.status, 400);
    const outcome = (await res.json()) as OperationOutcome;
    assert.deepEqual(outcome.issue.map((i) => i.expression?.[0]), ['familyName', 'birthDate', 'nhsNumber', 'mobile']);
    const after = (await node.store.search({ resourceType: 'Patient', params: [], count: 100, offset: 0 })).resources.length;
    assert.equal(after, before);
  } finally {
    await node.close();
  }
});

test('registering someone already on the list: the same NHS number is 409; the same last name and birth date asks to confirm', async () => {
  const node = await startTestNode();
  try {
    assert.equal((await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: jane })).status, 201);
    const again = await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: { ...jane, givenName: 'Janet' } });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /already belongs/);
    const noNhs = { ...jane, nhsNumber: '', givenName: 'Janet' };
    const possible = await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: noNhs });
    assert.equal(possible.status, 409);
    assert.match(await possible.text(), /already registered/);
    const confirmed = await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: { ...noNhs, confirmPossibleDuplicate: true } });
    assert.equal(confirmed.status, 201, 'a different person with the same name and birthday can still be registered');
  } finally {
    await node.close();
  }
});

test('reception edits demographics and contact details; a stale edit is refused; a sensitive record needs emergency access', async () => {
  const node = await startTestNode();
  try {
    const { patient } = (await (await node.fetchAs('receptionist', '/api/reception/patients', { method: 'POST', json: jane })).json()) as { patient: Patient };
    const read = (await (await node.fetchAs('receptionist', `/api/reception/patients/${patient.id}`)).json()) as { registration: typeof jane; versionId: string };
    assert.equal(read.registration.mobile, '07700900456');
    const put = await node.fetchAs('receptionist', `/api/reception/patients/${patient.id}`, { method: 'PUT', json: { ...read.registration, familyName: 'Newname', email: '', mobile: '07700 900999', doNotContact: true, versionId: read.versionId } });
    assert.equal(put.status, 200, await put.clone().text());
    const stored = (await node.store.read('Patient', patient.id!))!.resource as Patient;
    assert.equal(stored.name?.[0]?.family, 'Newname');
    const prefs = contactPreferencesOf(stored);
    assert.equal(prefs.email, undefined);
    assert.equal(prefs.mobile, '07700900999');
    assert.equal(prefs.doNotContact, true);
    const stale = await node.fetchAs('receptionist', `/api/reception/patients/${patient.id}`, { method: 'PUT', json: { ...read.registration, versionId: read.versionId } });
    assert.equal(stale.status, 409, 'an edit made from an old copy does not overwrite a newer one');

    await node.store.write([{ kind: 'update', resource: { ...stored, meta: { security: [{ system: CONFIDENTIALITY_SYSTEM, code: 'R' }] } } }], { author: 'test' });
    const sensitive = await node.fetchAs('receptionist', `/api/reception/patients/${patient.id}`, { method: 'PUT', json: { ...read.registration } });
    assert.equal(sensitive.status, 403);
    assert.equal(sensitive.headers.get('x-steadfast-break-glass'), `Patient/${patient.id}`);
  } finally {
    await node.close();
  }
});
