import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPathologyFolder } from './routes.ts';
import { buildOru } from '../testing/hl7-fixtures.ts';
import { addPatients, openPathologyStore } from '../testing/pathology-store.ts';

test('drop folder: result files are filed once (copies of the same report are duplicates), bad files move to quarantine', async () => {
  const { store, close } = await openPathologyStore();
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-drop-'));
  const watch = startPathologyFolder(store, { dir, intervalMs: 3_600_000 });
  try {
    const [p] = await addPatients(store, [500]);
    const oru = (id: string) => buildOru({ messageId: id, nhsNumber: p!.nhsNumber, family: p!.family, given: p!.given, birthDate: p!.birthDate.replace(/-/g, ''), filler: 'DROP1', test: ['PSA', 'PSA'], obx: [{ code: 'PSA', display: 'PSA', value: '1.2', units: 'ug/L' }] }, '\n');
    writeFileSync(join(dir, 'a.hl7'), oru('D1'));
    writeFileSync(join(dir, 'b.hl7'), oru('D2'));
    writeFileSync(join(dir, 'c.hl7'), 'not a message');
    writeFileSync(join(dir, 'ignored.pdf'), 'x');
    const outcomes = await watch.scan();
    assert.deepEqual(outcomes.map((o) => o.state), ['filed', 'duplicate', 'quarantined']);
    assert.equal(readdirSync(join(dir, 'processed')).length, 2);
    assert.equal(readdirSync(join(dir, 'quarantine')).length, 1);
    assert.ok(existsSync(join(dir, 'ignored.pdf')), 'files that are not results are left alone');
    assert.equal((await watch.scan()).length, 0, 'a second scan finds nothing new');
    assert.equal((await store.search({ resourceType: 'DiagnosticReport', params: [], count: 10, offset: 0, total: true })).total, 1);
  } finally {
    watch.close();
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
});
