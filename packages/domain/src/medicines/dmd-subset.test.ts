/**
 * The bundled dm+d subset and rules are well formed, so a replacement file that is not fails here
 * before it reaches a prescriber: every VMP has a form, strength, unit and usual dosages; every id is
 * SCTID-shaped with a valid Verhoeff check digit; every rule names products that exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidConceptId, verhoeffCheckDigit } from '../codes/sctid.ts';
import { bundledRules, bundledSubset, productByCode } from './products.ts';
import { matches } from './checks.ts';
import type { DmdProduct } from './types.ts';

const products = bundledSubset.products;

test('the subset says where it came from, its date and how to replace it', () => {
  assert.match(bundledSubset.source, /NOT a dm\+d release/);
  assert.match(bundledSubset.release, /\d{4}-\d{2}-\d{2}/);
  assert.match(bundledSubset.replace, /TRUD|NHSBSA/);
  assert.ok(products.length >= 60, `only ${products.length} products`);
});

test('every VMP has a name, form, route, strength, unit of measure, classes and at least one usual dosage', () => {
  const problems: string[] = [];
  for (const p of products) {
    const where = `${p.vmp} ${p.name}`;
    if (!p.name.trim() || !p.vtmName.trim()) problems.push(`${where}: name or substance missing`);
    if (!p.form.trim() || !p.route.trim()) problems.push(`${where}: form or route missing`);
    if (!(p.strength.value > 0) || !p.strength.unit.trim() || !p.strengthText.trim()) problems.push(`${where}: strength missing`);
    if (!p.unitOfMeasure.trim()) problems.push(`${where}: unit of measure missing`);
    if (p.classes.length === 0) problems.push(`${where}: no classes`);
    if (!p.verifiedBy.trim()) problems.push(`${where}: no record of where the code was confirmed`);
    if (p.standardDosages.length === 0) problems.push(`${where}: no standard dosage`);
    for (const d of p.standardDosages) {
      if (!d.text.trim() || !(d.dosePerAdministration > 0) || !(d.frequencyPerDay > 0)) problems.push(`${where}: dosage "${d.text}" incomplete`);
      if (d.days !== undefined && !(Number.isInteger(d.days) && d.days > 0)) problems.push(`${where}: dosage "${d.text}" days ${d.days}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every VMP, earlier VMP and AMP id is an SCTID with a valid Verhoeff check digit, and each id names one product', () => {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const p of products) {
    if (p.vtm !== undefined && !isValidConceptId(p.vtm)) problems.push(`VTM ${p.vtm} (${p.name}) is not a valid SNOMED CT concept id`);
    for (const id of [p.vmp, ...(p.previousVmps ?? []), ...p.amps.map((a) => a.amp)]) {
      if (!isValidConceptId(id)) problems.push(`${id} (${p.name}) is not a valid SNOMED CT concept id`);
      if (seen.has(id)) problems.push(`${id} is used by ${seen.get(id)} and ${p.name}`);
      seen.set(id, p.name);
    }
    for (const a of p.amps) if (!a.name.trim() || !a.supplier.trim()) problems.push(`${a.amp}: AMP name or supplier missing`);
  }
  assert.deepEqual(problems, []);
});

test('the check-digit test can fail: a changed last digit is refused', () => {
  const good = products[0]!.vmp;
  const body = good.slice(0, -1);
  assert.equal(String(verhoeffCheckDigit(body)), good.slice(-1));
  const wrong = `${body}${(Number(good.slice(-1)) + 1) % 10}`;
  assert.equal(isValidConceptId(wrong), false);
});

test('ids named in the NHS examples map to the right products (an edit cannot swap them)', () => {
  assert.equal(productByCode('322236009', products)?.name, 'Paracetamol 500mg tablets');
  assert.equal(productByCode('39732411000001106', products)?.name, 'Amoxicillin 500mg capsules');
  assert.equal(productByCode('323510009', products)?.name, 'Amoxicillin 500mg capsules', 'the retired id still finds the product');
  assert.equal(productByCode('39732311000001104', products)?.name, 'Amoxicillin 250mg capsules');
  assert.equal(productByCode('381511000001101', products)?.name, 'Pseudoephedrine hydrochloride 60mg tablets', 'an AMP finds its VMP');
  assert.equal(productByCode('123456789', products), undefined);
});

const matchesAny = (m: { class?: string; substance?: string; vmp?: string }) => products.some((p: DmdProduct) => matches(p, m));

test('every rule set says where it came from, and every dose rule is for a product of the subset in its strength unit', () => {
  for (const [name, set] of Object.entries(bundledRules)) {
    assert.ok((set as { source: string }).source.length > 20, `${name} has no source`);
    assert.ok((set as { version: string }).version, `${name} has no version`);
  }
  for (const r of bundledRules.dose.rules) {
    const p = productByCode(r.vmp, products);
    assert.ok(p, `dose rule for ${r.vmp}: no such product`);
    assert.equal(r.unit, p.strength.unit, `dose rule for ${p.name} is in ${r.unit}, the strength in ${p.strength.unit}`);
    assert.ok(r.maxPerDose > 0 && r.maxPerDay >= r.maxPerDose, `dose rule for ${p.name}: per dose ${r.maxPerDose}, per day ${r.maxPerDay}`);
    if (r.maxPerWeek !== undefined) assert.ok(r.maxPerWeek >= r.maxPerDose, `dose rule for ${p.name}: per week ${r.maxPerWeek} under per dose ${r.maxPerDose}`);
    if (r.minDaysBetweenDoses !== undefined) assert.ok(r.minDaysBetweenDoses >= 1, `dose rule for ${p.name}: minDaysBetweenDoses ${r.minDaysBetweenDoses}`);
  }
  for (const r of bundledRules.allergy.rules) assert.ok(r.products.some(matchesAny), `allergy rule ${r.id} matches no product`);
  const ids = new Set<string>();
  for (const r of [...bundledRules.allergy.rules, ...bundledRules.interaction.rules]) {
    assert.ok(/^[a-z0-9-]+$/.test(r.id) && !ids.has(r.id), `rule id ${r.id} must be unique kebab-case (alert ids are built from it)`);
    ids.add(r.id);
  }
  for (const code of bundledRules.allergy.rules.flatMap((r) => r.allergen.codes)) assert.ok(isValidConceptId(code), `allergen code ${code}`);
});
