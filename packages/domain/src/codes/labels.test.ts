import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { isTestData, labelLikePatient, TEST_DATA_SECURITY_LABEL } from './labels.ts';

test('isTestData recognises the HTEST security label and nothing else', () => {
  assert.ok(isTestData({ meta: { security: [{ ...TEST_DATA_SECURITY_LABEL }] } }));
  assert.ok(!isTestData({ meta: { security: [{ system: TEST_DATA_SECURITY_LABEL.system, code: 'HRESCH' }] } }));
  assert.ok(!isTestData({ meta: { security: [{ system: 'http://example.org/other', code: 'HTEST' }] } }));
  assert.ok(!isTestData({ meta: {} }));
  assert.ok(!isTestData({}));
  assert.ok(!isTestData(undefined));
});

test('records of a test-data patient inherit the label; a real patient’s records are left as they are', () => {
  const synthetic = { meta: { security: [{ ...TEST_DATA_SECURITY_LABEL }] } };
  const report: DiagnosticReport = { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'FBC' }, meta: { tag: [{ code: 'correction' }] } };
  const labelled = labelLikePatient(synthetic, report);
  assert.ok(isTestData(labelled));
  assert.deepEqual(labelled.meta?.tag, [{ code: 'correction' }], 'other meta kept');
  assert.equal(labelLikePatient(synthetic, labelled), labelled, 'labelled once');
  assert.equal(labelLikePatient({ meta: {} }, report), report);
});
