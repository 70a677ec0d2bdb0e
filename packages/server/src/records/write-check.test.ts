/** One write path: every capability's writes are validated as FHIR API writes are (issue 14, item 4). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Task } from '@medplum/fhirtypes';
import { isSteadfastError } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';

async function changeLogCount(node: TestNode): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from change_log`.execute(node.store.db);
  return Number(r.rows[0]!.n);
}

describe('the store checks every local write', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node?.close());

  it('regression: tasks wrote through the change log without the validation FHIR API writes get (a Task whose focus is not a reference was stored)', async () => {
    const before = await changeLogCount(node);
    const res = await node.fetchAs('receptionist', '/api/tasks', { method: 'POST', json: { description: 'Call back', focus: 'not a reference at all' } });
    assert.equal(res.status, 400, await res.clone().text());
    const outcome = (await res.json()) as { resourceType: string; issue: Array<{ expression?: string[]; diagnostics: string }> };
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(JSON.stringify(outcome.issue), /Task\.focus/);
    assert.equal(await changeLogCount(node), before, 'nothing written');
    const tasks = (await (await node.fetchAs('clinician', '/api/tasks?status=all')).json()) as { tasks: Task[] };
    assert.ok(!tasks.tasks.some((t) => t.description === 'Call back'));
  });

  it('a write by any capability with a made-up status or a missing patient is refused, naming the write', async () => {
    const before = await changeLogCount(node);
    await assert.rejects(
      node.store.write([{ kind: 'create', resource: { resourceType: 'Observation', status: 'bogus', code: { text: 'Potassium' } } as never }], { author: 'system:test' }),
      (err: unknown) => isSteadfastError(err) && /status/.test(err.message + (err.field ?? '')),
    );
    await assert.rejects(
      node.store.write(
        [
          { kind: 'create', resource: { resourceType: 'Observation', status: 'final', code: { text: 'Potassium' } } },
          { kind: 'create', resource: { resourceType: 'Observation', status: 'final', code: { text: 'Sodium' }, subject: { reference: 'Patient/nobody-here' } } },
        ],
        { author: 'system:test' },
      ),
      (err: unknown) => isSteadfastError(err) && /does not exist/.test(err.message) && /write 2 of 2/.test(err.message),
    );
    assert.equal(await changeLogCount(node), before, 'a refused batch writes nothing, not even its good writes');
  });

  it('a Patient created in the same batch can be referred to by the writes after it', async () => {
    const id = '0d3b7c9e-1f2a-4b5c-8d6e-7f8091a2b3c4';
    await node.store.write(
      [
        { kind: 'update', resource: { resourceType: 'Patient', id, name: [{ family: 'Batch', given: ['Bea'] }], birthDate: '1980-05-06' } },
        { kind: 'create', resource: { resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, subject: { reference: `Patient/${id}` } } },
      ],
      { author: 'system:test' },
    );
    const found = await node.store.search({ resourceType: 'Observation', params: [{ name: 'patient', values: [`Patient/${id}`] }], count: 5, offset: 0 });
    assert.equal(found.resources.length, 1);
  });
});
