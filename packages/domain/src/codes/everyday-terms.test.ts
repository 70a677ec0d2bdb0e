/** Everyday UK words find codes and tests: "U&E", "chest infection", "water infection", "TFTs". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchConcepts } from './snomed.ts';
import { matchesTestQuery } from './test-terms.ts';

const catalogue = [
  { code: 'FBC', display: 'Full blood count' },
  { code: 'UE', display: 'Urea and electrolytes', includes: ['Sodium', 'Potassium', 'Urea', 'Creatinine', 'eGFR'] },
  { code: 'LFT', display: 'Liver function tests', includes: ['Bilirubin', 'ALT', 'ALP', 'Albumin', 'Total protein'] },
  { code: 'TFT', display: 'Thyroid function tests' },
  { code: 'LIPID', display: 'Lipid profile', includes: ['Total cholesterol', 'HDL cholesterol'] },
  { code: 'MSU', display: 'Urine culture (MSU)' },
  { code: 'DIAB-ANNUAL', display: 'Diabetes annual review', tests: ['HBA1C', 'UE', 'LIPID', 'UACR'] },
];
const find = (q: string) => catalogue.filter((t) => matchesTestQuery(t, q)).map((t) => t.code);

test('regression: "U&E" found no test on the request screen (and junk codes in the code picker)', () => {
  for (const q of ['U&E', 'u&e', 'U & E', 'U+E', 'u and e', 'U&Es', 'UE', 'urea', 'electrolytes']) assert.ok(find(q).includes('UE'), q);
  assert.deepEqual(find('U&E').filter((c) => c !== 'UE' && c !== 'DIAB-ANNUAL'), [], 'nothing else matches U&E');
  assert.deepEqual(searchConcepts('U&E', { kind: ['condition', 'finding', 'procedure'] }).map((c) => c.display), [], 'no unrelated codes ("Follow-up encounter") for U&E');
});

test('everyday words find the test: TFTs, kidney function, water infection, cholesterol', () => {
  assert.deepEqual(find('TFTs'), ['TFT']);
  assert.ok(find('kidney function').includes('UE'));
  assert.deepEqual(find('water infection'), ['MSU']);
  assert.ok(find('cholesterol').includes('LIPID'));
  assert.deepEqual(find('nonsense words'), []);
  assert.equal(find('').length, catalogue.length, 'nothing typed shows everything');
});

test('everyday words find the code: chest infection, LRTI, water infection', () => {
  const chest = searchConcepts('chest infection', { kind: 'condition' }).map((c) => c.display);
  assert.ok(chest.includes('Lower respiratory tract infection'), chest.join(', '));
  assert.ok(chest.includes('Acute bronchitis'));
  assert.equal(searchConcepts('LRTI')[0]?.display, 'Lower respiratory tract infection');
  assert.equal(searchConcepts('water infection')[0]?.display, 'Urinary tract infection');
});
