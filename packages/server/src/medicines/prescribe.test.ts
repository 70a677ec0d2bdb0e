/**
 * Prescribing at a real node (SQLite, the full app on a socket): acute and repeat items as FHIR
 * MedicationRequests, the server re-running every check (409, nothing written), overrides recorded
 * on the record and in the audit trail, issues counted against the authorisation, idempotent retries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MedicationRequest, OperationOutcome } from '@medplum/fhirtypes';
import type { AlertsOutcome, IssueResponse, PrescribeResponse, ReauthoriseResponse } from '@steadfast/domain/api';
import { ALERT_OVERRIDE_EXTENSION, isValidPrescriptionId, LAST_ISSUE_EXTENSION, PRESCRIPTION_ORDER_NUMBER_SYSTEM } from '@steadfast/domain/medicines';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { acute, inDays, patient, penicillinAllergy, repeat, VMP } from './fixtures.ts';

let node: TestNode;
before(async () => {
  node = await startTestNode();
});
after(async () => {
  await node?.close();
});

const post = (path: string, json: unknown, role: 'clinician' | 'receptionist' | 'practice-admin' = 'clinician') => node.fetchAs(role, path, { method: 'POST', json });
const prescribe = (patientId: string, json: unknown, role?: 'clinician' | 'receptionist' | 'practice-admin') => post(`/api/patients/${patientId}/prescriptions`, json, role);
const read = async (id: string | undefined) => (await (await node.fetchAs('clinician', `/fhir/R4/MedicationRequest/${id}`)).json()) as MedicationRequest & { meta: { versionId: string } };
const medsOf = async (patientId: string) => (await node.store.search({ resourceType: 'MedicationRequest', params: [{ name: 'patient', values: [`Patient/${patientId}`] }], count: 100, offset: 0 })).resources as MedicationRequest[];

describe('prescribing at a node', () => {
  test('an acute item: one MedicationRequest (intent order, course acute, dm+d coded, EPS prescription id) in the change log and the audit trail', async () => {
    const p = await node.create('clinician', patient());
    const seqBefore = (await node.store.changesSince(0, 100000)).length;
    const res = await prescribe(p.id, acute());
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as PrescribeResponse;
    assert.equal(body.duplicate, false);
    assert.equal(body.template, undefined);
    assert.ok(isValidPrescriptionId(body.issue.prescriptionId), body.issue.prescriptionId);
    const m = await read(body.issue.id);
    assert.equal(m.intent, 'order');
    assert.equal(m.status, 'active');
    assert.equal(m.courseOfTherapyType?.coding?.[0]?.code, 'acute');
    assert.deepEqual(m.medicationCodeableConcept?.coding?.[0], { system: 'https://dmd.nhs.uk', code: VMP.amox500, display: 'Amoxicillin 500mg capsules' });
    assert.equal(m.identifier?.find((i) => i.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM)?.value, body.issue.prescriptionId);
    assert.deepEqual(m.dispenseRequest?.quantity, { value: 15, unit: 'capsule' });
    assert.equal(m.dispenseRequest?.expectedSupplyDuration?.value, 5);
    assert.equal(m.dosageInstruction?.[0]?.text, 'One capsule three times a day for 5 days');
    assert.deepEqual(m.dosageInstruction?.[0]?.timing?.repeat, { frequency: 3, period: 1, periodUnit: 'd' });
    assert.equal(m.requester?.display, node.users.clinician.name);
    assert.equal((await node.store.changesSince(0, 100000)).length, seqBefore + 1, 'one change-log entry: it syncs');
    const trail = await node.audit.list({ patient: `Patient/${p.id}` });
    assert.ok(trail.some((e) => e.event === 'create' && e.resource === `MedicationRequest/${body.issue.id}` && /prescribed acute Amoxicillin 500mg capsules/.test(e.detail ?? '')));
  });

  test('a retried submit (same idempotencyKey) issues once and answers the same ids; the key cannot be reused for another patient', async () => {
    const p = await node.create('clinician', patient());
    const req = acute(VMP.paracetamol, { dosageText: 'Two tablets up to four times a day', dosePerAdministration: 2, frequencyPerDay: 4, quantity: { value: 100, unit: 'tablet' }, days: undefined });
    const first = (await (await prescribe(p.id, req)).json()) as PrescribeResponse;
    const retry = await prescribe(p.id, req);
    assert.equal(retry.status, 200);
    const again = (await retry.json()) as PrescribeResponse;
    assert.equal(again.duplicate, true);
    assert.deepEqual(again.issue, first.issue);
    assert.equal((await medsOf(p.id)).length, 1, 'one MedicationRequest, not two');
    const other = await node.create('clinician', patient('Other'));
    const misuse = await prescribe(other.id, req);
    assert.equal(misuse.status, 409);
    assert.match(JSON.stringify(await misuse.json()), /idempotencyKey/);
    assert.equal((await medsOf(other.id)).length, 0);
  });

  test('a retry with an edited form is not answered with the old prescription as success: 409 naming what differs, nothing written (review finding 5)', async () => {
    const p = await node.create('clinician', patient());
    const req = acute(VMP.amox500);
    const first = await prescribe(p.id, req);
    assert.equal(first.status, 201, await first.clone().text());
    const edits: Array<[Partial<typeof req>, string]> = [
      [{ quantity: { value: 21, unit: 'capsule' } }, 'quantity'],
      [{ dosePerAdministration: 2 }, 'dosePerAdministration'],
      [{ frequencyPerDay: 2 }, 'frequencyPerDay'],
      [{ dosageText: 'One capsule twice a day' }, 'dosageText'],
      [{ days: 7 }, 'days'],
      [{ vmp: VMP.paracetamol, quantity: { value: 15, unit: 'tablet' } }, 'vmp'],
    ];
    for (const [edit, field] of edits) {
      const res = await prescribe(p.id, { ...req, ...edit });
      assert.equal(res.status, 409, `${field}: ${await res.clone().text()}`);
      const outcome = (await res.json()) as OperationOutcome;
      assert.equal(outcome.issue?.[0]?.expression?.[0], field, JSON.stringify(outcome));
      assert.match(outcome.issue?.[0]?.diagnostics ?? '', new RegExp(`idempotencyKey.*${field}`));
    }
    const meds = await medsOf(p.id);
    assert.equal(meds.length, 1, 'still the one MedicationRequest');
    assert.deepEqual(meds[0]!.dispenseRequest?.quantity, { value: 15, unit: 'capsule' }, 'the first prescription is unchanged');
    const same = await prescribe(p.id, req);
    assert.equal(same.status, 200, 'the unedited retry is still answered as a duplicate');
    const weekly = acute(VMP.paracetamol, { dosageText: 'One tablet once a week', dosePerAdministration: 1, frequencyPerDay: 1 / 7, quantity: { value: 4, unit: 'tablet' }, days: 28 });
    assert.equal((await prescribe(p.id, weekly)).status, 201);
    assert.equal((await prescribe(p.id, weekly)).status, 200, 'a weekly frequency (stored as once in 7 days) matches its retry');
  });

  test('a penicillin allergy: 409 with the alert and nothing written; a too-short reason is a 400 naming the field; a reason lets it through and is recorded', async () => {
    const p = await node.create('clinician', patient());
    await node.create('clinician', penicillinAllergy(p.id));
    const req = acute();
    const refused = await prescribe(p.id, req);
    assert.equal(refused.status, 409);
    const outcome = (await refused.json()) as AlertsOutcome;
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.deepEqual(outcome.alerts.map((a) => [a.id, a.severity]), [[`allergy:penicillin-class:${VMP.amox500}`, 'stop']]);
    assert.match(outcome.issue[0]!.diagnostics, /Allergy to penicillin/);
    assert.equal((await medsOf(p.id)).length, 0, 'nothing written');
    const failures = await node.audit.list({ patient: `Patient/${p.id}` });
    assert.ok(failures.some((e) => e.outcome === 'failure' && /refused: 1 alert/.test(e.detail ?? '')), 'the refusal is audited');

    const short = await prescribe(p.id, { ...req, overrides: [{ alertId: outcome.alerts[0]!.id, reason: 'ok' }] });
    assert.equal(short.status, 400);
    assert.deepEqual(((await short.json()) as OperationOutcome).issue?.[0]?.expression, ['overrides[0].reason']);

    const reason = 'Took amoxicillin in 2024 without reaction; allergy label was a viral rash';
    const ok = await prescribe(p.id, { ...req, overrides: [{ alertId: outcome.alerts[0]!.id, reason }] });
    assert.equal(ok.status, 201);
    const body = (await ok.json()) as PrescribeResponse;
    assert.deepEqual(body.alerts.map((a) => [a.id, a.overrideReason]), [[outcome.alerts[0]!.id, reason]]);
    const m = await read(body.issue.id);
    const ext = m.extension?.find((e) => e.url === ALERT_OVERRIDE_EXTENSION);
    assert.equal(ext?.extension?.find((x) => x.url === 'reason')?.valueString, reason);
    assert.equal(ext?.extension?.find((x) => x.url === 'severity')?.valueCode, 'stop');
    assert.match(m.note?.[0]?.text ?? '', /Overrode STOP \(allergy\).*Reason: Took amoxicillin/);
    const trail = await node.audit.list({ patient: `Patient/${p.id}` });
    assert.ok(trail.some((e) => e.outcome === 'success' && (e.detail ?? '').includes(`medicine alert overridden: ${outcome.alerts[0]!.id} (stop)`) && (e.detail ?? '').includes(reason)));
  });

  test('an override for one alert does not let another through; the server re-checks against the record, not the browser', async () => {
    const p = await node.create('clinician', patient());
    const d = await prescribe(p.id, repeat(VMP.diazepam, { dosageText: 'One tablet three times a day', dosePerAdministration: 1, frequencyPerDay: 3, quantity: { value: 84, unit: 'tablet' } }));
    assert.equal(d.status, 201);
    const morphine = acute(VMP.morphine10, { dosageText: 'One tablet twice a day', dosePerAdministration: 1, frequencyPerDay: 2, quantity: { value: 56, unit: 'tablet' }, days: 28, overrides: [{ alertId: 'allergy:penicillin-class:x', reason: 'not the alert raised' }] });
    const res = await prescribe(p.id, morphine);
    assert.equal(res.status, 409);
    assert.deepEqual(((await res.json()) as AlertsOutcome).alerts.map((a) => a.id), [`interaction:opioid-benzodiazepine:${VMP.morphine10}`]);
  });

  test('a repeat: a template (intent plan, continuous, authorised issues, review date) and its first issue basedOn it; issues count down to a 409; re-authorise; a stopped repeat is not issued', async () => {
    const p = await node.create('clinician', patient());
    const req = repeat();
    const res = await prescribe(p.id, req);
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as PrescribeResponse;
    const t = await read(body.template!.id);
    assert.equal(t.intent, 'plan');
    assert.equal(t.courseOfTherapyType?.coding?.[0]?.code, 'continuous');
    assert.equal(t.dispenseRequest?.numberOfRepeatsAllowed, 2);
    assert.equal(t.dispenseRequest?.validityPeriod?.end, req.repeat!.reviewDate);
    assert.equal(t.identifier?.some((i) => i.system === PRESCRIPTION_ORDER_NUMBER_SYSTEM), false, 'a template is not a prescription');
    const first = await read(body.issue.id);
    assert.deepEqual(first.basedOn, [{ reference: `MedicationRequest/${t.id}` }]);
    assert.equal(first.intent, 'order');

    const issue = (key = randomUUID()) => post(`/api/medication-requests/${t.id}/issue`, { idempotencyKey: key });
    const key = randomUUID();
    const second = await issue(key);
    assert.equal(second.status, 201, await second.clone().text());
    const secondBody = (await second.json()) as IssueResponse;
    assert.equal(secondBody.issuesLeft, 0);
    assert.notEqual(secondBody.issue.prescriptionId, body.issue.prescriptionId);
    assert.equal((await read(t.id)).extension?.find((e) => e.url === LAST_ISSUE_EXTENSION)?.valueReference?.reference, `MedicationRequest/${secondBody.issue.id}`, 'each issue edits the template');
    const retried = await issue(key);
    assert.equal(retried.status, 200);
    assert.equal(((await retried.json()) as IssueResponse).duplicate, true);
    const none = await issue();
    assert.equal(none.status, 409);
    assert.match(JSON.stringify(await none.json()), /no issues left \(2 of 2 issued\).*re-authorise/);
    assert.equal((await medsOf(p.id)).length, 3, 'template and two issues');

    assert.equal((await post(`/api/medication-requests/${t.id}/reauthorise`, { authorisedIssues: 3, reviewDate: inDays(-1) })).status, 400, 'a review date in the past');
    const re = await post(`/api/medication-requests/${t.id}/reauthorise`, { authorisedIssues: 3, reviewDate: inDays(90) });
    assert.equal(re.status, 200, await re.clone().text());
    assert.equal(((await re.json()) as ReauthoriseResponse).issuesLeft, 3);
    assert.equal((await read(t.id)).dispenseRequest?.numberOfRepeatsAllowed, 5, 'the two issued plus three more: the Medications tab shows 3 left');
    assert.equal((await issue()).status, 201);

    const current = await read(t.id);
    const stop = await node.fetchAs('clinician', `/fhir/R4/MedicationRequest/${t.id}`, { method: 'PUT', headers: { 'if-match': `W/"${current.meta.versionId}"` }, json: { ...current, status: 'stopped', statusReason: { text: 'Asthma reviewed: not needed' } } });
    assert.equal(stop.status, 200, await stop.clone().text());
    const stopped = await issue();
    assert.equal(stopped.status, 409);
    assert.match(JSON.stringify(await stopped.json()), /stopped \(Asthma reviewed: not needed\)/);
    assert.equal((await post(`/api/medication-requests/${body.issue.id}/issue`, { idempotencyKey: randomUUID() })).status, 400, 'an issue is not a template');
  });

  test('a stop without a reason is refused by the server, whichever way it is written: 400 naming statusReason, nothing written (review finding 7)', async () => {
    const p = await node.create('clinician', patient());
    const made = (await (await prescribe(p.id, acute())).json()) as PrescribeResponse;
    const current = await read(made.issue.id);
    const put = (json: unknown) => node.fetchAs('clinician', `/fhir/R4/MedicationRequest/${made.issue.id}`, { method: 'PUT', headers: { 'if-match': `W/"${current.meta.versionId}"` }, json });
    for (const body of [{ ...current, status: 'stopped' }, { ...current, status: 'stopped', statusReason: { text: '  ' } }, { ...current, status: 'cancelled' }]) {
      const res = await put(body);
      assert.equal(res.status, 400, await res.clone().text());
      const outcome = (await res.json()) as OperationOutcome;
      assert.match(outcome.issue?.[0]?.expression?.[0] ?? '', /^MedicationRequest\.statusReason/, JSON.stringify(outcome));
    }
    const bundle = await post('/fhir/R4', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...current, status: 'stopped' }, request: { method: 'PUT', url: `MedicationRequest/${made.issue.id}` } }] });
    assert.equal(bundle.status, 400, await bundle.clone().text());
    assert.match(await bundle.text(), /statusReason/);
    const created = await post('/fhir/R4/MedicationRequest', { ...current, id: undefined, meta: undefined, identifier: undefined, status: 'stopped' });
    assert.equal(created.status, 400, 'created already stopped needs a reason too');
    await assert.rejects(
      node.store.transaction({ author: node.users.clinician.id }, (tx) => tx.write([{ kind: 'update', resource: { ...current, status: 'stopped' } }])),
      (err: Error & { field?: string }) => err.field === 'MedicationRequest.statusReason',
      "a capability's own write passes the same check",
    );
    assert.equal((await read(made.issue.id)).status, 'active', 'nothing was written');
    assert.equal((await medsOf(p.id)).length, 1);
    const stopped = await put({ ...current, status: 'stopped', statusReason: { text: 'Rash on day 2' } });
    assert.equal(stopped.status, 200, await stopped.clone().text());
    const v2 = (await stopped.json()) as MedicationRequest & { meta: { versionId: string } };
    const { statusReason: _r, ...noReason } = v2;
    const edited = await node.fetchAs('clinician', `/fhir/R4/MedicationRequest/${made.issue.id}`, { method: 'PUT', headers: { 'if-match': `W/"${v2.meta.versionId}"` }, json: { ...noReason, note: [{ text: 'checked' }] } });
    assert.equal(edited.status, 200, 'an item already stopped (imported or synced as it came) may be edited without a new reason');
  });

  test('a repeat whose review date has passed is not issued until re-authorised', async () => {
    const p = await node.create('clinician', patient());
    const body = (await (await prescribe(p.id, repeat(VMP.salbutamol, { repeat: { authorisedIssues: 6, reviewDate: inDays(30) } }))).json()) as PrescribeResponse;
    const t = await read(body.template!.id);
    const put = await node.fetchAs('clinician', `/fhir/R4/MedicationRequest/${t.id}`, { method: 'PUT', headers: { 'if-match': `W/"${t.meta.versionId}"` }, json: { ...t, dispenseRequest: { ...t.dispenseRequest, validityPeriod: { start: inDays(-400), end: inDays(-2) } } } });
    assert.equal(put.status, 200, await put.clone().text());
    const res = await post(`/api/medication-requests/${t.id}/issue`, { idempotencyKey: randomUUID() });
    assert.equal(res.status, 409);
    assert.match(JSON.stringify(await res.json()), /due for review/);
    assert.equal((await post(`/api/medication-requests/${t.id}/reauthorise`, { authorisedIssues: 6, reviewDate: inDays(180) })).status, 200);
    assert.equal((await post(`/api/medication-requests/${t.id}/issue`, { idempotencyKey: randomUUID() })).status, 201);
  });

  test('issuing a repeat re-runs the checks against what is current now (a new interaction since it was authorised)', async () => {
    const p = await node.create('clinician', patient());
    const t = (await (await prescribe(p.id, repeat(VMP.diazepam, { dosageText: 'One tablet at night', dosePerAdministration: 1, frequencyPerDay: 1, quantity: { value: 28, unit: 'tablet' } }))).json()) as PrescribeResponse;
    const m = acute(VMP.morphine10, { dosageText: 'One tablet twice a day', dosePerAdministration: 1, frequencyPerDay: 2, quantity: { value: 56, unit: 'tablet' }, days: 28, overrides: [{ alertId: `interaction:opioid-benzodiazepine:${VMP.morphine10}`, reason: 'Palliative care plan agreed with the hospice' }] });
    assert.equal((await prescribe(p.id, m)).status, 201);
    const res = await post(`/api/medication-requests/${t.template!.id}/issue`, { idempotencyKey: randomUUID() });
    assert.equal(res.status, 409);
    const alerts = ((await res.json()) as AlertsOutcome).alerts;
    assert.deepEqual(alerts.map((a) => a.id), [`interaction:opioid-benzodiazepine:${VMP.diazepam}`], 'the template itself is not a duplicate of its own issue');
    const ok = await post(`/api/medication-requests/${t.template!.id}/issue`, { idempotencyKey: randomUUID(), overrides: [{ alertId: alerts[0]!.id, reason: 'Palliative care plan agreed with the hospice' }] });
    assert.equal(ok.status, 201);
  });

  test('bad input: one 400 listing every problem by field; unknown patient 404; receptionists and practice admins may not prescribe', async () => {
    const p = await node.create('clinician', patient());
    const res = await prescribe(p.id, { vmp: VMP.amox500, dosageText: '', quantity: { value: 10, unit: 'tablet' }, idempotencyKey: 'not-a-uuid' });
    assert.equal(res.status, 400);
    const fields = (((await res.json()) as OperationOutcome).issue ?? []).flatMap((i) => i.expression ?? []);
    assert.deepEqual(fields, ['kind', 'dosageText', 'quantity.unit', 'idempotencyKey']);
    assert.equal((await prescribe(p.id, { ...repeat(), repeat: undefined })).status, 400);
    assert.equal((await prescribe(p.id, acute('123456789'))).status, 400);
    assert.equal((await prescribe('no-such-patient', acute())).status, 404);
    assert.equal((await prescribe(p.id, acute(), 'receptionist')).status, 403);
    assert.equal((await prescribe(p.id, acute(), 'practice-admin')).status, 403);
    assert.equal((await medsOf(p.id)).length, 0);
  });
});
