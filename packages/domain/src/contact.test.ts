import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contactPreferencesOf, isUkMobile, normaliseEmail, normaliseUkMobile, withContactPreferences } from './contact.ts';

test('UK mobile numbers in the forms people type become 07xxxxxxxxx', () => {
  for (const raw of ['07700 900123', '+44 7700 900123', '+44 (0)7700 900123', '0044 7700-900123', '447700900123']) {
    assert.equal(normaliseUkMobile(raw), '07700900123', raw);
  }
});

test('landlines, short numbers and letters are refused with the field and a fix', () => {
  for (const raw of ['01632 960001', '0770090012', '077009001234', '07700 9OO123', '']) {
    assert.equal(isUkMobile(raw), false, raw);
    assert.throws(() => normaliseUkMobile(raw, 'mobile'), (err: any) => err.field === 'mobile' && /07700 900123/.test(err.hint));
  }
});

test('email addresses are checked', () => {
  assert.equal(normaliseEmail(' pat@example.com '), 'pat@example.com');
  for (const raw of ['pat', 'pat@', 'pat@example', 'p at@example.com', 'pat@@example.com', 'pat..x@example.com']) {
    assert.throws(() => normaliseEmail(raw), (err: any) => err.field === 'email', raw);
  }
});

test('contact preferences round-trip through the Patient resource and keep other telecom', () => {
  const patient = { resourceType: 'Patient' as const, telecom: [{ system: 'phone' as const, use: 'home' as const, value: '01632 960001' }] };
  const updated = withContactPreferences(patient, { mobile: '+447700900123', email: 'pat@example.com', smsConsent: true, reasonableAdjustments: ['Large print'] });
  assert.deepEqual(contactPreferencesOf(updated), { mobile: '07700900123', email: 'pat@example.com', smsConsent: true, doNotContact: false, reasonableAdjustments: ['Large print'] });
  assert.equal(updated.telecom?.[0]?.value, '01632 960001');
  const stopped = withContactPreferences(updated, { doNotContact: true, mobile: null });
  assert.equal(contactPreferencesOf(stopped).doNotContact, true);
  assert.equal(contactPreferencesOf(stopped).mobile, undefined);
});
