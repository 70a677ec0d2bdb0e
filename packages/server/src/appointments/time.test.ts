import { test } from 'node:test';
import assert from 'node:assert/strict';
import { londonDayStart, londonInstant } from './time.ts';

test('diary times are UK clock time: GMT in winter, BST in summer', () => {
  assert.equal(londonInstant('2026-01-15', '09:00'), '2026-01-15T09:00:00.000Z');
  assert.equal(londonInstant('2026-07-01', '09:00'), '2026-07-01T08:00:00.000Z');
  assert.equal(londonDayStart('2026-07-01', 1), '2026-07-01T23:00:00.000Z');
  assert.equal(londonDayStart('2026-10-24', 1), '2026-10-24T23:00:00.000Z'); // BST ends 25 Oct 2026
  assert.equal(londonDayStart('2026-10-25', 1), '2026-10-26T00:00:00.000Z');
});
