import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidNhsNumber as domainValid, testNhsNumber } from '@steadfast/domain';
import { formatNhsNumber, isValidNhsNumber } from './nhsNumber.ts';

test('browser NHS number check agrees with the domain check on valid and corrupted numbers', () => {
  for (let n = 0; n < 2000; n += 7) {
    const good = testNhsNumber(n);
    assert.equal(isValidNhsNumber(good), true, good);
    const lastDigit = Number(good[9]);
    const bad = good.slice(0, 9) + String((lastDigit + 1) % 10);
    assert.equal(isValidNhsNumber(bad), domainValid(bad), bad);
  }
  assert.equal(isValidNhsNumber('999123456'), false);
  assert.equal(isValidNhsNumber('99912345AB'), false);
});

test('NHS numbers are shown 3-3-4', () => {
  assert.equal(formatNhsNumber('9991234564'), '999 123 4564');
  assert.equal(formatNhsNumber('999-123-4564'), '999 123 4564');
  assert.equal(formatNhsNumber(undefined), '');
});
