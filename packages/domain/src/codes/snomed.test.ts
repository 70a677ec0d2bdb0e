import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conceptById, concepts, searchConcepts, snomedConcept } from './snomed.ts';
import { isValidConceptId } from './sctid.ts';
import { medicines, searchMedicines, medicineByName } from './medicines.ts';

test('every bundled SNOMED CT code is a well-formed concept id with a valid Verhoeff check digit', () => {
  const bad = concepts.filter((concept) => !isValidConceptId(concept.code)).map((concept) => `${concept.code} ${concept.display}`);
  assert.deepEqual(bad, []);
});

test('bundled codes are unique and every observable or result has a unit', () => {
  const seen = new Set<string>();
  for (const concept of concepts) {
    assert.ok(!seen.has(concept.code), `${concept.code} appears twice`);
    seen.add(concept.code);
    if (concept.kind === 'observable' || concept.kind === 'lab') {
      assert.ok(concept.ucum && concept.unit, `${concept.code} ${concept.display} has no unit`);
    }
  }
});

test('codes named in the domain notes map to the right concepts', () => {
  // Pins the id-to-meaning pairs the requirement and domain notes give, so an edit cannot swap them.
  assert.equal(conceptById('38341003')?.display, 'Hypertension');
  assert.equal(conceptById('44054006')?.display, 'Type 2 diabetes mellitus');
  assert.equal(conceptById('195967001')?.display, 'Asthma');
  assert.equal(conceptById('91936005')?.display, 'Allergy to penicillin');
  assert.equal(conceptById('271649006')?.display, 'Systolic blood pressure');
  assert.equal(conceptById('271650006')?.display, 'Diastolic blood pressure');
  assert.equal(conceptById('999791000000106')?.unit, 'mmol/mol');
  assert.equal(conceptById('123456789'), undefined);
});

test('searchConcepts finds by word prefix, synonym and id, best match first', () => {
  assert.equal(searchConcepts('hypert')[0]?.code, '38341003');
  assert.equal(searchConcepts('type 2 dia')[0]?.code, '44054006');
  assert.equal(searchConcepts('high blood pressure')[0]?.code, '38341003');
  assert.equal(searchConcepts('HbA1c', { kind: 'lab' })[0]?.code, '999791000000106');
  assert.equal(searchConcepts('copd')[0]?.code, '13645005');
  assert.equal(searchConcepts('penicillin', { kind: 'allergy' })[0]?.code, '91936005');
  assert.deepEqual(searchConcepts('44054006').map((c) => c.code), ['44054006']);
  assert.equal(searchConcepts('ckd 3')[0]?.code, '433144002');
  assert.equal(searchConcepts('Alzheimers')[0]?.code, '26929004');
});

test('searchConcepts honours kind and limit and matches nothing for nonsense', () => {
  const diabetes = searchConcepts('diabetes', { kind: 'condition', limit: 2 });
  assert.equal(diabetes.length, 2);
  assert.ok(diabetes.every((c) => c.kind === 'condition'));
  assert.deepEqual(searchConcepts('diabetes', { kind: 'allergy' }), []);
  assert.deepEqual(searchConcepts('zzzqqq'), []);
  assert.deepEqual(searchConcepts('   '), []);
  const both = searchConcepts('pressure', { kind: ['observable', 'condition'] });
  assert.ok(both.some((c) => c.kind === 'observable'));
  // every word must match: "blood" alone matches BP, "blood xyz" matches nothing
  assert.deepEqual(searchConcepts('blood xyz'), []);
});

test('snomedConcept builds a coding and refuses ids outside the subset', () => {
  assert.deepEqual(snomedConcept('195967001'), { coding: [{ system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' }], text: 'Asthma' });
  assert.throws(() => snomedConcept('999999999'), /not in the bundled subset/);
});

test('medicine list: unique names, dose text, search by words', () => {
  const names = new Set(medicines.map((med) => med.name));
  assert.equal(names.size, medicines.length);
  assert.ok(medicines.every((med) => med.dose.length > 5 && med.quantity > 0));
  assert.equal(searchMedicines('amlo 5')[0]?.name, 'Amlodipine 5mg tablets');
  assert.equal(medicineByName('Metformin 500mg tablets').dose, 'One tablet twice a day with food');
  assert.throws(() => medicineByName('Nonexistent 1mg tablets'), /not in the bundled list/);
});

test('no medicine carries a dm+d code that is not a well-formed SNOMED CT id', () => {
  // dm+d ids are SCTIDs; a code is only added once confirmed, and must at least be well formed.
  for (const med of medicines) if (med.dmd !== undefined) assert.ok(isValidConceptId(med.dmd), `${med.name}: ${med.dmd}`);
});
