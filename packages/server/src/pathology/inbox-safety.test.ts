/**
 * The results inbox names the patient on every row, shows the abnormal flags, and does not let an
 * abnormal or critical result be filed as "normal, no action" by a slip of the radio button.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import type { ResultsInbox } from '@steadfast/domain/api';

async function receive(node: TestNode, n: number, obx: Parameters<typeof buildOru>[0]['obx']) {
  const nhs = testNhsNumber(6200 + n);
  const patient = await node.create('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }], name: [{ use: 'official', family: 'Inbox', given: [`Ida${n}`] }], birthDate: '1961-07-08' });
  const oru = buildOru({ messageId: `SAFE-${n}`, nhsNumber: nhs, family: 'Inbox', given: `Ida${n}`, birthDate: '19610708', filler: `SAFEF${n}`, test: ['UE', 'Urea and electrolytes'], obx });
  const res = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: oru, headers: { 'content-type': 'x-application/hl7-v2+er7' } });
  assert.equal(res.status, 200, await res.clone().text());
  const inbox = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=all')).json()) as ResultsInbox;
  const item = inbox.items.find((i) => i.patient === `Patient/${patient.id}`);
  assert.ok(item, 'the result is in the inbox');
  return { item, nhs, patient };
}

test('results inbox rows name the patient (name, NHS number, date of birth) and carry the abnormal flags', async () => {
  const node = await startTestNode();
  try {
    const { item, nhs } = await receive(node, 1, [
      { code: 'K', display: 'Potassium', value: '6.9', units: 'mmol/L', range: '3.5-5.3', flag: 'HH' },
      { code: 'NA', display: 'Sodium', value: '140', units: 'mmol/L', range: '133-146', flag: 'N' },
      { code: 'CREA', display: 'Creatinine', value: '130', units: 'umol/L', range: '45-110', flag: 'H' },
    ]);
    assert.equal(item.patientDetails?.nhsNumber, nhs);
    assert.equal(item.patientDetails?.birthDate, '1961-07-08');
    assert.equal(item.patientDetails?.name?.family, 'Inbox');
    assert.deepEqual(item.abnormal.map((a) => `${a.test} ${a.flag}`).sort(), ['Creatinine H', 'Potassium HH']);

    const view = (await (await node.fetchAs('clinician', `/api/pathology/inbox/${item.taskId}`)).json()) as { patient: { nhsNumber?: string } };
    assert.equal(view.patient.nhsNumber, nhs, 'the result screen carries the NHS number');

    const admin = (await (await node.fetchAs('practice-admin', '/api/pathology/inbox?scope=all')).json()) as ResultsInbox;
    assert.ok(admin.items.some((i) => i.taskId === item.taskId), 'the practice manager sees the list, not only counts');
    const moved = await node.fetchAs('practice-admin', `/api/tasks/${item.taskId}`, { method: 'POST', json: { owner: node.users.clinician.id } });
    assert.equal(moved.status, 200, 'and can reassign it');
    const mine = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=mine')).json()) as ResultsInbox;
    assert.ok(mine.items.some((i) => i.taskId === item.taskId), 'it reaches the clinician it was given to');
    assert.equal((await node.fetchAs('practice-admin', `/api/pathology/inbox/${item.taskId}`)).status, 403, 'only a clinician opens a result');
  } finally {
    await node.close();
  }
});

test('regression: an abnormal or critical result could be filed as "normal, no action" with one click (server refuses with 409 unless confirmed)', async () => {
  const node = await startTestNode();
  try {
    const { item } = await receive(node, 2, [{ code: 'K', display: 'Potassium', value: '6.9', units: 'mmol/L', range: '3.5-5.3', flag: 'HH' }]);
    const refused = await node.fetchAs('clinician', `/api/pathology/inbox/${item.taskId}/file`, { method: 'POST', json: { action: 'normal' } });
    assert.equal(refused.status, 409, await refused.clone().text());
    const outcome = JSON.stringify(await refused.json());
    assert.match(outcome, /critical/);
    assert.match(outcome, /Potassium HH/);
    assert.equal(((await node.store.read('Task', item.taskId))!.resource as Task).status, 'requested', 'nothing was filed');

    const urgent = await node.fetchAs('clinician', `/api/pathology/inbox/${item.taskId}/file`, { method: 'POST', json: { action: 'urgent-contact' } });
    assert.equal(urgent.status, 200, 'another action needs no confirmation');

    const second = await receive(node, 3, [{ code: 'K', display: 'Potassium', value: '5.6', units: 'mmol/L', range: '3.5-5.3', flag: 'H' }]);
    const confirmed = await node.fetchAs('clinician', `/api/pathology/inbox/${second.item.taskId}/file`, { method: 'POST', json: { action: 'normal', confirmAbnormal: true, comment: 'Haemolysed sample' } });
    assert.equal(confirmed.status, 200, await confirmed.clone().text());
    assert.match(await (await node.fetchAs('practice-admin', '/api/audit')).text(), /abnormal values confirmed as normal/, 'the confirmation is in the audit trail');

    const normal = await receive(node, 4, [{ code: 'NA', display: 'Sodium', value: '140', units: 'mmol/L', range: '133-146', flag: 'N' }]);
    const plain = await node.fetchAs('clinician', `/api/pathology/inbox/${normal.item.taskId}/file`, { method: 'POST', json: { action: 'normal' } });
    assert.equal(plain.status, 200, 'a normal result files as normal without a question');
  } finally {
    await node.close();
  }
});
