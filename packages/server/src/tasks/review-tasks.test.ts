/**
 * Who may close which task (domain tasks.ts), through every route that can change a Task: the task
 * list's API, FHIR PUT, FHIR DELETE and a transaction Bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, testNhsNumber, type Role } from '@steadfast/domain';
import { TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import { checkTaskChange, taskActionsFor } from '@steadfast/domain/tasks';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { startTestNode, type TestNode } from '../testing/harness.ts';

const roles: Role[] = ['receptionist', 'clinician', 'practice-admin'];

/** A result for a patient, filed through the HL7 route as a laboratory would send it; returns its review task. */
async function resultReviewTask(node: TestNode, n: number): Promise<Task> {
  const nhs = testNhsNumber(5100 + n);
  const patient = await node.create('clinician', { resourceType: 'Patient', identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }], name: [{ family: 'Review', given: [`Rae${n}`] }], birthDate: '1970-02-03' });
  const oru = buildOru({ messageId: `REV-${n}`, nhsNumber: nhs, family: 'Review', given: `Rae${n}`, birthDate: '19700203', filler: `REVF${n}`, test: ['UE', 'Urea and electrolytes'], obx: [{ code: 'K', display: 'Potassium', value: '6.8', units: 'mmol/L', range: '3.5-5.3', flag: 'H' }] });
  const filed = await node.fetchAs('clinician', '/api/pathology/hl7', { method: 'POST', body: oru, headers: { 'content-type': 'x-application/hl7-v2+er7' } });
  assert.equal(filed.status, 200, await filed.clone().text());
  const all = (await (await node.fetchAs('clinician', `/api/tasks?patient=${patient.id}`)).json()) as { tasks: Task[] };
  const found = all.tasks.find((t) => t.code?.coding?.some((c) => c.code === 'pathology-result'));
  assert.ok(found, 'the result raised a review task');
  return found;
}

async function inboxTaskIds(node: TestNode): Promise<string[]> {
  const inbox = (await (await node.fetchAs('clinician', '/api/pathology/inbox?scope=all')).json()) as { items: Array<{ taskId: string }> };
  return inbox.items.map((i) => i.taskId);
}

test('regression: a receptionist could close a GP result-review task (POST /api/tasks/{id} completed → 200) and the result left the inbox unseen', async () => {
  const node = await startTestNode();
  try {
    const task = await resultReviewTask(node, 1);
    assert.ok((await inboxTaskIds(node)).includes(task.id!), 'the result waits in the results inbox');
    const res = await node.fetchAs('receptionist', `/api/tasks/${task.id}`, { method: 'POST', json: { status: 'completed' } });
    assert.equal(res.status, 403, await res.clone().text());
    const outcome = (await res.json()) as { issue: Array<{ diagnostics?: string; details?: { text?: string } }> };
    assert.match(JSON.stringify(outcome), /results inbox/, 'the refusal says where a result is closed');
    assert.ok((await inboxTaskIds(node)).includes(task.id!), 'the result is still in the inbox');
    const stored = await node.store.read('Task', task.id!);
    assert.equal((stored!.resource as Task).status, 'requested');
  } finally {
    await node.close();
  }
});

test('a result leaves the inbox only when a clinician files it: no role closes or deletes its review task by the task list or FHIR', async () => {
  const node = await startTestNode();
  try {
    const task = await resultReviewTask(node, 2);
    const stored = (await node.store.read('Task', task.id!))!;
    const full = stored.resource as Task;
    for (const role of roles) {
      for (const status of ['completed', 'cancelled', 'rejected', 'failed']) {
        const viaList = await node.fetchAs(role, `/api/tasks/${task.id}`, { method: 'POST', json: { status } });
        assert.equal(viaList.status, 403, `${role} → ${status} via /api/tasks`);
      }
      const put = await node.fetchAs(role, `/fhir/R4/Task/${task.id}`, { method: 'PUT', json: { ...full, status: 'completed' }, headers: { 'content-type': 'application/fhir+json' } });
      assert.equal(put.status, 403, `${role} PUT completed: ${await put.clone().text()}`);
      const del = await node.fetchAs(role, `/fhir/R4/Task/${task.id}`, { method: 'DELETE' });
      assert.equal(del.status, 403, `${role} DELETE`);
      const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...full, status: 'completed' }, request: { method: 'PUT', url: `Task/${task.id}` } }] };
      const tx = await node.fetchAs(role, '/fhir/R4', { method: 'POST', json: bundle, headers: { 'content-type': 'application/fhir+json' } });
      assert.equal(tx.status, 403, `${role} Bundle PUT completed: ${await tx.clone().text()}`);
    }
    // Reassigning is allowed: a practice manager moves a result to another clinician.
    const moved = await node.fetchAs('practice-admin', `/api/tasks/${task.id}`, { method: 'POST', json: { owner: node.users.clinician.id } });
    assert.equal(moved.status, 200);
    assert.ok((await inboxTaskIds(node)).includes(task.id!), 'still in the inbox after all of that');

    const filed = await node.fetchAs('clinician', `/api/pathology/inbox/${task.id}/file`, { method: 'POST', json: { action: 'normal', comment: 'Seen', confirmAbnormal: true } });
    assert.equal(filed.status, 200, await filed.clone().text());
    assert.ok(!(await inboxTaskIds(node)).includes(task.id!), 'filing by a clinician takes it out of the inbox');
    assert.equal(((await node.store.read('Task', task.id!))!.resource as Task).status, 'completed');
  } finally {
    await node.close();
  }
});

