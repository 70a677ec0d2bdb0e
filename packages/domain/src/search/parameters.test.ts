import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateRange, extractIndexRows, normalisePhone, normaliseString, searchParameters } from './parameters.ts';
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
