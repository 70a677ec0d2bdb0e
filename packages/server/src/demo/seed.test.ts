import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Organization, Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '@steadfast/domain';
import { sql } from 'kysely';
import { openStore } from '@steadfast/store';
import { openTestStore, PG_SKIP_REASON, postgresAvailable } from '@steadfast/store/testing';
import { demoPracticeIds, generatePractice } from './generate.ts';
import { relaxSync, SEED_AUTHOR, seedPractice, type SeedProgress } from './seed.ts';

async function withStore(fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-seed-'));
  const store = await openStore({ dataDir: dir, nodeId: 'seed-test-node', practice: 'Y12345' });
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('seedPractice writes the whole generated practice to a real SQLite store, in batches, with the given ids', async () => {
  await withStore(async (store) => {
    const progress: SeedProgress[] = [];
    const options = { patients: 40, seed: 'seed-test', today: '2026-11-25' };
    const result = await seedPractice(store, { ...options, batchSize: 200, validate: 'all', onProgress: (p) => progress.push(p) });
    const expected = [...generatePractice({ ...options, odsCode: 'Y12345' })];
    assert.equal(result.resources, expected.length);
    assert.equal(result.patients, 40);
    assert.equal(result.validated, expected.length);
    // Batches of 200: progress after each, counts rising to the total.
    assert.equal(progress.length, Math.ceil(expected.length / 200));
    assert.deepEqual(progress.map((p) => p.resources), [...progress.map((p) => p.resources)].sort((a, b) => a - b));
    assert.equal(progress.at(-1)!.resources, expected.length);

    // Every resource is there under the generator's id, as version 1 written by system:seed.
    const changes = await store.changesSince(0, 100_000);
    assert.equal(changes.length, expected.length);
    assert.ok(changes.every((c) => c.author === SEED_AUTHOR && c.op === 'put'));
    const ids = demoPracticeIds(options);
    const org = (await store.read('Organization', ids.organization))?.resource as Organization | undefined;
    assert.equal(org?.identifier?.find((i) => i.system === ODS_SYSTEM)?.value, 'Y12345', 'the practice takes the store ODS code');
    const first = expected.find((r): r is Patient => r.resourceType === 'Patient')!;
    const stored = (await store.read('Patient', first.id!))!.resource as Patient;
    assert.equal(stored.name?.[0]?.family, first.name?.[0]?.family);

    // Searchable like any other record: by NHS number, and the patient's clinical entries by patient.
    const nhs = first.identifier!.find((i) => i.system === NHS_NUMBER_SYSTEM)!.value!;
    const found = await store.search({
      resourceType: 'Patient',
      params: [{ name: 'identifier', values: [`${NHS_NUMBER_SYSTEM}|${nhs}`] }],
      count: 10,
      offset: 0,
    });
    assert.deepEqual(found.resources.map((r) => r.id), [first.id]);
    const observations = await store.search({ resourceType: 'Observation', params: [{ name: 'patient', values: [`Patient/${first.id}`] }], count: 1000, offset: 0 });
    assert.equal(observations.resources.length, expected.filter((r) => r.resourceType === 'Observation' && (r as { subject?: { reference?: string } }).subject?.reference === `Patient/${first.id}`).length);
  });
});

test('seedPractice validates a sample by default, and refuses a batch size it cannot use', async () => {
  await withStore(async (store) => {
    const result = await seedPractice(store, { patients: 120, seed: 9, today: '2026-11-25' });
    assert.ok(result.validated > 0 && result.validated < result.resources, `validated ${result.validated} of ${result.resources}`);
    await assert.rejects(seedPractice(store, { patients: 1, seed: 9, batchSize: 0 }), /batchSize must be a positive whole number/);
  });
});

test('seedPractice refuses a store that holds real patients, and writes nothing', async () => {
  await withStore(async (store) => {
    await store.write(
      [{ kind: 'create', resource: { resourceType: 'Patient', name: [{ family: 'Real' }], identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9991234564' }] } }],
      { author: 'test' },
    );
    const before = (await store.changesSince(0, 1000)).length;
    await assert.rejects(seedPractice(store, { patients: 5, seed: 1, today: '2026-11-25' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'conflict');
      assert.match(err.message, /already holds real patient records/);
      return true;
    });
    assert.equal((await store.changesSince(0, 1000)).length, before, 'nothing was written');
  });
});

test('seedPractice may re-seed a store that holds only an earlier demo', async () => {
  await withStore(async (store) => {
    await seedPractice(store, { patients: 5, seed: 1, today: '2026-11-25', validate: 'none' });
    const again = await seedPractice(store, { patients: 5, seed: 1, today: '2026-11-25', validate: 'none' });
    assert.equal(again.patients, 5);
  });
});

test('seedPractice relaxes SQLite syncing only while it writes, then restores the store setting', async () => {
  await withStore(async (store) => {
    const setting = async () => Number((await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(store.db)).rows[0]!.synchronous);
    assert.equal(await setting(), 2, 'the store opens with synchronous = FULL');
    const restore = await relaxSync(store);
    assert.equal(await setting(), 1, 'NORMAL while seeding');
    await restore!();
    assert.equal(await setting(), 2);
    await seedPractice(store, { patients: 3, seed: 1, today: '2026-11-25', validate: 'none' });
    assert.equal(await setting(), 2, 'FULL again after seeding');
  });
});

test('the worker thread and the in-process seed write exactly the same records', async () => {
  const bodies = async (worker: boolean) => {
    let out: string[] = [];
    await withStore(async (store) => {
      await seedPractice(store, { patients: 30, seed: 'same', today: '2026-11-25', worker, batchSize: 64 });
      const entries = await store.changesSince(0, 100_000);
      // meta.versionId and lastUpdated are the store's own; everything else must match.
      out = entries.map((e) => JSON.stringify({ ...e.resource, meta: { security: e.resource?.meta?.security } }));
    });
    return out;
  };
  const [threaded, inline] = [await bodies(true), await bodies(false)];
  assert.ok(threaded.length > 300);
  assert.ok(threaded.length === inline.length && threaded.every((b, i) => b === inline[i]), 'worker and in-process output differ');
});

test('an error in the seed worker reaches the caller with its message, and nothing more is written', async () => {
  await withStore(async (store) => {
    await assert.rejects(seedPractice(store, { patients: 3, seed: 1, today: '25/11/2026', worker: true }), /today must be YYYY-MM-DD/);
    assert.equal((await store.changesSince(0, 10)).length, 0);
  });
});

describe('seedPractice on PostgreSQL', async () => {
  const skip = (await postgresAvailable()) ? false : PG_SKIP_REASON;
  test('writes the same practice to PostgreSQL, searchable by NHS number', { skip }, async () => {
    const t = await openTestStore('postgres', { practice: 'Y12345' });
    try {
      const options = { patients: 15, seed: 'pg', today: '2026-11-25' };
      const result = await seedPractice(t.store, { ...options, validate: 'all' });
      const expected = [...generatePractice({ ...options, odsCode: 'Y12345' })];
      assert.equal(result.resources, expected.length);
      assert.equal((await t.store.changesSince(0, 100_000)).length, expected.length);
      const first = expected.find((r): r is Patient => r.resourceType === 'Patient')!;
      const nhs = first.identifier!.find((i) => i.system === NHS_NUMBER_SYSTEM)!.value!;
      const found = await t.store.search({ resourceType: 'Patient', params: [{ name: 'identifier', values: [`${NHS_NUMBER_SYSTEM}|${nhs}`] }], count: 5, offset: 0 });
      assert.deepEqual(found.resources.map((r) => r.id), [first.id]);
    } finally {
      await t.dispose();
    }
  });
});
