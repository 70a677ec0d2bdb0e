/**
 * A message that cannot be delivered becomes a task for reception that says what to fix ("No valid
 * mobile number"), its Communication says not-done with the reason, and the same receipt applied
 * again (Notify retries callbacks, polling overlaps them) makes no second task.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Communication, Patient, Task } from '@medplum/fhirtypes';
import { withContactPreferences } from '@steadfast/domain';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { applyDeliveryStatus, UNDELIVERED_TASK_CODE } from './delivery.ts';
import { queuePatientMessage } from './send.ts';

describe('undeliverable messages', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ config: { outbox: { disabled: true } } });
  });
  after(async () => node?.close());

  it('a permanent failure becomes one "No valid mobile number" task for reception, however often the receipt comes', async () => {
    const patient = withContactPreferences({ resourceType: 'Patient', id: 'undeliv1', name: [{ given: ['Dee'], family: 'Badnumber' }] } as Patient, { mobile: '07700 900002', smsConsent: true });
    await node.store.write([{ kind: 'update', resource: patient }], { author: 'test' });
    const q = await node.store.transaction({ author: 'test' }, (tx) => queuePatientMessage(tx, node.store.practice, { patientId: 'undeliv1', template: 'free-text', channel: 'sms', values: { text: 'Please call the surgery' }, key: 'undeliv:1', category: 'free-text', practiceName: 'Test Surgery' }));
    await applyDeliveryStatus(node.store, node.store.practice, q.outboxId, 'sending', { notifyId: 'n-1' });
    await applyDeliveryStatus(node.store, node.store.practice, q.outboxId, 'permanent-failure');
    await applyDeliveryStatus(node.store, node.store.practice, q.outboxId, 'permanent-failure');
    const tasks = (await node.store.search({ resourceType: 'Task', params: [{ name: 'code', values: [`${TASK_CODE_SYSTEM}|${UNDELIVERED_TASK_CODE}`] }], count: 10, offset: 0 })).resources as Task[];
    assert.equal(tasks.length, 1, 'one task, not one per receipt');
    assert.match(tasks[0]!.description!, /^No valid mobile number: a text message to this patient was not delivered/);
    assert.equal(tasks[0]!.for?.reference, 'Patient/undeliv1');
    const comm = (await node.store.read('Communication', q.communicationId))!.resource as Communication;
    assert.equal(comm.status, 'not-done');
    assert.match(comm.statusReason?.text ?? '', /does not exist or is switched off/);
    const list = await (await node.fetchAs('receptionist', '/api/tasks?patient=undeliv1')).text();
    assert.match(list, /No valid mobile number/, 'in reception’s task list');
  });
});
