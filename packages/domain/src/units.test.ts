import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayQuantity, displayUnit } from './units.ts';

test('one unit is shown one way: umol/L, µmol/L (micro sign) and μmol/L (Greek mu) all read µmol/L', () => {
  for (const u of ['umol/L', 'umol/l', 'µmol/L', 'μmol/L', ' UMOL/L ']) assert.equal(displayUnit(u), 'µmol/L', u);
  assert.equal(displayUnit('mmol/l'), 'mmol/L');
  assert.equal(displayUnit('10*9/L'), '× 10⁹/L');
  assert.equal(displayUnit('mL/min/{1.73_m2}'), 'mL/min/1.73m²');
});

test('an unknown unit is shown as sent; no unit is empty', () => {
  assert.equal(displayUnit('copies/mL'), 'copies/mL');
  assert.equal(displayUnit(undefined), '');
  assert.equal(displayUnit(''), '');
});

test('a quantity keeps its comparator and shows its unit one way', () => {
  assert.equal(displayQuantity({ value: 88, unit: 'umol/L' }), '88 µmol/L');
  assert.equal(displayQuantity({ value: 5, comparator: '<', unit: 'mmol/l' }), '<5 mmol/L');
  assert.equal(displayQuantity({ value: 3 }), '3');
  assert.equal(displayQuantity(undefined), '');
});
