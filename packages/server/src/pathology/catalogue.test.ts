import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SteadfastError } from '@steadfast/domain';
import { bundledCatalogue, findByLabCode, loadCatalogue, parseCatalogueEdit, resolveTests, retireCatalogueEntry, saveCatalogueEdit, tubesFor } from './catalogue.ts';
import { openPathologyTestDb } from '../testing/pathology-db.ts';

test('bundled catalogue holds the common GP tests, each with specimen and tube', () => {
  const cat = bundledCatalogue();
  for (const code of ['FBC', 'UE', 'LFT', 'HBA1C', 'LIPID', 'TFT', 'CRP', 'FERR', 'INR', 'UACR', 'PSA', 'B12F', 'VITD', 'EGFR', 'BONE']) {
    const t = cat.tests.find((x) => x.code === code);
    assert.ok(t, `${code} is in the catalogue`);
    assert.ok(t.tube.colour && t.tube.volumeMl > 0 && t.specimen);
    assert.ok(t.snomed || t.snomedNote, `${code} either has a SNOMED code or says why not`);
  }
  assert.equal(cat.tests.find((t) => t.code === 'INR')?.tube.colour, 'Light blue');
});

test('profiles expand to distinct tests and unknown codes are named in the error', () => {
  const cat = bundledCatalogue();
  const tests = resolveTests(cat, ['DIAB-ANNUAL', 'hba1c']);
  assert.deepEqual(tests.map((t) => t.code).sort(), ['HBA1C', 'LIPID', 'UACR', 'UE']);
  assert.throws(() => resolveTests(cat, ['FBC', 'NOPE']), (e: unknown) => e instanceof SteadfastError && e.message.includes('NOPE') && e.field === 'tests');
  assert.throws(() => resolveTests(cat, []), (e: unknown) => e instanceof SteadfastError && e.code === 'required');
});

test('tubes are grouped by type so a profile needs one gold tube, not four', () => {
  const tubes = tubesFor(resolveTests(bundledCatalogue(), ['UE', 'LFT', 'CRP', 'FBC']));
  assert.equal(tubes.length, 2);
  assert.deepEqual(tubes.find((t) => t.colour === 'Gold')?.tests, ['UE', 'LFT', 'CRP']);
});

test('laboratory codes are recognised by code, alias or SNOMED CT, and unknown ones are not', () => {
  const cat = bundledCatalogue();
  assert.equal(findByLabCode(cat, 'B3051')?.code, 'HBA1C');
  assert.equal(findByLabCode(cat, '26604007', 'http://snomed.info/sct')?.code, 'FBC');
  assert.equal(findByLabCode(cat, 'MACR')?.code, 'UACR');
  assert.equal(findByLabCode(cat, 'F5DNA'), undefined);
});

test('a practice administrator can add, change and retire entries; edits are validated', async () => {
  const { db, close } = await openPathologyTestDb();
  try {
    const added = parseCatalogueEdit('AMYL', { display: 'Amylase', specimen: 'Blood', tube: { colour: 'Gold', additive: 'SST', volumeMl: 5 } });
    await saveCatalogueEdit(db, 'A81001', added, 'admin-1');
    const changed = parseCatalogueEdit('FBC', { ...bundledCatalogue().tests[0], tube: { colour: 'Purple', additive: 'EDTA', volumeMl: 3 } });
    await saveCatalogueEdit(db, 'A81001', changed, 'admin-1');
    await retireCatalogueEntry(db, 'A81001', 'ESR', 'admin-1');
    const cat = await loadCatalogue(db, 'A81001');
    assert.equal(cat.tests.find((t) => t.code === 'AMYL')?.display, 'Amylase');
    assert.equal(cat.tests.find((t) => t.code === 'FBC')?.tube.colour, 'Purple');
    assert.equal(cat.tests.find((t) => t.code === 'ESR'), undefined);
    // another practice's catalogue is untouched
    const other = await loadCatalogue(db, 'B82002');
    assert.equal(other.tests.find((t) => t.code === 'FBC')?.tube.colour, 'Lavender');
    assert.throws(
      () => parseCatalogueEdit('X1', { display: 'X', specimen: 'Blood', tube: { colour: 'Gold', additive: 'SST', volumeMl: -1 } }),
      (e: unknown) => e instanceof SteadfastError && e.field === 'tube.volumeMl',
    );
  } finally {
    await close();
  }
});
