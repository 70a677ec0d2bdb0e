import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, formatDate, labName, patientName, addressText } from './format.ts';

test('dates are written 1-Feb-1980 so day and month cannot be swapped', () => {
  assert.equal(formatDate('1980-02-01'), '1-Feb-1980');
  assert.equal(formatDate('1980-02'), 'Feb-1980');
  assert.equal(formatDate('2024-12-31T10:00:00Z'), '31-Dec-2024');
});

test('ages in years, or months, weeks and days for babies', () => {
  const today = new Date(2026, 10, 25);
  assert.equal(formatAge('1980-02-01', today), '46y');
  assert.equal(formatAge('1980-11-26', today), '45y');
  assert.equal(formatAge('2026-05-20', today), '6m');
  assert.equal(formatAge('2026-11-04', today), '3w');
  assert.equal(formatAge('2026-11-22', today), '3d');
});

test('patient names show the surname in capitals first', () => {
  assert.equal(patientName([{ family: 'Smith', given: ['Jane', 'Ann'], prefix: ['Mrs'] }]), 'SMITH, Jane Ann (Mrs)');
  assert.equal(patientName(undefined), 'Name not recorded');
  assert.equal(addressText({ resourceType: 'Patient', address: [{ line: ['1 High St'], city: 'Leeds', postalCode: 'LS1 4AP' }] }), '1 High St, Leeds, LS1 4AP');
});

test('a laboratory is named by the first component of MSH-4', () => {
  assert.equal(labName('RX1LAB^RX1'), 'RX1LAB');
  assert.equal(labName(''), 'Unknown laboratory');
  assert.equal(labName(undefined), 'Unknown laboratory');
});
