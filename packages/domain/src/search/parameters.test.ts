import '../fhir/definitions.node.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSearchValue, dateRange, extractIndexRows, normalisePhone, normaliseString, searchParameters } from './parameters.ts';
import { SteadfastError } from '../errors.ts';
import { resourceTypes } from '../fhir/resource-types.ts';

test('every supported resource type has a search parameter table', () => {
  for (const type of resourceTypes) assert.ok(searchParameters[type], type);
});

test('strings are normalised for accent- and punctuation-free prefix matching', () => {
  assert.equal(normaliseString("O'Brien-Smith"), 'obriensmith');
  assert.equal(normaliseString('Siobhán'), 'siobhan');
  assert.equal(normaliseString('LS6 2AB'), 'ls62ab');
});

test('phone numbers keep digits, +44 becomes 0', () => {
  assert.equal(normalisePhone('+44 (0)7700 900123'.replace('(0)', '')), '07700900123');
  assert.equal(normalisePhone('07700 900123'), '07700900123');
});

test('partial dates expand to the range they cover', () => {
  assert.deepEqual(dateRange('1980'), { start: '1980-01-01T00:00:00.000Z', end: '1980-12-31T23:59:59.999Z' });
  assert.deepEqual(dateRange('2024-02'), { start: '2024-02-01T00:00:00.000Z', end: '2024-02-29T23:59:59.999Z' });
  assert.deepEqual(dateRange('2024-03-05T10:15:00+01:00'), { start: '2024-03-05T09:15:00.000Z', end: '2024-03-05T09:15:00.999Z' });
  assert.equal(dateRange('05/03/2024'), undefined);
});

test('a patient yields identifier, name, birth date, phone and postcode rows', () => {
  const rows = extractIndexRows({
    resourceType: 'Patient',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }],
    name: [{ family: 'Okafor', given: ['Ada', 'Ngozi'] }],
    birthDate: '1980-05-02',
    telecom: [{ system: 'phone', value: '07700 900123' }, { system: 'email', value: 'a@example.org' }],
    address: [{ postalCode: 'LS6 2AB' }],
  });
  const by = (param: string) => rows.filter((r) => r.param === param).map((r) => r.value).sort();
  assert.deepEqual(by('identifier'), ['9434765919']);
  assert.equal(rows.find((r) => r.param === 'identifier')!.system, 'https://fhir.nhs.uk/Id/nhs-number');
  assert.deepEqual(by('family'), ['okafor']);
  assert.deepEqual(by('name'), ['ada', 'ngozi', 'okafor']);
  assert.deepEqual(by('phone'), ['07700900123']);
  assert.deepEqual(by('address-postalcode'), ['ls62ab']);
  assert.deepEqual(by('birthdate'), ['1980-05-02T00:00:00.000Z']);
});

test('appointments index their patient and practitioner separately', () => {
  const rows = extractIndexRows({
    resourceType: 'Appointment',
    status: 'booked',
    start: '2026-11-25T09:00:00Z',
    end: '2026-11-25T09:10:00Z',
    participant: [{ actor: { reference: 'Patient/p1' } }, { actor: { reference: 'Practitioner/d1' } }],
  });
  assert.deepEqual(rows.filter((r) => r.param === 'patient').map((r) => r.value), ['Patient/p1']);
  assert.deepEqual(rows.filter((r) => r.param === 'practitioner').map((r) => r.value), ['Practitioner/d1']);
  const date = rows.find((r) => r.param === 'date')!;
  assert.equal(date.valueEnd, '2026-11-25T09:10:00.999Z');
});

// ---- defect 5 (security issue 9): search values were not validated by type ----

function searchProblem(type: Parameters<typeof checkSearchValue>[0], name: string, modifier: string | undefined, raw: string): SteadfastError {
  try {
    checkSearchValue(type, name, modifier, raw);
  } catch (err) {
    assert.ok(err instanceof SteadfastError);
    assert.equal(err.httpStatus, 400);
    return err;
  }
  assert.fail(`expected ${name}=${raw} to be refused`);
}

test('regression: a search on birthdate=2020-13-45 was accepted', () => {
  assert.equal(dateRange('2020-13-45'), undefined);
  assert.equal(dateRange('2021-02-29'), undefined);
  const err = searchProblem('Patient', 'birthdate', undefined, '2020-13-45');
  assert.equal(err.field, 'birthdate');
  assert.match(err.message, /birthdate=2020-13-45.*month 13/);
  assert.match(err.hint!, /YYYY-MM-DD/);
  assert.equal(searchProblem('Patient', 'birthdate', undefined, 'ge2021-02-29').field, 'birthdate');
  assert.equal(searchProblem('Patient', 'birthdate', undefined, 'yesterday').field, 'birthdate');
  for (const ok of ['2020', '2020-02', '2020-02-29', 'ge1980-01-01', 'lt2024-05-01T10:00Z', 'ne2000']) checkSearchValue('Patient', 'birthdate', undefined, ok);
});

test('regression: a token search for a code outside its required value set silently matched nothing', () => {
  const err = searchProblem('Observation', 'status', undefined, 'finall');
  assert.equal(err.field, 'status');
  assert.match(err.hint!, /final/);
  assert.equal(searchProblem('Patient', 'gender', undefined, 'banana').field, 'gender');
  assert.equal(searchProblem('Patient', 'identifier', undefined, 'https://fhir.nhs.uk/Id/nhs-number|').field, 'identifier');
  checkSearchValue('Observation', 'status', undefined, 'final');
  checkSearchValue('Patient', 'gender', undefined, 'female');
  checkSearchValue('Patient', 'identifier', undefined, 'https://fhir.nhs.uk/Id/nhs-number|9434765919');
  checkSearchValue('Observation', 'code', undefined, '271649006'); // codes of open value sets are not restricted
});

test('regression: a malformed reference search value was accepted', () => {
  assert.equal(searchProblem('Observation', 'patient', undefined, 'Patient/a b').field, 'patient');
  assert.match(searchProblem('Observation', 'patient', undefined, 'Spaceship/1').message, /Spaceship/);
  checkSearchValue('Observation', 'patient', undefined, 'Patient/123');
  checkSearchValue('Observation', 'patient', undefined, '123');
});

test('regression: a modifier on a token, date or reference parameter was ignored (status:not=final matched final)', () => {
  assert.equal(searchProblem('Observation', 'status', 'not', 'final').field, 'status:not');
  assert.equal(searchProblem('Patient', 'birthdate', 'missing', 'true').field, 'birthdate:missing');
  assert.equal(searchProblem('Observation', 'patient', 'identifier', 'x').field, 'patient:identifier');
  assert.equal(searchProblem('Patient', 'family', 'sounds-like', 'smith').field, 'family:sounds-like');
  checkSearchValue('Patient', 'family', 'exact', 'smith');
  assert.equal(searchProblem('Patient', 'family', undefined, '--').field, 'family');
});
