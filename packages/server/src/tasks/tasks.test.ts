import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '@medplum/fhirtypes';
import { startTestNode } from '../testing/harness.ts';
import { summarise } from './index.ts';
import { STAFF_USER_SYSTEM } from '@steadfast/domain/systems';
import { RESULT_TASK_CODE } from '../pathology/ingest.ts';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';

test('summary: open and overdue counts, and the oldest open task with its age in days', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const t = (status: Task['status'], authoredOn: string, due?: string): Task => ({
    resourceType: 'Task',
    id: authoredOn,
    status,
    intent: 'order',
    authoredOn,
    ...(due ? { restriction: { period: { end: due } } } : {}),
  });
  const s = summarise([t('requested', '2026-11-20T09:00:00Z', '2026-11-24'), t('in-progress', '2026-11-10T09:00:00Z'), t('completed', '2026-01-01T00:00:00Z', '2026-01-02')], now);
  assert.equal(s.open, 2);
  assert.equal(s.overdue, 1);
  assert.deepEqual(s.byStatus, { requested: 1, 'in-progress': 1, completed: 1 });
  assert.equal(s.oldestOpen?.ageDays, 15);
  assert.equal(summarise([], now).oldestOpen, undefined);
});

test('tasks over HTTP: create, assign, filter by owner, complete', async () => {
  const node = await startTestNode();
  try {
    const created = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: 'Call Mrs Smith about results', owner: node.users.clinician.id, due: '2026-12-01' } });
    assert.equal(created.status, 201);
    const task = (await created.json()) as Task;
    assert.equal(task.owner?.identifier?.system, STAFF_USER_SYSTEM);
    assert.equal(task.owner?.display, 'Test clinician');
    assert.equal(task.restriction?.period?.end, '2026-12-01');

    await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: 'Scan letter' } });
    const mine = (await (await node.fetchAs('clinician', '/api/tasks?owner=me')).json()) as { tasks: Task[]; summary: { open: number } };
    assert.deepEqual(mine.tasks.map((t) => t.description), ['Call Mrs Smith about results']);
    const unassigned = (await (await node.fetchAs('clinician', '/api/tasks?owner=unassigned')).json()) as { tasks: Task[] };
    assert.deepEqual(unassigned.tasks.map((t) => t.description), ['Scan letter']);

    const done = await node.fetchAs('clinician', `/api/tasks/${task.id}`, { method: 'POST', json: { status: 'completed', note: 'Spoke to her' } });
    assert.equal(((await done.json()) as Task).status, 'completed');
    const open = (await (await node.fetchAs('clinician', '/api/tasks')).json()) as { summary: { open: number } };
    assert.equal(open.summary.open, 1);

    assert.equal((await node.fetchAs('clinician', '/api/tasks', { method: 'POST', json: {} })).status, 400);
    assert.equal((await node.fetchAs('clinician', '/api/tasks', { method: 'POST', json: { description: 'x', owner: 'nobody' } })).status, 400);
    assert.equal((await node.fetchAs('clinician', '/api/tasks', { method: 'POST', json: { description: 'x', due: '1/2/2026' } })).status, 400);
    assert.equal((await node.fetchAs('clinician', `/api/tasks/${task.id}`, { method: 'POST', json: { status: 'nearly' } })).status, 400);
  } finally {
    await node.close();
  }
});

