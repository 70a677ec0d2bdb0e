import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testNhsNumber } from '@steadfast/domain';
import { parseQuery, toSearchString } from './parseQuery.ts';

const today = new Date('2026-11-25T12:00:00Z');
const parse = (q: string) => parseQuery(q, today);
const nhs = testNhsNumber(42);
const spaced = `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`;

test('an NHS number is found with or without spaces or dashes', () => {
  for (const q of [nhs, spaced, `${nhs.slice(0, 3)}-${nhs.slice(3, 6)}-${nhs.slice(6)}`, `  ${spaced}  `]) {
    const p = parse(q);
    assert.deepEqual(p.params, [['identifier', `https://fhir.nhs.uk/Id/nhs-number|${nhs}`]], q);
    assert.deepEqual(p.problems, []);
    assert.equal(p.understood[0], `NHS number ${spaced}`);
  }
});

test('an NHS number with a wrong check digit is reported, never searched as something else', () => {
  const bad = nhs.slice(0, 9) + String((Number(nhs[9]) + 1) % 10);
  const p = parse(bad);
  assert.deepEqual(p.params, []);
  assert.match(p.problems[0]!, /not a valid NHS number/);
});

test('dates of birth in the formats people use all mean the same day (day first)', () => {
  for (const q of ['01/02/1980', '1/2/1980', '1-2-1980', '01.02.1980', '1980-02-01', '1 Feb 1980', '1st February 1980', '1-feb-1980', '01/02/80']) {
    const p = parse(q);
    assert.deepEqual(p.params, [['birthdate', '1980-02-01']], q);
    assert.deepEqual(p.understood, ['born 1 February 1980'], q);
  }
});

test('two-digit years are never in the future', () => {
  assert.deepEqual(parse('3/4/05').params, [['birthdate', '2005-04-03']]);
  assert.deepEqual(parse('3/4/27').params, [['birthdate', '1927-04-03']]);
});

test('impossible dates are reported, not searched', () => {
  for (const q of ['31/02/1980', '1980-13-01', '32 Jan 1980']) {
    const p = parse(q);
    assert.deepEqual(p.params, [], q);
    assert.equal(p.problems.length, 1, q);
  }
});

test('postcodes with or without the space, and outward codes alone', () => {
  assert.deepEqual(parse('LS1 4AP').params, [['address-postalcode', 'LS14AP']]);
  assert.deepEqual(parse('ls14ap').params, [['address-postalcode', 'LS14AP']]);
  assert.deepEqual(parse('SW1A 1AA').params, [['address-postalcode', 'SW1A1AA']]);
  assert.deepEqual(parse('M1').params, [['address-postalcode', 'M1']]);
  assert.equal(parse('LS1 4AP').understood[0], 'postcode LS1 4AP');
});

test('names: surname, "given surname" and "surname, given"', () => {
  assert.deepEqual(parse('smith').params, [['family', 'smith']]);
  assert.deepEqual(parse('John Smith').params, [['family', 'Smith'], ['given', 'John']]);
  assert.deepEqual(parse('Smith, John').params, [['family', 'Smith'], ['given', 'John']]);
  assert.deepEqual(parse("o'brien-jones").params, [['family', "o'brien-jones"]]);
  assert.deepEqual(parse('smith').understood, ['surname Smith']);
  assert.deepEqual(parse("o'brien").understood, ["surname O'Brien"]);
});

test('a name and a date of birth together narrow the search', () => {
  const p = parse('smith 01/02/1980');
  assert.deepEqual(p.params, [['birthdate', '1980-02-01'], ['family', 'smith']]);
  const q = parse('jane smith 1 Feb 1980 LS1 4AP');
  assert.deepEqual(new Set(q.params.map(([k]) => k)), new Set(['birthdate', 'family', 'given', 'address-postalcode']));
});

test('a year alone searches everyone born that year', () => {
  assert.deepEqual(parse('1980').params, [['birthdate', '1980']]);
});

test('UK phone numbers', () => {
  assert.deepEqual(parse('07700 900111').params, [['phone', '07700900111']]);
  assert.deepEqual(parse('+44 7700 900111').params, [['phone', '07700900111']]);
});

test('blank input and stray digits search for nothing', () => {
  assert.deepEqual(parse('   ').params, []);
  const p = parse('12345');
  assert.deepEqual(p.params, []);
  assert.match(p.problems[0]!, /Not understood/);
});

test('the query string carries the parameters and a page size', () => {
  assert.equal(toSearchString(parse('John Smith'), 10), 'family=Smith&given=John&_count=10');
});
