/**
 * Defect 5 of security issue 9, through the FHIR API: clinical values that FHIR R4 forbids (a status
 * outside its value set, an impossible or future date, a reference to the wrong type of resource, a
 * malformed search value) are refused with a 400 OperationOutcome naming the element, and nothing is
 * written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';

let nhsCounter = 4000;
const patient = (extra: Partial<Patient> = {}): Patient => ({
  resourceType: 'Patient',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(nhsCounter++) }],
  name: [{ family: 'Okafor', given: ['Ada'] }],
  birthDate: '1970-03-04',
  gender: 'female',
  ...extra,
});
const observation = (subject: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
  subject: { reference: subject },
  effectiveDateTime: '2024-05-01T10:00:00Z',
  valueQuantity: { value: 130, unit: 'mmHg' },
  ...extra,
});

async function logSize(node: TestNode): Promise<number> {
  return (await node.store.changesSince(0, 1_000_000)).length;
}

/** Assert a 400 OperationOutcome with an issue whose expression is `expression` and whose text matches `text`. */
async function expect400(res: Response, expression: string, text: RegExp): Promise<OperationOutcome> {
  const body = await res.text();
  assert.equal(res.status, 400, body);
  assert.match(res.headers.get('content-type') ?? '', /application\/fhir\+json/);
  const oo = JSON.parse(body) as OperationOutcome;
  assert.equal(oo.resourceType, 'OperationOutcome');
  const issue = oo.issue.find((i) => i.expression?.includes(expression));
  assert.ok(issue, `expected an issue at ${expression}, got ${JSON.stringify(oo.issue)}`);
  assert.match(issue.diagnostics ?? '', text);
  return oo;
}

describe('clinical values through the FHIR API', () => {
  let node: TestNode;
  let patientId: string;
  before(async () => {
    node = await startTestNode();
    patientId = (await node.create('clinician', patient())).id;
  });
  after(() => node?.close());

  it('regression: Observation status "bogus" was stored', async () => {
    const before = await logSize(node);
    const res = await node.fetchAs('clinician', '/fhir/R4/Observation', { method: 'POST', json: observation(`Patient/${patientId}`, { status: 'bogus' }) });
    // names the element, the value and the fix (the codes that are allowed)
    await expect400(res, 'Observation.status', /"bogus".*ObservationStatus.*Use one of: registered, preliminary, final/);
    assert.equal(await logSize(node), before);
  });

  it('regression: Patient gender "banana", birthDate "2020-02-30" and a birth date in the future were stored', async () => {
    const before = await logSize(node);
    const gender = await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', json: patient({ gender: 'banana' as Patient['gender'] }) });
    await expect400(gender, 'Patient.gender', /"banana".*male, female, other, unknown/);
    const impossible = await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', json: patient({ birthDate: '2020-02-30' }) });
    await expect400(impossible, 'Patient.birthDate', /"2020-02-30" is not a real date/);
    const nextYear = String(new Date().getUTCFullYear() + 1);
    const future = await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', json: patient({ birthDate: `${nextYear}-01-01` }) });
    await expect400(future, 'Patient.birthDate', /in the future/);
    // an update is checked like a create
    const stored = (await (await node.fetchAs('clinician', `/fhir/R4/Patient/${patientId}`)).json()) as Patient;
    const put = await node.fetchAs('clinician', `/fhir/R4/Patient/${patientId}`, { method: 'PUT', json: { ...stored, birthDate: '2021-02-29' } });
    await expect400(put, 'Patient.birthDate', /2021-02 has 28 days/);
    assert.equal(await logSize(node), before);
    // a leap day that exists is fine
    assert.equal((await node.fetchAs('clinician', '/fhir/R4/Patient', { method: 'POST', json: patient({ birthDate: '2020-02-29' }) })).status, 201);
  });

  it("regression: an Observation's subject pointing at an Observation was accepted", async () => {
    const obs = await node.create('clinician', observation(`Patient/${patientId}`) as unknown as Patient);
    const before = await logSize(node);
    const res = await node.fetchAs('clinician', '/fhir/R4/Observation', { method: 'POST', json: observation(`Observation/${obs.id}`) });
    await expect400(res, 'Observation.subject.reference', /refers to a Observation, but it must refer to Patient, Group, Device or Location/);
    assert.equal(await logSize(node), before);
  });

  it('regression: a transaction Bundle with one entry holding a made-up status wrote the others', async () => {
    const before = await logSize(node);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0d7c2d1e-4a37-4f0b-9a7e-2d8f0f6c1a01', resource: patient(), request: { method: 'POST', url: 'Patient' } },
        { resource: observation('urn:uuid:0d7c2d1e-4a37-4f0b-9a7e-2d8f0f6c1a01') as never, request: { method: 'POST', url: 'Observation' } },
        { resource: observation('urn:uuid:0d7c2d1e-4a37-4f0b-9a7e-2d8f0f6c1a01', { status: 'done' }) as never, request: { method: 'POST', url: 'Observation' } },
      ],
    };
    await expect400(await node.fetchAs('clinician', '/fhir/R4', { method: 'POST', json: bundle }), 'Bundle.entry[2].resource.Observation.status', /"done"/);
    // a urn:uuid: reference to an entry of the wrong type is refused the same way
    const wrongType: Bundle = {
      ...bundle,
      entry: [
        { fullUrl: 'urn:uuid:0d7c2d1e-4a37-4f0b-9a7e-2d8f0f6c1a02', resource: observation(`Patient/${patientId}`) as never, request: { method: 'POST', url: 'Observation' } },
        { resource: observation('urn:uuid:0d7c2d1e-4a37-4f0b-9a7e-2d8f0f6c1a02') as never, request: { method: 'POST', url: 'Observation' } },
      ],
    };
    await expect400(await node.fetchAs('clinician', '/fhir/R4', { method: 'POST', json: wrongType }), 'Bundle.entry[1].resource.Observation.subject.reference', /must refer to Patient/);
    assert.equal(await logSize(node), before);
  });

  it('regression: a search on birthdate=2020-13-45 returned 200', async () => {
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Patient?birthdate=2020-13-45'), 'birthdate', /birthdate=2020-13-45.*month 13.*YYYY-MM-DD/);
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Patient?birthdate=ge2021-02-29'), 'birthdate', /28 days/);
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Observation?status=finall'), 'status', /Use one of: .*final/);
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Observation?status:not=final'), 'status:not', /not supported/);
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Observation?patient=Patient/a%20b'), 'patient', /Type\/id/);
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Patient?_lastUpdated=2024-02-30'), '_lastUpdated', /not a valid date/);
    await expect400(await node.fetchAs('clinician', '/fhir/R4/Patient?_id=a%20b'), '_id', /not a FHIR id/);
    for (const ok of ['/fhir/R4/Patient?birthdate=1970-03-04', '/fhir/R4/Patient?birthdate=ge1970', '/fhir/R4/Observation?status=final', `/fhir/R4/Observation?patient=${patientId}`]) {
      const res = await node.fetchAs('clinician', ok);
      assert.equal(res.status, 200, `${ok}: ${await res.text()}`);
    }
  });
});