test('regression: a pathology result Task owned by its requester appeared unassigned in /api/tasks (three spellings of the staff-user system)', async () => {
  const { NHS_NUMBER_SYSTEM, testNhsNumber } = await import('@steadfast/domain');
  const { buildOru } = await import('../testing/hl7-fixtures.ts');
  const node = await startTestNode();
  try {
    const nhs = testNhsNumber(4242);
    const patient = await node.create('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }], name: [{ family: 'Owner', given: ['Olive'] }], birthDate: '1960-03-04' });
    const order = await node.fetchAs('clinician', '/api/pathology/requests', { method: 'POST', json: { patientId: patient.id, tests: ['UE'], urgency: 'routine' } });
    assert.equal(order.status, 201, await order.clone().text());
    const { orderNumber } = (await order.json()) as { orderNumber: string };
    const oru = buildOru({ messageId: 'OWN-1', nhsNumber: nhs, family: 'Owner', given: 'Olive', birthDate: '19600304', placer: orderNumber, filler: 'OWN1', test: ['UE', 'Urea and electrolytes'], obx: [{ code: 'K', display: 'Potassium', value: '4.1', units: 'mmol/L', range: '3.5-5.3' }] });
    const filed = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: oru, headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    assert.equal(((await filed.json()) as { state: string }).state, 'filed');
    const mine = (await (await node.fetchAs('clinician', '/api/tasks?owner=me')).json()) as { tasks: Task[] };
    const resultTask = mine.tasks.find((t) => t.code?.coding?.some((c) => c.code === 'pathology-result'));
    assert.ok(resultTask, 'the requester sees the result Task as theirs');
    assert.equal(resultTask.owner?.identifier?.system, STAFF_USER_SYSTEM);
    const unassigned = (await (await node.fetchAs('clinician', '/api/tasks?owner=unassigned')).json()) as { tasks: Task[] };
    assert.ok(!unassigned.tasks.some((t) => t.id === resultTask.id), 'and it is not listed as unassigned');
  } finally {
    await node.close();
  }
});

test('regression: receptionists saw pathology result titles and urgency in /api/tasks', async () => {
  const node = await startTestNode();
  try {
    const patient = await node.create('clinician', { resourceType: 'Patient', name: [{ family: 'Khan', given: ['Amir'] }], birthDate: '1960-04-04' });
    const [review] = await node.store.write(
      [
        {
          kind: 'create',
          resource: {
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            priority: 'urgent',
            code: { coding: [{ system: TASK_CODE_SYSTEM, code: RESULT_TASK_CODE, display: 'Review pathology result' }] },
            description: 'Abnormal result: potassium 6.8',
            businessStatus: { text: 'correction' },
            note: [{ text: 'Repeat U&E, query haemolysed sample' }],
            for: { reference: `Patient/${patient.id}` },
            focus: { reference: 'DiagnosticReport/dr-1' },
            authoredOn: '2026-11-30T08:00:00Z',
          } as Task,
        },
      ],
      { author: 'test' },
    );
    await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: 'Scan letter', priority: 'urgent', patient: patient.id } });

    const seen = (await (await node.fetchAs('receptionist', '/api/tasks')).json()) as { tasks: Task[]; summary: { oldestOpen?: { description?: string } } };
    const text = JSON.stringify(seen);
    assert.doesNotMatch(text, /potassium|6\.8|haemolysed|correction/i, 'no result detail reaches a receptionist');
    const redacted = seen.tasks.find((t) => t.id === review!.resource!.id)!;
    assert.equal(redacted.description, 'Result for clinician review');
    assert.equal(redacted.priority, undefined, 'the urgency of a result is clinical information');
    assert.equal(redacted.for?.reference, `Patient/${patient.id}`, 'the receptionist still sees whose it is and that it waits');
    assert.equal(redacted.status, 'requested');
    const admin = seen.tasks.find((t) => t.description === 'Scan letter')!;
    assert.equal(admin.priority, 'urgent', 'admin tasks are unchanged');

    const clinician = JSON.stringify(await (await node.fetchAs('clinician', '/api/tasks')).json());
    assert.match(clinician, /Abnormal result: potassium 6\.8/);
    assert.match(clinician, /"priority":"urgent"/);

    const updated = await node.fetchAs('receptionist', `/api/tasks/${review!.resource!.id}`, { method: 'POST', json: { owner: node.users.clinician.id } });
    assert.equal(updated.status, 200);
    assert.doesNotMatch(await updated.text(), /potassium/i, 'nor in the answer to an update');
  } finally {
    await node.close();
  }
});
