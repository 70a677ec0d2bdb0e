import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupSecret } from './twoFactor.ts';

test('the secret is shown in groups of four for manual entry', () => {
  assert.equal(groupSecret('JBSWY3DPEHPK3PXPAB'), 'JBSW Y3DP EHPK 3PXP AB');
  assert.equal(groupSecret('ABCD'), 'ABCD');
});
