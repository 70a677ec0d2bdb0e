import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { contactPreferencesOf } from './contact.ts';
import { NHS_NUMBER_SYSTEM, testNhsNumber } from './nhs-number.ts';
import { normalisePostcode, patientFromRegistration, registrationErrors, registrationOf, type RegistrationInput } from './registration.ts';

const today = '2026-12-03';
const good: RegistrationInput = {
  title: 'Ms',
  givenName: 'Jane Ann',
  familyName: 'Smith',
  birthDate: '1980-02-27',
  gender: 'female',
  nhsNumber: testNhsNumber(4321).replace(/^(\d{3})(\d{3})/, '$1 $2 '),
  addressLine1: '1 Park Row',
  town: 'Leeds',
  postcode: 'ls1 5ab',
  phone: '0113 496 0000',
  mobile: '+44 7700 900123',
  email: ' jane@example.com ',
  smsConsent: true,
};

test('a complete registration has no errors and becomes a UK Core-shaped Patient', () => {
  assert.deepEqual(registrationErrors(good, today), []);
  const p = patientFromRegistration(good, undefined, today);
  assert.equal(p.identifier?.[0]?.system, NHS_NUMBER_SYSTEM);
  assert.match(p.identifier![0]!.value!, /^\d{10}$/, 'NHS number stored without spaces');
  assert.deepEqual(p.name?.[0], { use: 'official', family: 'Smith', given: ['Jane', 'Ann'], prefix: ['Ms'] });
  assert.equal(p.address?.[0]?.postalCode, 'LS1 5AB');
  const prefs = contactPreferencesOf(p);
  assert.equal(prefs.mobile, '07700900123');
  assert.equal(prefs.email, 'jane@example.com');
  assert.equal(prefs.smsConsent, true);
  assert.ok(p.telecom?.some((t) => t.system === 'phone' && t.use === 'home' && t.value === '01134960000'));
});

test('every problem is named by its field, in form order, with a fix', () => {
  const errors = registrationErrors({ givenName: ' ', birthDate: '2026-02-30', gender: 'f', nhsNumber: '999 123 4560', postcode: 'LS99', mobile: '0113 496 0000', email: 'jane@' }, today);
  assert.deepEqual(
    errors.map((e) => e.field),
    ['givenName', 'familyName', 'birthDate', 'gender', 'nhsNumber', 'postcode', 'mobile', 'email'],
  );
  assert.ok(errors.every((e) => e.hint), 'each names the fix');
  assert.match(errors.find((e) => e.field === 'nhsNumber')!.message, /Modulus 11/);
  assert.match(errors.find((e) => e.field === 'mobile')!.message, /not a UK mobile/);
});

test('a date of birth in the future or over 130 years ago is refused', () => {
  assert.match(registrationErrors({ ...good, birthDate: '2026-12-04' }, today)[0]!.message, /today or in the past/);
  assert.match(registrationErrors({ ...good, birthDate: '1880-01-01' }, today)[0]!.message, /over 130/);
});

test('editing keeps what reception does not own (other identifiers, extensions, GP) and clears what was emptied', () => {
  const existing: Patient = {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [{ system: 'https://example.org/local', value: 'L1' }],
    name: [{ use: 'official', family: 'Old', given: ['Name'] }, { use: 'maiden', family: 'Before' }],
    generalPractitioner: [{ display: 'Dr Jones' }],
    telecom: [{ system: 'email', value: 'old@example.com' }],
  };
  const edited = patientFromRegistration({ ...good, email: '', nhsNumber: '' }, existing, today);
  assert.equal(edited.id, 'p1');
  assert.deepEqual(edited.identifier, [{ system: 'https://example.org/local', value: 'L1' }]);
  assert.equal(edited.name?.[1]?.use, 'maiden');
  assert.deepEqual(edited.generalPractitioner, [{ display: 'Dr Jones' }]);
  assert.equal(contactPreferencesOf(edited).email, undefined, 'an emptied email is removed');
  const back = registrationOf(edited);
  assert.equal(back.familyName, 'Smith');
  assert.equal(back.phone, '01134960000');
  assert.equal(back.mobile, '07700900123');
});

test('postcodes are normalised to the Royal Mail form', () => {
  assert.equal(normalisePostcode('sw1a1aa'), 'SW1A 1AA');
  assert.equal(normalisePostcode(' m1  1ae '), 'M1 1AE');
  assert.equal(normalisePostcode('12345'), undefined);
});
