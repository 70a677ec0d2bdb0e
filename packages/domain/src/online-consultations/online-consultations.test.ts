import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CURRENT_QUESTIONNAIRE, evaluateRedFlags, normaliseUkMobile, sniffImageType, submissionRecordId, submissionReference, validateSubmission,
} from './index.ts';
import type { SubmissionPayload } from '../api/online-consultations.ts';

const TODAY = '2026-12-02';
const noFlags = Object.fromEntries(CURRENT_QUESTIONNAIRE.redFlags.map((q) => [q.linkId, false]));

function goodSubmission(over: Partial<SubmissionPayload> = {}): SubmissionPayload {
  return {
    submissionId: '6f1c1b1e-3a7d-4c55-9a53-0d0f0e6a1b2c', questionnaireVersion: CURRENT_QUESTIONNAIRE.version, kind: 'medical',
    redFlags: noFlags, answers: { symptoms: 'A rash on my arm', duration: 'days', want: 'Advice please' },
    identity: { givenName: 'Jane', familyName: 'Smith', birthDate: '1984-03-27', postcode: 'LS1 4AP', mobile: '07700 900123', nhsNumber: '9990000018' },
    contactPreference: 'sms', ...over,
  };
}

test('a complete submission has no problems', () => {
  assert.deepEqual(validateSubmission(goodSubmission(), TODAY), []);
});

test('the bad input of the issue is refused naming each field', () => {
  const bad = goodSubmission({
    answers: { duration: 'days', want: '<script>alert(1)</script>' },
    identity: { givenName: 'Jane', familyName: 'Smith', birthDate: '1984-02-30', postcode: 'LS1 4AP', mobile: '01632 960000', nhsNumber: '9990000019' },
    photos: [{ contentType: 'application/pdf', data: 'AAAA' }],
  });
  const fields = validateSubmission(bad, TODAY).map((p) => p.field);
  for (const f of ['answers.symptoms', 'identity.birthDate', 'identity.mobile', 'identity.nhsNumber', 'photos[0]']) assert.ok(fields.includes(f), `${f} in ${fields}`);
  // A script is text: stored inert, not a validation error of its own.
  assert.ok(!fields.includes('answers.want'));
  assert.ok(validateSubmission(goodSubmission({ identity: { ...goodSubmission().identity, birthDate: '2030-01-01' } }), TODAY).some((p) => p.field === 'identity.birthDate'));
});

test('a red-flag question left unanswered is a problem, and anything but a clear "no" raises it', () => {
  const { 'rf-chest-pain': _omit, ...rest } = noFlags;
  assert.ok(validateSubmission(goodSubmission({ redFlags: rest }), TODAY).some((p) => p.field === 'redFlags.rf-chest-pain'));
  const ev = evaluateRedFlags(CURRENT_QUESTIONNAIRE, 'medical', { ...noFlags, 'rf-sepsis': true, 'rf-chest-pain': 'true' });
  assert.equal(ev.advice, 'call-999');
  assert.deepEqual(ev.raised, ['rf-chest-pain', 'rf-sepsis']);
  assert.equal(evaluateRedFlags(CURRENT_QUESTIONNAIRE, 'medical', noFlags).advice, undefined);
});

test('ids and references derive from the device id alone, the same on every node', () => {
  const id = goodSubmission().submissionId;
  assert.equal(submissionRecordId('A12345', id), submissionRecordId('a12345', id.toUpperCase()));
  assert.notEqual(submissionRecordId('A12345', id), submissionRecordId('B12345', id));
  assert.match(submissionReference('A12345', id), /^OC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
});

test('UK mobiles and image bytes', () => {
  assert.equal(normaliseUkMobile('+44 7700 900123'), '+447700900123');
  assert.equal(normaliseUkMobile('020 7946 0000'), undefined);
  assert.equal(sniffImageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
  assert.equal(sniffImageType(new TextEncoder().encode('%PDF-1.7')), undefined);
});
