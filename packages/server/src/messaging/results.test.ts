/**
 * Results messages from the results inbox: filing a result with "normal, no action" or "please book a
 * routine appointment" queues the practice's template to the patient in the filing transaction and it
 * reaches the local Notify server through the production channel; a patient who cannot be texted
 * gets a reception task instead; a message that does not match the filing is refused, nothing filed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Communication, Patient, Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from '@steadfast/domain';
import type { ResultMessageOutcome } from '@steadfast/domain/api';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { createOutboxDrainer } from '../outbox/drainer.ts';
import { ingestHl7 } from '../pathology/ingest.ts';
import { DEFAULT_TEMPLATES as NOTIFY_TEMPLATES, DEMO_TEST_KEY, startFakeNotify, type FakeNotify } from './fake-notify/server.ts';
import { messaging } from './index.ts';
import { TELL_PATIENT_RESULT_TASK_CODE } from './results.ts';

function result(n: number, family: string, messageId: string) {
  return buildOru({ messageId, nhsNumber: testNhsNumber(n), family, given: 'Robin', birthDate: '19660203', filler: `ACC-${messageId}`, test: ['HBA1C', 'HbA1c'], observedAt: '202611201000', obx: [{ code: 'HBA1C', display: 'HbA1c', value: '38', units: 'mmol/mol', range: '20-41', flag: '' }] });
}

describe('results messages on filing', () => {
  let fake: FakeNotify;
  let node: TestNode;
  const patients: Record<string, string> = {};

  before(async () => {
    fake = await startFakeNotify({ deliveryDelayMs: 5 });
    node = await startTestNode({ config: { outbox: { disabled: true }, messaging: { practiceName: 'Test Surgery', notify: { baseUrl: fake.url, apiKey: DEMO_TEST_KEY, templates: { sms: NOTIFY_TEMPLATES[0]!.id } } } } });
    for (const [i, family] of ['Texted', 'Nophone', 'Donotcontact'].entries()) {
      const p = await node.create<Patient>('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(800 + i) }], name: [{ family, given: ['Robin'] }], birthDate: '1966-02-03', gender: 'male' });
      patients[family] = p.id;
      await ingestHl7({ store: node.store }, result(800 + i, family, `R${i}`), 'mllp');
    }
    await node.fetchAs('receptionist', `/api/messaging/patients/${patients.Texted}/contact`, { method: 'PUT', json: { mobile: '07700 900222', smsConsent: true } });
    await node.fetchAs('receptionist', `/api/messaging/patients/${patients.Donotcontact}/contact`, { method: 'PUT', json: { mobile: '07700 900333', smsConsent: true, doNotContact: true } });
  });
  after(async () => {
    await node?.close();
    await fake?.stop();
  });

  async function taskFor(family: string): Promise<string> {
    const pool = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=all')).json()) as { items: Array<{ taskId: string; patient: string }> };
    return pool.items.find((i) => i.patient === `Patient/${patients[family]}`)!.taskId;
  }
  const file = (taskId: string, json: unknown) => node.fetchAs('clinician', `/api/pathology/inbox/${taskId}/file`, { method: 'POST', json });

  it('refuses a "normal" text with a result filed as urgent, and files nothing', async () => {
    const taskId = await taskFor('Texted');
    const res = await file(taskId, { action: 'urgent-contact', message: 'result-normal' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /urgent result is told to the patient by phone/);
    const mismatch = await file(taskId, { action: 'routine-appointment', message: 'result-normal' });
    assert.equal(mismatch.status, 400);
    assert.match(await mismatch.text(), /does not match filing the result as \\"Needs a routine appointment\\"/);
    assert.equal(((await node.store.read('Task', taskId))!.resource as Task).status, 'requested', 'still waiting in the inbox');
  });

  it('filed normal with the "normal, no action" message: queued in the filing, delivered through Notify, recorded as a Communication', async () => {
    const taskId = await taskFor('Texted');
    const res = await file(taskId, { action: 'normal', message: 'result-normal' });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { message: ResultMessageOutcome };
    assert.equal(body.message.outcome, 'queued');
    if (body.message.outcome !== 'queued') return;
    assert.equal(body.message.channel, 'sms');
    const comm = (await node.store.read('Communication', body.message.communicationId))!.resource as Communication;
    assert.equal(comm.subject?.reference, `Patient/${patients.Texted}`);
    assert.match(comm.about?.[0]?.reference ?? '', /^DiagnosticReport\//);
    assert.ok(comm.sender?.display, 'the clinician who filed it is the sender');
    const drainer = createOutboxDrainer(node.store.db, node.store.practice, messaging.outboxChannels!(node.deps));
    await drainer.drainAll();
    const sent = fake.byReference(body.message.outboxId);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.to, '07700900222');
    assert.match(sent[0]!.body, /^Dear Robin, your recent test results have been reviewed by your doctor and no further action is needed\. Test Surgery$/);
  });

  it('a patient with no mobile: the filing stands and reception gets a task with the words to tell them', async () => {
    const taskId = await taskFor('Nophone');
    const res = await file(taskId, { action: 'routine-appointment', message: 'result-book-routine' });
    assert.equal(res.status, 200, await res.clone().text());
    const { message } = (await res.json()) as { message: ResultMessageOutcome };
    assert.equal(message.outcome, 'reception-task');
    if (message.outcome !== 'reception-task') return;
    assert.match(message.reason, /no valid UK mobile/);
    const task = (await node.store.read('Task', message.taskId))!.resource as Task;
    assert.equal(task.code?.coding?.[0]?.code, TELL_PATIENT_RESULT_TASK_CODE);
    assert.equal(task.for?.reference, `Patient/${patients.Nophone}`);
    assert.match(task.description!, /would like you to book a routine appointment/);
    const list = await (await node.fetchAs('receptionist', `/api/tasks?patient=${patients.Nophone}`)).text();
    assert.match(list, /Tell the patient about their test result/, 'reception sees it in their task list');
  });

  it('a patient who asked not to be contacted is never texted, even with a mobile and consent', async () => {
    const taskId = await taskFor('Donotcontact');
    const before = fake.notifications.size;
    const res = await file(taskId, { action: 'normal', message: 'result-normal' });
    const { message } = (await res.json()) as { message: ResultMessageOutcome };
    assert.equal(message.outcome, 'reception-task');
    if (message.outcome === 'reception-task') assert.match(message.reason, /asked not to be contacted/);
    await createOutboxDrainer(node.store.db, node.store.practice, messaging.outboxChannels!(node.deps)).drainAll();
    assert.equal(fake.notifications.size, before);
  });

  it('send the patient a message needs the message chosen', async () => {
    await ingestHl7({ store: node.store }, result(800, 'Texted', 'R9'), 'mllp');
    const pool = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=all')).json()) as { items: Array<{ taskId: string }> };
    const res = await file(pool.items[0]!.taskId, { action: 'message-patient', comment: 'anything' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Choose the message to send the patient/);
  });
});
