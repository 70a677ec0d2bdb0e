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
