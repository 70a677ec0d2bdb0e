import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observation } from '@medplum/fhirtypes';
import { deferWrites } from './deferredWrites.ts';
import { openTestStore, type TestStore } from './testing/backends.ts';

const observation = (id: string, value: number): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'Haemoglobin' },
  subject: { reference: 'Patient/p1' },
  valueQuantity: { value, unit: 'g/L' },
});

let t: TestStore;
before(async () => {
  t = await openTestStore('sqlite');
});
after(() => t.dispose());

test('deferred writes: queued until flush, as one batch; a read of a queued type sees them first', async () => {
  await t.store.transaction({ author: 'user:test' }, async (storeTx) => {
    const tx = deferWrites(storeTx);
    await tx.write([{ kind: 'update', resource: observation('o1', 120) }]);
    await tx.write([{ kind: 'update', resource: observation('o2', 130) }]);
    // Nothing is in the store yet: a search of another type does not flush.
    assert.equal((await tx.search({ resourceType: 'Patient', params: [], count: 10, offset: 0 })).resources.length, 0);
    assert.equal(await storeTx.read('Observation', 'o1'), undefined, 'a Patient search must not flush Observation writes');
    // Reading the queued type flushes first, so the unit of work reads what it wrote.
    const o1 = await tx.read('Observation', 'o1');
    assert.equal((o1?.resource as Observation).valueQuantity?.value, 120);
    await tx.write([{ kind: 'update', resource: observation('o1', 125) }]);
    await tx.flush();
  });
  const o1 = await t.store.history('Observation', 'o1');
  assert.deepEqual(o1.map((v) => (v.resource as Observation).valueQuantity?.value), [125, 120]);
  assert.ok(await t.store.read('Observation', 'o2'));
});

test('deferred writes: a failed flush rolls back the whole transaction', async () => {
  await assert.rejects(
    t.store.transaction({ author: 'user:test' }, async (storeTx) => {
      const tx = deferWrites(storeTx);
      await tx.write([{ kind: 'update', resource: observation('o3', 1) }]);
      await tx.write([{ kind: 'update', resource: observation('o1', 1), ifMatch: 'not-the-current-version' }]);
      await tx.flush();
    }),
    /not-the-current-version/,
  );
  assert.equal(await t.store.read('Observation', 'o3'), undefined);
});
