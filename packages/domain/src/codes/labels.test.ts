import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTestData, TEST_DATA_SECURITY_LABEL } from './labels.ts';

test('isTestData recognises the HTEST security label and nothing else', () => {
  assert.ok(isTestData({ meta: { security: [{ ...TEST_DATA_SECURITY_LABEL }] } }));
  assert.ok(!isTestData({ meta: { security: [{ system: TEST_DATA_SECURITY_LABEL.system, code: 'HRESCH' }] } }));
  assert.ok(!isTestData({ meta: { security: [{ system: 'http://example.org/other', code: 'HTEST' }] } }));
  assert.ok(!isTestData({ meta: {} }));
  assert.ok(!isTestData({}));
  assert.ok(!isTestData(undefined));
});
