import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundledSubset } from './products.ts';
import { searchProducts } from './search.ts';

const products = bundledSubset.products;
const names = (q: string, limit?: number) => searchProducts(q, products, limit).map((p) => p.name);

test('searchProducts: every typed word must begin a word of the product; the name beginning with the query ranks first', () => {
  assert.deepEqual(names('amox').slice(0, 2), ['Amoxicillin 250mg capsules', 'Amoxicillin 500mg capsules']);
  assert.equal(names('amox').at(-1), 'Co-amoxiclav 500mg/125mg tablets', 'found by its substance (amoxicillin), ranked last');
  assert.deepEqual(names('amox 500'), ['Amoxicillin 500mg capsules', 'Co-amoxiclav 500mg/125mg tablets']);
  assert.ok(names('500mg').length >= 4 && names('500mg').every((n) => /500mg/.test(n)), names('500mg').join(', '));
  assert.deepEqual(names('para')[0], 'Paracetamol 500mg tablets');
  // Co-codamol contains paracetamol: found by its substance, ranked after the products named so.
  assert.ok(names('paracetamol').includes('Co-codamol 30mg/500mg tablets'));
  assert.equal(names('paracetamol').at(-1), 'Co-codamol 30mg/500mg tablets');
});

test('searchProducts finds by brand (AMP) name, ignores case and punctuation, and honours the limit', () => {
  assert.deepEqual(names('SUDAFED'), ['Pseudoephedrine hydrochloride 60mg tablets']);
  assert.deepEqual(names('  co-codamol 30'), ['Co-codamol 30mg/500mg tablets']);
  assert.equal(names('m', 2).length, 2);
});

test('searchProducts: nothing for an empty query or a word no product has (the search can come back empty)', () => {
  assert.deepEqual(names(''), []);
  assert.deepEqual(names('   '), []);
  assert.deepEqual(names('xylophone'), []);
  assert.deepEqual(names('amoxicillin inhaler'), [], 'every word must match: there is no amoxicillin inhaler');
});
