import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFreeText, placeholderProblems, renderTemplate, smsLength, SMS_MAX_CHARACTERS, templateProblem } from './messaging.ts';

describe('SMS length (GSM 7-bit and unicode fragments)', () => {
  test('160 GSM characters are one fragment, 161 are two (153 each)', () => {
    assert.deepEqual(smsLength('a'.repeat(160)), { encoding: 'gsm', characters: 160, fragments: 1, nonGsm: [] });
    assert.equal(smsLength('a'.repeat(161)).fragments, 2);
    assert.equal(smsLength('a'.repeat(306)).fragments, 2);
    assert.equal(smsLength('a'.repeat(307)).fragments, 3);
  });
  test('extension characters (€ [ ] ^) cost two septets', () => {
    assert.equal(smsLength('€'.repeat(80)).fragments, 1);
    assert.equal(smsLength('€'.repeat(81)).fragments, 2);
    assert.equal(smsLength('€').encoding, 'gsm');
  });
  test('one character outside GSM makes the whole message unicode (70, then 67 a fragment) and is named', () => {
    const s = smsLength('Your appointment is confirmed ✓');
    assert.equal(s.encoding, 'unicode');
    assert.deepEqual(s.nonGsm, ['✓']);
    assert.equal(smsLength('ŵ' + 'a'.repeat(69)).fragments, 1);
    assert.equal(smsLength('ŵ' + 'a'.repeat(70)).fragments, 2);
    assert.equal(smsLength('ŵ' + 'a'.repeat(134)).fragments, 3);
  });
  test('a curly apostrophe forces unicode (the common surprise from pasted text)', () => {
    assert.equal(smsLength('We’re closed').encoding, 'unicode');
    assert.equal(smsLength("We're closed").encoding, 'gsm');
  });
});

describe('templates and placeholders', () => {
  test('an unknown placeholder is refused naming it and the ones allowed', () => {
    const p = templateProblem({ key: 'k', channel: 'sms', body: 'Hi ((firstname))' });
    assert.equal(p?.field, 'body');
    assert.match(p!.message, /\(\(firstname\)\)/);
    assert.match(p!.hint ?? '', /\(\(first_name\)\)/);
  });
  test('the free-text template must keep ((text)) and the broadcast ((reason)) (regression: an edit could send patients only the practice name)', () => {
    assert.match(templateProblem({ key: 'free-text', channel: 'sms', body: '((practice_name))' })!.message, /must keep \(\(text\)\)/);
    assert.match(templateProblem({ key: 'service-disruption', channel: 'sms', body: 'We are closed. ((practice_name))' })!.message, /\(\(reason\)\)/);
    assert.equal(templateProblem({ key: 'free-text', channel: 'sms', body: '((text)) From ((practice_name))' }), undefined);
  });
  test('a half-written placeholder is refused', () => {
    assert.equal(placeholderProblems('Hi ((first_name)').unbalanced, true);
    assert.match(templateProblem({ key: 'k', channel: 'sms', body: 'Hi ((first_name)' })!.message, /double brackets/);
    assert.equal(templateProblem({ key: 'k', channel: 'sms', body: 'Hi ((first_name)) (see you)' }), undefined);
  });
  test('an SMS template over the limit is refused with how much to cut', () => {
    const p = templateProblem({ key: 'k', channel: 'sms', body: 'a'.repeat(SMS_MAX_CHARACTERS + 5) });
    assert.match(p!.hint ?? '', /by 5 characters/);
    assert.equal(templateProblem({ key: 'k', channel: 'email', body: 'a'.repeat(SMS_MAX_CHARACTERS + 5) }), undefined);
  });
  test('rendering names the placeholder left empty', () => {
    assert.throws(() => renderTemplate({ key: 'k', channel: 'sms', body: 'Dear ((first_name))', placeholders: ['first_name'] }, {}), /\(\(first_name\)\)/);
    assert.equal(renderTemplate({ key: 'k', channel: 'sms', body: 'Dear ((first_name))', placeholders: ['first_name'] }, { first_name: 'Alex' }).body, 'Dear Alex');
  });
  test('free text with a link is refused', () => {
    assert.throws(() => checkFreeText('see www.example.com'), /links/);
    assert.equal(checkFreeText('  Please call us  '), 'Please call us');
  });
});
