import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '@medplum/fhirtypes';
import { startTestNode } from '../testing/harness.ts';
import { summarise, USER_SYSTEM } from './index.ts';
import { RESULT_TASK_CODE, TASK_CODE_SYSTEM } from '../pathology/ingest.ts';

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
    assert.equal(task.owner?.identifier?.system, USER_SYSTEM);
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
