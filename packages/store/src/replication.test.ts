import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@medplum/fhirtypes';
import { encodeHlc, type ChangeEntry } from '@steadfast/domain';
import { openTestStore, postgresAvailable, PG_SKIP_REASON, type TestStore } from './testing/backends.ts';

const opened: TestStore[] = [];
after(async () => {
  for (const t of opened) await t.dispose();
});

let n = 0;
function entry(type: string, id: string, wall: number, base: string | null, body: Record<string, unknown> = {}, node = 'remote'): ChangeEntry {
  const entryId = `10000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  return {
    entryId,
    originNode: node,
    practice: 'Y99999',
    hlc: encodeHlc({ wallMs: wall, counter: 0, node }),
    resourceType: type,
    resourceId: id,
    versionId: entryId,
    baseVersionId: base,
    op: 'put',
    resource: { resourceType: type, id, meta: { versionId: entryId }, ...body } as Resource,
    author: 'someone',
  };
}

describe('applyRemote projection (replication.ts)', () => {
  test('whatever order and batching entries arrive in, the current version is the rules-table head', async () => {
    const v1 = entry('Observation', 'o1', 1_000, null, { status: 'preliminary' });
    const v2 = entry('Observation', 'o1', 2_000, v1.versionId, { status: 'final' });
    const v3 = entry('Observation', 'o1', 3_000, v2.versionId, { status: 'amended' });
    const t1 = entry('Task', 't1', 1_000, null, { status: 'requested' }, 'a');
    const t1done = entry('Task', 't1', 2_000, t1.versionId, { status: 'completed' }, 'a');
    const t1again = entry('Task', 't1', 3_000, null, { status: 'requested' }, 'b');
    const orders: ChangeEntry[][][] = [
      [[v1, v2, v3, t1, t1done, t1again]],
      [[v3], [v1], [v2], [t1again], [t1done, t1]],
      [[v2, v3], [v1, t1again], [t1], [t1done]],
      [[v3, v2, v1, t1done, t1again, t1]],
    ];
    for (const batches of orders) {
      const t = await openTestStore('sqlite');
      opened.push(t);
      for (const b of batches) await t.store.applyRemote(b);
      assert.equal((await t.store.read('Observation', 'o1'))!.versionId, v3.versionId);
      assert.equal(((await t.store.read('Task', 't1'))!.resource as any).status, 'completed', 'a late second raise of a Task does not reopen it');
      const found = await t.store.search({ resourceType: 'Observation', params: [{ name: 'status', values: ['amended'] }], count: 10, offset: 0 });
      assert.equal(found.resources.length, 1, 'search index follows the current version');
      const stale = await t.store.search({ resourceType: 'Observation', params: [{ name: 'status', values: ['preliminary'] }], count: 10, offset: 0 });
      assert.equal(stale.resources.length, 0, 'old index rows removed');
    }
  });

  test('a remote entry older than the local current version does not replace it', async () => {
    const t = await openTestStore('sqlite');
    opened.push(t);
    const [created] = await t.store.write([{ kind: 'create', resource: { resourceType: 'Flag', status: 'active' } as Resource }], { author: 'u' });
    const old = entry('Flag', created!.resource!.id!, 1_000, created!.entry!.versionId, { status: 'inactive' });
    await t.store.applyRemote([old]);
    assert.equal((await t.store.read('Flag', created!.resource!.id!))!.versionId, created!.entry!.versionId);
  });
});

describe('bulk statements on PostgreSQL keep awkward text intact', { skip: (await postgresAvailable()) ? false : PG_SKIP_REASON }, () => {
  test('quotes, backslashes, braces, commas, new lines and non-ASCII survive applyRemote and search', async () => {
    const t = await openTestStore('postgres');
    opened.push(t);
    const awkward = 'O\'Brien "Zoë" {a,b} back\\slash\nline, NULL';
    const e = entry('Patient', 'p-awk', 5_000, null, { name: [{ family: awkward, given: ['Ünïcødé'] }] });
    await t.store.applyRemote([e]);
    const stored = (await t.store.read('Patient', 'p-awk'))!.resource as any;
    assert.equal(stored.name[0].family, awkward);
    const found = await t.store.search({ resourceType: 'Patient', params: [{ name: 'given', values: ['ünïcødé'] }], count: 10, offset: 0 });
    assert.equal(found.resources.length, 1);
    const log = await t.store.changesSince(0, 10);
    assert.equal(log[0]!.baseVersionId, null);
    assert.equal(log[0]!.entryId, e.entryId);
  });
});