test('role × task type: the task list offers Done only where the role may close the task, and the API agrees', async () => {
  const types: Array<{ name: string; code?: string }> = [
    { name: 'admin task' },
    { name: 'result review', code: 'pathology-result' },
    { name: 'urgent contact after a result', code: 'contact-patient-urgently' },
    { name: 'routine appointment after a result', code: 'book-routine-appointment' },
    { name: 'sync review', code: 'sync-review' },
    { name: 'double booking', code: 'double-booking' },
  ];
  const expected: Record<string, Record<Role, boolean>> = {
    'admin task': { receptionist: true, clinician: true, 'practice-admin': true },
    'result review': { receptionist: false, clinician: false, 'practice-admin': false },
    'urgent contact after a result': { receptionist: true, clinician: true, 'practice-admin': true },
    'routine appointment after a result': { receptionist: true, clinician: true, 'practice-admin': true },
    'sync review': { receptionist: true, clinician: true, 'practice-admin': true },
    'double booking': { receptionist: true, clinician: true, 'practice-admin': true },
  };
  const node = await startTestNode();
  try {
    const patient = await node.create('clinician', { resourceType: 'Patient', name: [{ family: 'Matrix', given: ['Mo'] }], birthDate: '1980-05-06' });
    for (const type of types) {
      for (const role of roles) {
        const task: Task = {
          resourceType: 'Task',
          status: 'requested',
          intent: 'order',
          description: type.name,
          authoredOn: new Date().toISOString(),
          for: { reference: `Patient/${patient.id}` },
          ...(type.code ? { code: { coding: [{ system: TASK_CODE_SYSTEM, code: type.code }] } } : {}),
        };
        const [written] = await node.store.write([{ kind: 'create', resource: task }], { author: 'test' });
        const id = written!.resource!.id!;
        const offered = taskActionsFor(role, task).mayClose;
        assert.equal(offered, expected[type.name]![role], `${role} offered Done on ${type.name}`);
        const res = await node.fetchAs(role, `/api/tasks/${id}`, { method: 'POST', json: { status: 'completed' } });
        assert.equal(res.status, offered ? 200 : 403, `${role} completing ${type.name}: ${await res.clone().text()}`);
      }
    }
  } finally {
    await node.close();
  }
});

test('domain rule: a clinical review closes only by a clinician; a result review by its workflow only; deletes and reopenings refused', () => {
  const review = { status: 'requested', code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'pathology-result' }] } };
  assert.throws(() => checkTaskChange('clinician', review, { ...review, status: 'completed' }), /not opened or closed from the task list/);
  assert.throws(() => checkTaskChange('practice-admin', review, undefined), /not deleted/);
  assert.throws(() => checkTaskChange('clinician', { ...review, status: 'completed' }, review), /not opened or closed/);
  assert.throws(() => checkTaskChange('receptionist', review, { ...review, code: undefined as never, status: 'completed' }), /not opened or closed/, 'dropping the code does not get round it');
  assert.doesNotThrow(() => checkTaskChange('receptionist', review, { ...review }), 'an edit that keeps it open (a note, an owner) is fine');
  assert.doesNotThrow(() => checkTaskChange('receptionist', { status: 'requested' }, { status: 'completed' }));
});

test('regression: GET /api/backlog answered 400 because the tasks figure asked the store for 10,000 tasks a page (its limit is 1,000)', async () => {
  const node = await startTestNode();
  try {
    await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: 'Overdue letter', due: '2020-01-01' } });
    const res = await node.fetchAs('practice-admin', '/api/backlog');
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { figures: Array<{ kind: string; count: number }> };
    assert.equal(body.figures.find((f) => f.kind === 'tasks-overdue')?.count, 1);
  } finally {
    await node.close();
  }
});
