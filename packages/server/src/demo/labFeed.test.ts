import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { isTestData } from '@steadfast/domain';
import { openStore } from '@steadfast/store';
import { pathologyMigrations } from '../pathology/tables.ts';
import { listInbox } from '../pathology/inbox.ts';
import { seedLabFeed } from './labFeed.ts';
import { seedPractice } from './seed.ts';

test('the demo lab feed fills the results inbox through the real receive and filing paths, labelled as test data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-labfeed-'));
  const store = await openStore({ dataDir: dir, nodeId: 'labfeed-node', practice: 'Y99999', migrations: pathologyMigrations });
  try {
    await seedPractice(store, { patients: 40, seed: 'lab-feed-test', today: '2026-12-02' });
    const clinician = { id: 'user-clinician', name: 'Dr Demo' };
    const result = await seedLabFeed(store, { clinician, seed: 'lab-feed-test', now: new Date('2026-12-02T09:00:00Z') });
    assert.deepEqual(result, { requested: 6, messages: 17, filed: 13, duplicates: 3, heldForAPerson: 1 });
    const mine = await listInbox(store, { id: clinician.id }, 'mine');
    const pool = await listInbox(store, { id: clinician.id }, 'pool');
    assert.equal(mine.items.length, 6, 'the clinician’s own requests come back to them');
    assert.equal(pool.items.length, 6);
    assert.ok(mine.items.some((i) => i.flags.includes('correction')), 'one of them corrected by the laboratory');
    const all = (await store.search({ resourceType: 'DiagnosticReport', params: [], count: 1000, offset: 0 })).resources as DiagnosticReport[];
    const reports = all.filter((r) => r.identifier?.some((i) => i.value?.startsWith('DEMO')));
    assert.equal(reports.length, 12);
    assert.ok(reports.every(isTestData), 'results filed for synthetic patients carry the test-data label');
    const requests = await store.search({ resourceType: 'ServiceRequest', params: [], count: 100, offset: 0 });
    assert.ok(requests.resources.length === 6 && requests.resources.every(isTestData));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
