import './definitions.node.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SteadfastError } from '../errors.ts';
import { NHS_NUMBER_SYSTEM } from '../nhs-number.ts';
import { validateResource } from './validate.ts';

function problems(input: unknown): SteadfastError {
  try {
    validateResource(input);
  } catch (err) {
    assert.ok(err instanceof SteadfastError);
    return err;
  }
  assert.fail('expected validation to fail');
}

const good = {
  resourceType: 'Patient',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765919' }],
  name: [{ family: 'Okafor', given: ['Ada'] }],
  birthDate: '1980-05-02',
};

test('a well-formed UK patient passes', () => {
  assert.equal(validateResource(good).resourceType, 'Patient');
});

test('an invalid NHS number names the field and the fix', () => {
  const err = problems({ ...good, identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }] });
  assert.equal(err.field, 'Patient.identifier[0].value');
  assert.match(err.message, /Modulus 11/);
  const outcome = err.toOperationOutcome();
  assert.equal(outcome.issue[0]!.expression![0], 'Patient.identifier[0].value');
  assert.equal(err.httpStatus, 400);
});

test('all structural problems are reported together', () => {
  const err = problems({ ...good, birthDate: '1980-13-45', shoeSize: 9 });
  const fields = [err, ...err.more].map((e) => e.field);
  assert.ok(fields.includes('Patient.birthDate'), fields.join());
  assert.ok(fields.includes('Patient.shoeSize'), fields.join());
  assert.equal(err.toOperationOutcome().issue.length, fields.length);
});

test('unknown types, missing resourceType and a type that does not match the URL', () => {
  assert.equal(problems({ resourceType: 'Spaceship' }).code, 'not-supported');
  assert.equal(problems({ name: [] }).code, 'required');
  assert.equal(problems([1, 2]).code, 'invalid');
  assert.throws(() => validateResource(good, 'Observation'), /URL is for Observation/);
});

test('a patient needs a family name', () => {
  const err = problems({ resourceType: 'Patient', name: [{ given: ['Only'] }] });
  assert.equal(err.field, 'Patient.name');
});

// ---- defect 5 (security issue 9): clinical values were not validated ----

const fields = (err: SteadfastError) => [err, ...err.more].map((e) => e.field);
const observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-05-01T10:00:00Z',
};

test('regression: Observation status "bogus" was stored', () => {
  const err = problems({ ...observation, status: 'bogus' });
  assert.equal(err.field, 'Observation.status');
  assert.match(err.message, /"bogus".*ObservationStatus/);
  assert.match(err.hint!, /final/);
  assert.equal(err.httpStatus, 400);
});

test('regression: Patient gender "banana" was stored', () => {
  const err = problems({ ...good, gender: 'banana' });
  assert.equal(err.field, 'Patient.gender');
  assert.match(err.hint!, /male, female, other, unknown/);
});

test('regression: Patient birthDate "2020-02-30" was stored', () => {
  const err = problems({ ...good, birthDate: '2020-02-30' });
  assert.deepEqual(fields(err), ['Patient.birthDate']);
  assert.match(err.message, /"2020-02-30" is not a real date.*29 days/);
  // Leap years: 2020-02-29 and 2000-02-29 exist, 2021-02-29 and 1900-02-29 do not.
  assert.equal(validateResource({ ...good, birthDate: '2020-02-29' }).resourceType, 'Patient');
  assert.equal(validateResource({ ...good, birthDate: '2000-02-29' }).resourceType, 'Patient');
  assert.equal(problems({ ...good, birthDate: '2021-02-29' }).field, 'Patient.birthDate');
  assert.equal(problems({ ...good, birthDate: '1900-02-29' }).field, 'Patient.birthDate');
  assert.equal(problems({ ...good, birthDate: '2021-04-31' }).field, 'Patient.birthDate');
  // Partial dates are real dates in FHIR.
  assert.equal(validateResource({ ...good, birthDate: '1980' }).resourceType, 'Patient');
  assert.equal(validateResource({ ...good, birthDate: '1980-02' }).resourceType, 'Patient');
});

test('regression: impossible dateTime and instant values were stored', () => {
  assert.equal(problems({ ...observation, effectiveDateTime: '2023-02-29T10:00:00Z' }).field, 'Observation.effectiveDateTime');
  assert.equal(problems({ ...observation, issued: '2023-06-31T10:00:00Z' }).field, 'Observation.issued');
  assert.equal(problems({ ...observation, effectivePeriod: undefined, effectiveDateTime: '2024-02-30' }).field, 'Observation.effectiveDateTime');
  // nested, inside a data type: Identifier.period.start
  const err = problems({ ...good, identifier: [{ system: 'urn:x', value: '1', period: { start: '2019-11-31' } }] });
  assert.equal(err.field, 'Patient.identifier[0].period.start');
  assert.equal(validateResource({ ...observation, effectiveDateTime: '2024-02-29T23:59:59+01:00' }).resourceType, 'Observation');
});

