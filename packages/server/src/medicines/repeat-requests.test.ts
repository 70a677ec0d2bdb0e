/**
 * Patients' repeat requests in the prescriber's queue, on a real node (SQLite, and PostgreSQL where it
 * runs): a repeat-prescription online consultation arrives through the public form, is listed (and
 * counted in the backlog) before anyone matched it to a patient, is matched to the patient's repeat
 * templates by the patient's words once matched, and is rejected with a reason once; every step audited.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RepeatDecisionResponse, RepeatRequestsResponse } from '@steadfast/domain/api/prescriptions';
import { submissionRecordId } from '@steadfast/domain/online-consultations';
import { ALWAYS_OPEN, sampleSubmission, submitFrom } from '../online-consultations/fixtures.ts';
import { backends, startTestNode, type TestNode } from '../testing/harness.ts';
import { EPS_PATIENT, template } from './out-fixtures.ts';
import { patient as anotherPatient, repeat, VMP } from './fixtures.ts';
import { isValidPrescriptionId } from '@steadfast/domain/medicines/prescription-id';
import { catchUpEpsQueue, prescriptionOutStatus } from './prescriptions-out.ts';
import { namesMedicine } from './repeat-requests.ts';

const PRACTICE = 'A83008';

export function repeatSubmission(medication: string) {
  return sampleSubmission({
    kind: 'admin',
    redFlags: { 'rf-self-harm': false },
    answers: { 'admin-type': 'repeat-prescription', medication, details: 'I have run out, please can I have more' },
    identity: { givenName: 'Adaeze', familyName: 'Okafor', birthDate: '1961-03-09', postcode: 'DL4 2HP', mobile: '07700 900456' },
  });
}

it('words name a medicine by a word of its name, forms and units aside', () => {
  assert.equal(namesMedicine('my amlodipine please', 'Amlodipine 5mg tablets'), true);
  assert.equal(namesMedicine('amlodopine', 'Amlodipine 5mg tablets'), false, 'a misspelling is not a match; the prescriber picks');
  assert.equal(namesMedicine('my tablets', 'Amlodipine 5mg tablets'), false, '"tablets" names no medicine');
  assert.equal(namesMedicine('Atorva', 'Atorvastatin 20mg tablets'), true, 'a beginning of five letters or more');
});

for (const { backend, skip } of await backends()) {
  describe(`repeat requests (${backend})`, { skip }, () => {
    let node: TestNode;
    before(async () => {
      node = await startTestNode({ backend, practice: PRACTICE, config: { outbox: { disabled: true }, onlineConsultations: { ...ALWAYS_OPEN }, prescriptionsOut: { queueDisabled: true } } });
    });
    after(async () => node?.close());

    const list = async (state = 'waiting') => (await (await node.fetchAs('clinician', `/api/medicines/repeat-requests?state=${state}`)).json()) as RepeatRequestsResponse;
    const backlog = async () => ((await (await node.fetchAs('practice-admin', '/api/backlog')).json()) as { figures: Array<{ kind: string; count: number }> }).figures;

    it('an unmatched request is listed and counted, once matched it lists the active repeats (named ones first), it is rejected once with a reason, audited', async () => {
      const s = repeatSubmission('Amlodipine');
      const sent = await submitFrom(node.url, s, 1, `/api/public/online-consultations/${PRACTICE}`);
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const id = submissionRecordId(PRACTICE, s.submissionId);
      // Also a medical request: not a repeat request.
      assert.equal((await submitFrom(node.url, sampleSubmission(), 2, `/api/public/online-consultations/${PRACTICE}`)).status, 201);

      let q = await list();
      assert.equal(q.requests.length, 1);
      assert.equal(q.requests[0]!.id, id);
      assert.equal(q.requests[0]!.patientId, null);
      assert.equal(q.requests[0]!.requestedText, 'Amlodipine');
      assert.equal(q.waitingUnmatched, 1);
      const figures = await backlog();
      assert.equal(figures.find((f) => f.kind === 'repeat-requests-waiting')?.count, 1);
      assert.equal(figures.find((f) => f.kind === 'repeat-requests-unmatched')?.count, 1);
      // Not issuable before a person matched it to a registered patient.
      const early = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/issue`, { method: 'POST', json: { templateIds: ['x'], idempotencyKey: crypto.randomUUID() } });
      assert.equal(early.status, 400);
      assert.match(await early.text(), /Match the request/);

      const patient = await node.create('clinician', EPS_PATIENT);
      const statin = await node.create('clinician', template(patient.id, 'Atorvastatin 20mg tablets', '320000009'));
      const amlo = await node.create('clinician', template(patient.id, 'Amlodipine 5mg tablets', '319283006'));
      await node.create('clinician', { ...template(patient.id, 'Ramipril 5mg capsules', '408051007'), status: 'stopped', statusReason: { text: 'Cough' } });
      const matched = await node.fetchAs('receptionist', `/api/online-consultations/${id}/match`, { method: 'POST', json: { patientId: patient.id } });
      assert.equal(matched.status, 200, await matched.text());

      q = await list();
      const r = q.requests[0]!;
      assert.equal(r.patientId, patient.id);
      assert.equal(q.waitingUnmatched, 0);
      assert.deepEqual(r.items.map((i) => [i.templateId, i.matched]), [[amlo.id, true], [statin.id, false]], 'active repeats only, the named one first');
      assert.equal(r.items[0]!.reviewDate, '2027-04-01');

      // Bad input, each named: no templates, a template not of this patient, no key, no reason.
      const none = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/issue`, { method: 'POST', json: { templateIds: [], idempotencyKey: crypto.randomUUID() } });
      assert.equal(none.status, 400);
      assert.match(await none.text(), /templateIds/);
      const foreign = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/issue`, { method: 'POST', json: { templateIds: ['someone-elses'], idempotencyKey: crypto.randomUUID() } });
      assert.equal(foreign.status, 400);
      assert.match(await foreign.text(), /Not an active repeat template of this patient/);
      assert.equal((await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/issue`, { method: 'POST', json: { templateIds: [amlo.id] } })).status, 400);
      const short = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/reject`, { method: 'POST', json: { reason: 'no' } });
      assert.equal(short.status, 400);
      assert.match(await short.text(), /reason/);
      assert.equal((await node.fetchAs('receptionist', `/api/medicines/repeat-requests`)).status, 403);

      const rejected = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/reject`, { method: 'POST', json: { reason: 'Review due: please book a medication review' } });
      assert.equal(rejected.status, 200, await rejected.clone().text());
      const decided = (await rejected.json()) as RepeatDecisionResponse;
      assert.equal(decided.request.state, 'rejected');
      assert.equal(decided.request.reason, 'Review due: please book a medication review');
      assert.equal((await list()).requests.length, 0);
      assert.equal((await list('rejected')).requests.length, 1);
      const twice = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/reject`, { method: 'POST', json: { reason: 'Changed my mind about it' } });
      assert.equal(twice.status, 409);
      const issueAfter = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${id}/issue`, { method: 'POST', json: { templateIds: [amlo.id], idempotencyKey: crypto.randomUUID() } });
      assert.equal(issueAfter.status, 409, 'decided once');
      assert.equal((await backlog()).find((f) => f.kind === 'repeat-requests-waiting')?.count, 0);
      const audit = await (await node.fetchAs('practice-admin', `/api/audit?patient=Patient/${patient.id}`)).text();
      assert.match(audit, /rejected: Review due/);
    });

    it('a request is issued from the queue through the medicines issue route once, a refusal of that route comes back, and the issue goes to EPS', async () => {
      const p = await node.create('clinician', anotherPatient('Adeyemi'));
      const prescribed = await node.fetchAs('clinician', `/api/patients/${p.id}/prescriptions`, { method: 'POST', json: repeat(VMP.salbutamol) });
      assert.equal(prescribed.status, 201, await prescribed.clone().text());
      const { template: t } = (await prescribed.json()) as { template: { id: string } };
      const path = `/api/public/online-consultations/${PRACTICE}`;
      const first = repeatSubmission('my salbutamol inhaler');
      const second = repeatSubmission('salbutamol again please');
      assert.equal((await submitFrom(node.url, first, 3, path)).status, 201);
      assert.equal((await submitFrom(node.url, second, 4, path)).status, 201);
      const ids = [first, second].map((s) => submissionRecordId(PRACTICE, s.submissionId));
      for (const id of ids) assert.equal((await node.fetchAs('receptionist', `/api/online-consultations/${id}/match`, { method: 'POST', json: { patientId: p.id } })).status, 200);
      const q = await list();
      const mine = q.requests.find((r) => r.id === ids[0])!;
      assert.deepEqual(mine.items.map((i) => [i.templateId, i.matched]), [[t.id, true]]);

      const key = crypto.randomUUID();
      const issue = () => node.fetchAs('clinician', `/api/medicines/repeat-requests/${ids[0]}/issue`, { method: 'POST', json: { templateIds: [t.id], idempotencyKey: key } });
      const res = await issue();
      assert.equal(res.status, 200, await res.clone().text());
      const decided = (await res.json()) as RepeatDecisionResponse;
      assert.equal(decided.request.state, 'issued');
      assert.equal(decided.issued!.length, 1);
      assert.ok(isValidPrescriptionId(decided.issued![0]!.prescriptionId));
      assert.deepEqual(decided.request.issueIds, [decided.issued![0]!.issueId]);
      // A retried decision (same key) issues nothing more.
      const retried = (await (await issue()).json()) as RepeatDecisionResponse;
      assert.deepEqual(retried.issued, decided.issued);
      const issues = (await node.store.search({ resourceType: 'MedicationRequest', params: [{ name: 'patient', values: [`Patient/${p.id}`] }], count: 100, offset: 0 })).resources.filter((m) => (m as { intent?: string }).intent === 'order');
      assert.equal(issues.length, 2, 'the first issue at prescribing and one from the queue');

      // The template's two authorised issues are used: the issue route refuses, the queue says why, the request still waits.
      const refused = await node.fetchAs('clinician', `/api/medicines/repeat-requests/${ids[1]}/issue`, { method: 'POST', json: { templateIds: [t.id], idempotencyKey: crypto.randomUUID() } });
      assert.equal(refused.status, 409);
      assert.match(await refused.text(), /no issues left/);
      assert.ok((await list()).requests.some((r) => r.id === ids[1]), 'still waiting');

      // The issue made from the queue goes out like any other.
      await catchUpEpsQueue(node.store);
      const st = await prescriptionOutStatus(node.store, decided.issued![0]!.issueId);
      assert.equal(st.eps, 'queued');
      assert.equal(st.prescriptionId, decided.issued![0]!.prescriptionId);
      const audit = await (await node.fetchAs('practice-admin', `/api/audit?patient=Patient/${p.id}`)).text();
      assert.match(audit, new RegExp(`issued: ${decided.issued![0]!.prescriptionId}`));
    });
  });
}
