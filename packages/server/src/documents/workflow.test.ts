/**
 * Document workflow over real HTTP: the right, confirming the patient, type and date, suggested codes,
 * routing to a clinician with an action, the clinician's own queue, filing (Binary + DocumentReference
 * in the record) and the record's documents tab; every step on the document's history and audited.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Binary, DocumentReference, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { ALEX, letterPdf } from './fixtures.ts';

interface Doc {
  id: string;
  state: string;
  patientId: string | null;
  proposedPatient: { id: string } | null;
  documentReferenceId: string | null;
  history?: Array<{ step: string; by: string; detail: string }>;
}

describe('documents: workflow', () => {
  let node: TestNode;
  let patientId: string;
  let otherPatientId: string;

  before(async () => {
    node = await startTestNode();
    const [a, b] = await node.store.write(
      [
        { kind: 'create', resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: ALEX.nhsNumber }], name: [{ given: [ALEX.given], family: ALEX.family }], birthDate: ALEX.birthDate } satisfies Patient },
        { kind: 'create', resource: { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9990000026' }], name: [{ given: ['Sam'], family: 'Other' }], birthDate: '1955-11-01' } satisfies Patient },
      ],
      { author: 'test' },
    );
    patientId = a!.resource!.id!;
    otherPatientId = b!.resource!.id!;
  });
  after(async () => node?.close());

  async function upload(title: string, body: string): Promise<Doc> {
    const form = new FormData();
    form.append('file', new Blob([await letterPdf(ALEX, title, body)], { type: 'application/pdf' }), `${title}.pdf`);
    const res = await node.fetchAs('practice-admin', '/api/documents/upload', { method: 'POST', body: form });
    assert.equal(res.status, 201);
    return ((await res.json()) as { documents: Doc[] }).documents[0]!;
  }
  const post = (role: 'receptionist' | 'clinician' | 'practice-admin', path: string, json: unknown, method = 'POST') => node.fetchAs(role, path, { method, json, headers: { 'content-type': 'application/json' } });

  it('a receptionist works documents only with the document-workflow right, granted by a practice administrator', async () => {
    const doc = await upload('Discharge summary', 'Pneumonia.');
    const refused = await post('receptionist', `/api/documents/${doc.id}/patient`, { patientId });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /document-workflow right/);
    const grant = await post('practice-admin', `/api/documents/workflow-staff/${node.users.receptionist.id}`, { granted: true }, 'PUT');
    assert.equal(grant.status, 200);
    const ok = await post('receptionist', `/api/documents/${doc.id}/patient`, { patientId });
    assert.equal(ok.status, 200, await ok.clone().text());
  });

  it('filing is refused until the patient is confirmed and the type and date are set, naming each', async () => {
    const doc = await upload('Outpatient letter', 'Seen in clinic.');
    const res = await post('receptionist', `/api/documents/${doc.id}/file`, {});
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(text, /Confirm the patient before filing/);
    assert.match(text, /Set the document type and date/);
    const bad = await post('receptionist', `/api/documents/${doc.id}/coding`, { type: 'nonsense', date: '2999-01-01' }, 'PUT');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Choose the document type[\s\S]*must be today or in the past/);
  });

  it('matches, codes, routes to a clinician, who sees it first in their queue and files it to the record', async () => {
    const doc = await upload('Discharge summary 2', 'Started ramipril 2.5 mg. Diagnosed hypertension.');
    assert.equal(doc.proposedPatient?.id, patientId);
    assert.equal((await post('receptionist', `/api/documents/${doc.id}/patient`, { patientId })).status, 200);
    const coded = await post('receptionist', `/api/documents/${doc.id}/coding`, { type: 'discharge-summary', date: '2026-11-30', suggestions: [{ kind: 'diagnosis', code: '38341003', display: 'Hypertension' }, { kind: 'medication-change', display: 'Ramipril 2.5 mg started' }] }, 'PUT');
    assert.equal(coded.status, 200, await coded.clone().text());
    const routed = await post('receptionist', `/api/documents/${doc.id}/route`, { clinicianId: node.users.clinician.id, action: 'urgent', note: 'New BP medication' });
    assert.equal(routed.status, 200, await routed.clone().text());
    const queue = (await (await node.fetchAs('clinician', '/api/documents/queue/mine')).json()) as { documents: Array<{ id: string; action: string; suggestions: unknown[] }> };
    assert.equal(queue.documents[0]?.id, doc.id, 'urgent first');
    assert.equal(queue.documents[0]?.action, 'urgent');
    assert.equal(queue.documents[0]?.suggestions.length, 2);
    // Routed to a clinician: an administrator does not file it over their head.
    assert.equal((await post('receptionist', `/api/documents/${doc.id}/file`, {})).status, 403);
    const filed = await post('clinician', `/api/documents/${doc.id}/file`, {});
    assert.equal(filed.status, 200, await filed.clone().text());
    const after = (await filed.json()) as Doc;
    assert.equal(after.state, 'filed');
    assert.deepEqual(after.history!.map((h) => h.step), ['received', 'patient', 'coding', 'routed', 'filed']);
    const ref = (await node.store.read('DocumentReference', after.documentReferenceId!))!.resource as DocumentReference;
    assert.equal(ref.subject?.reference, `Patient/${patientId}`);
    assert.equal(ref.type?.coding?.[0]?.code, '373942005');
    const binaryId = ref.content[0]!.attachment.url!.replace('Binary/', '');
    const binary = (await node.store.read('Binary', binaryId))!.resource as Binary;
    assert.match(Buffer.from(binary.data!, 'base64').subarray(0, 8).toString('latin1'), /^%PDF-/);
    const tab = (await (await node.fetchAs('clinician', `/api/documents/patient/${patientId}`)).json()) as { documents: Array<{ documentReferenceId: string; type: string }> };
    assert.ok(tab.documents.some((d) => d.documentReferenceId === ref.id && d.type === 'Discharge summary'));
    const audit = (await (await node.fetchAs('practice-admin', `/api/audit?patient=Patient/${patientId}`)).json()) as unknown;
    assert.match(JSON.stringify(audit), /filed: Discharge summary filed to the record/);
    assert.equal((await post('clinician', `/api/documents/${doc.id}/file`, {})).status, 409, 'never filed twice');
  });

  it('choosing a different patient from the one proposed is recorded as such', async () => {
    const doc = await upload('Letter for the wrong patient', 'About someone else.');
    const res = await post('receptionist', `/api/documents/${doc.id}/patient`, { patientId: otherPatientId });
    const body = (await res.json()) as Doc;
    assert.equal(body.patientId, otherPatientId);
    assert.match(body.history!.at(-1)!.detail, /a different patient from the one proposed chosen: OTHER, Sam/);
  });
});
