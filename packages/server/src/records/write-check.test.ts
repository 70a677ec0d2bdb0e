/** One write path: every capability's writes are validated as FHIR API writes are (issue 14, item 4). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Task } from '@medplum/fhirtypes';
import { isSteadfastError } from '@steadfast/domain';
import { startTestNode, type TestNode } from '../testing/harness.ts';
import { prevalidate } from './write-check.ts';

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

  it('prevalidation outside the transaction never lets a different or invalid write through', async () => {
    const before = await changeLogCount(node);
    const good = { resourceType: 'Observation', id: 'c7a1d3e2-0b4f-4c6d-9e8f-1a2b3c4d5e6f', status: 'final', code: { text: 'Potassium' } } as const;
    const bad = { ...good, id: 'c7a1d3e2-0b4f-4c6d-9e8f-1a2b3c4d5e70', status: 'bogus' };
    assert.equal(await prevalidate([good, bad as never]), 1, 'only the valid one passes');
    // The invalid one was not remembered: its write is refused in the transaction, with the usual error.
    await assert.rejects(node.store.write([{ kind: 'update', resource: bad as never }], { author: 'system:test' }), (err: unknown) => isSteadfastError(err) && /status/.test(err.message + (err.field ?? '')));
    // A prevalidated resource changed afterwards (one byte of content) is validated again, and refused.
    await prevalidate([good]);
    await assert.rejects(node.store.write([{ kind: 'update', resource: { ...good, status: 'bogus' } as never }], { author: 'system:test' }), (err: unknown) => isSteadfastError(err) && /status/.test(err.message + (err.field ?? '')));
    assert.equal(await changeLogCount(node), before, 'nothing written');
    // Patient references are still checked in the transaction, prevalidated or not.
    const orphan = { ...good, subject: { reference: 'Patient/nobody-here' } };
    assert.equal(await prevalidate([orphan]), 1, 'structurally valid');
    await assert.rejects(node.store.write([{ kind: 'update', resource: orphan }], { author: 'system:test' }), (err: unknown) => isSteadfastError(err) && /does not exist/.test(err.message));
    // The exact content prevalidated is written.
    await prevalidate([good]);
    await node.store.write([{ kind: 'update', resource: good }], { author: 'system:test' });
    assert.equal(await changeLogCount(node), before + 1);
  });

  it('prevalidation gives way to the event loop between slices', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ resourceType: 'Observation' as const, status: 'final' as const, code: { text: `Analyte ${i}` }, valueQuantity: { value: i, unit: 'mmol/L' } }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      assert.equal(await prevalidate(many), many.length);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, `a 1 ms timer ran while 3,000 resources were validated (${ticks} times)`);
  });
});