test('regression: a birth date in the future was stored', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  const err = (() => {
    try {
      validateResource({ ...good, birthDate: '2025-06-03' }, undefined, { now });
    } catch (e) {
      return e as SteadfastError;
    }
    assert.fail('expected a future birth date to be refused');
  })();
  assert.equal(err.field, 'Patient.birthDate');
  assert.match(err.message, /in the future/);
  // Today (in any time zone) and this year are not in the future.
  assert.ok(validateResource({ ...good, birthDate: '2025-06-02' }, undefined, { now: new Date('2025-06-01T23:30:00Z') }));
  assert.ok(validateResource({ ...good, birthDate: '2025' }, undefined, { now }));
  assert.throws(() => validateResource({ ...good, birthDate: '2026' }, undefined, { now }), /in the future/);
});

test('regression: a date of death before the date of birth was stored', () => {
  const err = problems({ ...good, birthDate: '1980-05-02', deceasedDateTime: '1979-01-01' });
  assert.equal(err.field, 'Patient.deceasedDateTime');
  assert.match(err.message, /before Patient.birthDate/);
  assert.equal(problems({ ...good, birthDate: '1980-05-02', deceasedDateTime: '1980-05-01' }).field, 'Patient.deceasedDateTime');
  assert.ok(validateResource({ ...good, birthDate: '1980-05-02', deceasedDateTime: '1980-05-02' }));
  assert.ok(validateResource({ ...good, birthDate: '1980-05-02', deceasedDateTime: '1980-05-02T03:00:00+01:00' }));
});

test('regression: an Observation whose subject is an Observation was accepted', () => {
  const err = problems({ ...observation, subject: { reference: 'Observation/o1' } });
  assert.equal(err.field, 'Observation.subject.reference');
  assert.match(err.message, /refers to a Observation, but it must refer to Patient, Group, Device or Location/);
  // absolute and versioned references are typed the same way
  assert.equal(problems({ ...observation, subject: { reference: 'https://example.org/fhir/R4/Practitioner/x/_history/2' } }).field, 'Observation.subject.reference');
  assert.equal(problems({ ...observation, subject: { reference: 'Patient/p1', type: 'Group' } }).field, 'Observation.subject.type');
  assert.equal(problems({ ...observation, subject: { reference: 'not a reference' } }).field, 'Observation.subject.reference');
  // A transaction's urn:uuid: reference is typed by the entry it names.
  const referenceType = (ref: string) => (ref === 'urn:uuid:1' ? 'Encounter' : undefined);
  assert.throws(() => validateResource({ ...observation, subject: { reference: 'urn:uuid:1' } }, undefined, { referenceType }), /must refer to Patient/);
  assert.ok(validateResource({ ...observation, encounter: { reference: 'urn:uuid:1' } }, undefined, { referenceType }));
  assert.ok(validateResource({ ...observation, subject: { reference: 'Patient/p1', type: 'Patient' } }));
});

test('regression: codes outside required value sets inside data types and CodeableConcepts were stored', () => {
  assert.equal(problems({ ...good, name: [{ family: 'A', use: 'nick' }] }).field, 'Patient.name[0].use');
  assert.equal(problems({ ...good, telecom: [{ system: 'pager2', value: '1' }] }).field, 'Patient.telecom[0].system');
  const condition = { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, code: { text: 'Asthma' } };
  const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
  assert.ok(validateResource({ ...condition, clinicalStatus: { coding: [{ system: clinical, code: 'active' }] } }));
  assert.equal(problems({ ...condition, clinicalStatus: { coding: [{ system: clinical, code: 'gone' }] } }).field, 'Condition.clinicalStatus.coding[0].code');
  assert.equal(problems({ ...condition, clinicalStatus: { text: 'active' } }).field, 'Condition.clinicalStatus');
  assert.equal(problems({ ...observation, valueQuantity: { value: 5, comparator: '~' } }).field, 'Observation.valueQuantity.comparator');
});

test('regression: a Period ending before it starts was stored', () => {
  const err = problems({ ...observation, effectiveDateTime: undefined, effectivePeriod: { start: '2024-05-02', end: '2024-05-01' } });
  assert.equal(err.field, 'Observation.effectivePeriod.end');
});

test('a malformed date is reported once, not by both validations', () => {
  assert.deepEqual(fields(problems({ ...good, birthDate: '2020-13-45' })), ['Patient.birthDate']);
});
