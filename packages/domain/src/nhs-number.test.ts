import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { explainInvalidNhsNumber, formatNhsNumber, isValidNhsNumber, nhsCheckDigit, testNhsNumber, testNhsNumberCapacity } from './nhs-number.ts';

test('Modulus 11: the worked example from the NHS number standard', () => {
  // 943 476 5919: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9.
  assert.equal(nhsCheckDigit('943476591'), 9);
  assert.equal(isValidNhsNumber('9434765919'), true);
  assert.equal(isValidNhsNumber('943 476 5919'), true);
  assert.equal(isValidNhsNumber('943-476-5919'), true);
  assert.equal(isValidNhsNumber('9434765918'), false);
});

test('a remainder of 11 gives check digit 0 and 10 means no valid number', () => {
  // Sum divisible by 11 → 11 → 0.
  assert.equal(nhsCheckDigit('000000000'), 0);
  // 999000001: 9*10+9*9+9*8+1*2 = 245; 245 mod 11 = 3; → 8
  assert.equal(nhsCheckDigit('999000001'), 8);
  const noCheck = Array.from({ length: 200 }, (_, i) => `999${String(i).padStart(6, '0')}`).find((n) => nhsCheckDigit(n) === undefined);
  assert.ok(noCheck, 'some nine-digit stem has no check digit');
  for (let d = 0; d <= 9; d++) assert.equal(isValidNhsNumber(`${noCheck}${d}`), false);
});

test('explains why a number is invalid', () => {
  assert.match(explainInvalidNhsNumber('12345')!, /has 5 digits/);
  assert.match(explainInvalidNhsNumber('99912345AB')!, /only digits/);
  assert.match(explainInvalidNhsNumber('9434765918')!, /should be 9/);
  assert.equal(explainInvalidNhsNumber('9434765919'), undefined);
  assert.equal(formatNhsNumber('9434765919'), '943 476 5919');
});

test('test-range numbers are always valid and start 999', () => {
  fc.assert(
    fc.property(fc.nat({ max: 900_000 }), (n) => {
      const nhs = testNhsNumber(n);
      return nhs.startsWith('999') && nhs.length === 10 && isValidNhsNumber(nhs);
    }),
  );
  assert.notEqual(testNhsNumber(1), testNhsNumber(2));
});

test('test-range numbers never repeat, and asking past the range is a clear error', () => {
  const seen = new Set<string>();
  for (let n = 0; n < 50_000; n++) seen.add(testNhsNumber(n));
  assert.equal(seen.size, 50_000);
  assert.ok(testNhsNumberCapacity() > 900_000);
  assert.throws(() => testNhsNumber(testNhsNumberCapacity()), /test range has/);
});

test('changing any one digit of a valid number is caught', () => {
  fc.assert(
    fc.property(fc.nat({ max: 900_000 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 9 }), (n, pos, delta) => {
      const nhs = testNhsNumber(n);
      const digits = nhs.split('');
      digits[pos] = String((Number(digits[pos]) + delta) % 10);
      return !isValidNhsNumber(digits.join(''));
    }),
  );
});

test('NHS numbers are shown 3-3-4, with or without separators; nothing shows as nothing', () => {
  assert.equal(formatNhsNumber('9991234564'), '999 123 4564');
  assert.equal(formatNhsNumber('999-123-4564'), '999 123 4564');
  assert.equal(formatNhsNumber(undefined), '');
});
