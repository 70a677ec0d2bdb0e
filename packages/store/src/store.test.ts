import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observation, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError, testNhsNumber } from '@steadfast/domain';
import { openTestStore, PG_SKIP_REASON, postgresAvailable, type TestStore } from './testing/backends.ts';
import type { RecordStore, SearchRequest } from './RecordStore.ts';

const author = { author: 'user:test' };

function patient(n: number, family: string, given: string, birthDate: string, extra: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(n) }],
    name: [{ family, given: [given] }],
    birthDate,
    gender: 'female',
    ...extra,
  };
}

function search(type: string, params: Record<string, string | string[]>, extra: Partial<SearchRequest> = {}): SearchRequest {
  return {
    resourceType: type,
    params: Object.entries(params).map(([name, v]) => {
      const [base, modifier] = name.split(':');
      return { name: base!, ...(modifier ? { modifier } : {}), values: Array.isArray(v) ? v : [v] };
    }),
    count: 20,
    offset: 0,
    ...extra,
  };
}

async function logCount(store: RecordStore): Promise<number> {
  return (await store.changesSince(0, 100_000)).length;
}

async function rejects(p: Promise<unknown>, code: string): Promise<SteadfastError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SteadfastError, `expected a SteadfastError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`record store on ${backend}`, async () => {
    const skip = backend === 'postgres' && !(await postgresAvailable()) ? PG_SKIP_REASON : false;
    let t: TestStore;
    let store: RecordStore;
    before(async () => {
      if (skip) return;
      t = await openTestStore(backend);
      store = t.store;
    });
    after(async () => {
      if (!skip) await t.dispose();
    });

    test('create assigns id, version and time, and logs one entry', { skip }, async () => {
      const before = await logCount(store);
      const [out] = await store.write([{ kind: 'create', resource: patient(1, 'Okafor', 'Ada', '1980-05-02') }], author);
      assert.equal(out!.status, 'created');
      const r = out!.resource as Patient;
      assert.match(r.id!, /^[0-9a-f-]{36}$/);
      assert.equal(r.meta?.versionId, out!.entry!.versionId);
      const read = await store.read('Patient', r.id!);
      assert.deepEqual(read?.resource, r);
      assert.equal(await logCount(store), before + 1);
      const [logged] = (await store.changesSince(0, 100_000)).slice(-1);
      assert.equal(logged!.resourceId, r.id);
      assert.equal(logged!.op, 'put');
      assert.equal(logged!.baseVersionId, null);
    });

    test('a name with characters PostgreSQL text cannot hold (NUL, half a surrogate pair) is stored and found, the body kept as written', { skip }, async () => {
      const odd = patient(9101, 'Nul\u0000Name\ud800', 'Odd', '1971-01-01');
      const [out] = await store.write([{ kind: 'create', resource: odd }], author);
      const stored = await store.read('Patient', out!.resource!.id!);
      assert.equal((stored!.resource as Patient).name![0]!.family, 'Nul\u0000Name\ud800');
      const found = await store.search(search('Patient', { family: 'nulname' }));
      assert.deepEqual(found.resources.map((r) => r.id), [out!.resource!.id]);
      // Replicated as it is (the hub's path), too.
      const entry = (await store.changesSince(0, 100_000)).find((e) => e.resourceId === out!.resource!.id)!;
      const other = store.practiceView('Y99998');
      assert.deepEqual(await other.applyRemote([{ ...entry, practice: 'Y99998', entryId: `${entry.entryId}-copy` }]), { applied: 1, skipped: 0 });
    });

    test('update with a stale If-Match fails with 412 and writes nothing', { skip }, async () => {
      const [c] = await store.write([{ kind: 'create', resource: patient(2, 'Nowak', 'Ola', '1975-01-01') }], author);
      const p = c!.resource as Patient;
      const [u] = await store.write([{ kind: 'update', resource: { ...p, gender: 'male' }, ifMatch: p.meta!.versionId }], author);
      assert.equal(u!.status, 'updated');
      assert.equal(u!.entry!.baseVersionId, p.meta!.versionId);
      const before = await logCount(store);
      const err = await rejects(store.write([{ kind: 'update', resource: { ...p, gender: 'other' }, ifMatch: p.meta!.versionId }], author), 'precondition-failed');
      assert.equal(err.httpStatus, 412);
      assert.equal(await logCount(store), before);
      assert.equal(((await store.read('Patient', p.id!))!.resource as Patient).gender, 'male');
    });

    test('a batch is all or nothing', { skip }, async () => {
      const before = await logCount(store);
      await rejects(
        store.write(
          [
            { kind: 'create', resource: patient(3, 'Lost', 'Never', '1990-01-01') },
            { kind: 'delete', resourceType: 'Patient', id: 'does-not-exist' },
          ],
          author,
        ),
        'not-found',
      );
      assert.equal(await logCount(store), before);
      const found = await store.search(search('Patient', { family: 'lost' }));
      assert.equal(found.resources.length, 0);
    });

    test('conditional create on NHS number never makes a second patient', { skip }, async () => {
      const nhs = testNhsNumber(4);
      const ifNoneExist = { param: 'identifier', system: NHS_NUMBER_SYSTEM, value: nhs };
      const [a] = await store.write([{ kind: 'create', resource: patient(4, 'Singh', 'Priya', '1960-03-04'), ifNoneExist }], author);
      const [b] = await store.write([{ kind: 'create', resource: patient(4, 'Singh', 'Priya', '1960-03-04'), ifNoneExist }], author);
      assert.equal(a!.status, 'created');
      assert.equal(b!.status, 'existing');
      assert.equal(b!.resource!.id, a!.resource!.id);
      // Twice in one batch: still one.
      const nhs2 = testNhsNumber(5);
      const both = await store.write(
        [1, 2].map(() => ({ kind: 'create' as const, resource: patient(5, 'Twin', 'Sam', '2001-01-01'), ifNoneExist: { ...ifNoneExist, value: nhs2 } })),
        author,
      );
      assert.deepEqual(both.map((o) => o.status), ['created', 'existing']);
      const found = await store.search(search('Patient', { identifier: `${NHS_NUMBER_SYSTEM}|${nhs2}` }));
      assert.equal(found.resources.length, 1);
    });

    test('history and vread keep every version; delete hides from read and search', { skip }, async () => {
      const [c] = await store.write([{ kind: 'create', resource: patient(6, 'Versioned', 'Vic', '1950-06-06') }], author);
      const id = c!.resource!.id!;
      const v1 = c!.resource!.meta!.versionId!;
      const [u] = await store.write([{ kind: 'update', resource: { ...(c!.resource as Patient), birthDate: '1950-06-07' } }], author);
      await store.write([{ kind: 'delete', resourceType: 'Patient', id }], author);
      const history = await store.history('Patient', id);
      assert.equal(history.length, 3);
      assert.equal(history[0]!.deleted, true);
      assert.equal(history[1]!.versionId, u!.entry!.versionId);
      assert.equal(((await store.vread('Patient', id, v1))!.resource as Patient).birthDate, '1950-06-06');
      assert.equal((await store.read('Patient', id))!.deleted, true);
      assert.equal((await store.search(search('Patient', { family: 'versioned' }))).resources.length, 0);
      await rejects(store.write([{ kind: 'delete', resourceType: 'Patient', id }], author), 'not-found');
    });

    test('search by name prefix, birth date, identifier, phone and postcode', { skip }, async () => {
      await store.write(
        [
          { kind: 'create', resource: patient(10, "O'Brien-Smith", 'Siobhán', '1984-11-23', { telecom: [{ system: 'phone', value: '+44 7700 900123' }], address: [{ postalCode: 'LS6 2AB' }] }) },
          { kind: 'create', resource: patient(11, 'Smith', 'John', '1984-11-24') },
          { kind: 'create', resource: patient(12, 'Smithers', 'Jane', '1984-11-23') },
        ],
        author,
      );
      const names = async (params: Record<string, string | string[]>) =>
        (await store.search(search('Patient', params))).resources.map((r) => (r as Patient).name![0]!.family).sort();
      assert.deepEqual(await names({ family: 'smi' }), ['Smith', 'Smithers']);
      assert.deepEqual(await names({ family: 'obrien' }), ["O'Brien-Smith"]);
      assert.deepEqual(await names({ name: 'siob' }), ["O'Brien-Smith"]);
      assert.deepEqual(await names({ name: 'smith', birthdate: '1984-11-23' }), ['Smithers']);
      assert.deepEqual(await names({ 'family:exact': 'smith' }), ['Smith']);
      assert.deepEqual(await names({ birthdate: ['1984-11-23'] }), ["O'Brien-Smith", 'Smithers']);
      assert.deepEqual(await names({ birthdate: 'ge1984-11-24', family: 's' }), ['Smith']);
      assert.deepEqual(await names({ identifier: `${NHS_NUMBER_SYSTEM}|${testNhsNumber(11)}` }), ['Smith']);
      assert.deepEqual(await names({ identifier: testNhsNumber(12) }), ['Smithers']);
      assert.deepEqual(await names({ phone: '07700900123' }), ["O'Brien-Smith"]);
      assert.deepEqual(await names({ 'address-postalcode': 'ls62' }), ["O'Brien-Smith"]);
      await rejects(store.search(search('Patient', { shoesize: '9' })), 'invalid');
      await rejects(store.search(search('Patient', { birthdate: 'last tuesday' })), 'invalid');
    });

    test('clinical search by patient, code and date, sorted, paged, with total', { skip }, async () => {
      const [p] = await store.write([{ kind: 'create', resource: patient(20, 'Results', 'Rita', '1970-01-01') }], author);
      const subject = { reference: `Patient/${p!.resource!.id}` };
      const obs = (day: number, code: string): Observation => ({
        resourceType: 'Observation',
        status: 'final',
        subject,
        code: { coding: [{ system: 'http://snomed.info/sct', code }] },
        effectiveDateTime: `2024-03-${String(day).padStart(2, '0')}T09:00:00Z`,
      });
      await store.write(
        [1, 2, 3, 4, 5].map((d) => ({ kind: 'create' as const, resource: obs(d, d % 2 ? '271649006' : '27113001') })),
        author,
      );
      const page1 = await store.search(search('Observation', { patient: p!.resource!.id! }, { count: 2, sort: [{ param: 'date', descending: true }], total: true }));
      assert.equal(page1.total, 5);
      assert.equal(page1.hasMore, true);
      assert.deepEqual(page1.resources.map((o) => (o as Observation).effectiveDateTime), ['2024-03-05T09:00:00Z', '2024-03-04T09:00:00Z']);
      const page3 = await store.search(search('Observation', { patient: p!.resource!.id! }, { count: 2, offset: 4, sort: [{ param: 'date', descending: true }] }));
      assert.equal(page3.hasMore, false);
      assert.deepEqual(page3.resources.map((o) => (o as Observation).effectiveDateTime), ['2024-03-01T09:00:00Z']);
      const bp = await store.search(search('Observation', { patient: `Patient/${p!.resource!.id}`, code: 'http://snomed.info/sct|271649006', date: 'ge2024-03-02' }));
      assert.equal(bp.resources.length, 2);
    });

    test('replication: applyRemote is idempotent and replicas converge in any order', { skip }, async () => {
      const other = await openTestStore(backend, { nodeId: 'other-node' });
      const third = await openTestStore(backend, { nodeId: 'third-node' });
      try {
        const [c] = await other.store.write([{ kind: 'create', resource: patient(30, 'Remote', 'Rhys', '1999-09-09') }], author);
        const p = c!.resource as Patient;
        await other.store.write([{ kind: 'update', resource: { ...p, gender: 'male' } }], author);
        const entries = await other.store.changesSince(0, 1000);
        assert.deepEqual(await store.applyRemote(entries), { applied: 2, skipped: 0 });
        assert.deepEqual(await store.applyRemote(entries), { applied: 0, skipped: 2 });
        assert.deepEqual(await third.store.applyRemote([...entries].reverse()), { applied: 2, skipped: 0 });
        for (const s of [store, third.store]) {
          const read = await s.read('Patient', p.id!);
          assert.equal((read!.resource as Patient).gender, 'male');
          assert.equal(read!.versionId, entries[1]!.versionId);
          assert.equal((await s.search(search('Patient', { family: 'remote' }))).resources.length, 1);
        }
        // A local write after receiving orders after the remote one.
        const [local] = await store.write([{ kind: 'update', resource: { ...p, gender: 'other' } }], author);
        assert.ok(local!.entry!.hlc > entries[1]!.hlc);
      } finally {
        await other.dispose();
        await third.dispose();
      }
    });

    test('applyRemote rejects a batch for another practice and applies none of it', { skip }, async () => {
      const other = await openTestStore(backend, { nodeId: 'elsewhere', practice: 'Y88888' });
      try {
        await other.store.write([{ kind: 'create', resource: patient(40, 'Foreign', 'Fay', '1988-08-08') }], author);
        const entries = await other.store.changesSince(0, 10);
        const before = await logCount(store);
        await rejects(store.applyRemote(entries), 'invalid');
        assert.equal(await logCount(store), before);
      } finally {
        await other.dispose();
      }
    });

    test('data and clock survive a restart', { skip }, async () => {
      const [c] = await store.write([{ kind: 'create', resource: patient(50, 'Durable', 'Dee', '1966-06-16') }], author);
      store = await t.reopen();
      assert.equal((await store.read('Patient', c!.resource!.id!))!.versionId, c!.entry!.versionId);
      const [u] = await store.write([{ kind: 'update', resource: c!.resource! }], author);
      assert.ok(u!.entry!.hlc > c!.entry!.hlc);
    });
  });
}
