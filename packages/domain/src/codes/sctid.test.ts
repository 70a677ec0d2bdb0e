import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSctId, isValidConceptId, isValidSctId, passesVerhoeff, verhoeffCheckDigit } from './sctid.ts';

test('Verhoeff check digits match published examples', () => {
  // 236 -> 3 is the textbook example; the SNOMED ids are the root and top-level hierarchy concepts.
  assert.equal(verhoeffCheckDigit('236'), 3);
  assert.equal(verhoeffCheckDigit('13887500'), 5); // 138875005 SNOMED CT Concept
  assert.equal(verhoeffCheckDigit('40468400'), 3); // 404684003 Clinical finding
  assert.equal(verhoeffCheckDigit('7138800'), 2); // 71388002 Procedure
  assert.ok(passesVerhoeff('2363'));
  assert.ok(!passesVerhoeff('2364'));
});

test('isValidSctId accepts real concept, description and extension ids', () => {
  for (const id of ['38341003', '138875005', '404684003', '999791000000106', '1011481000000105', '900000000000207008']) {
    assert.ok(isValidSctId(id), `${id} should be valid`);
  }
  assert.deepEqual(describeSctId('999791000000106'), { component: 'concept', extension: true });
  assert.ok(isValidConceptId('44054006'));
});

test('isValidSctId rejects every single-digit typo of a real id', () => {
  const id = '44054006';
  for (let pos = 0; pos < id.length; pos++) {
    for (let d = 0; d <= 9; d++) {
      if (String(d) === id[pos]) continue;
      const typo = id.slice(0, pos) + d + id.slice(pos + 1);
      assert.ok(!isValidSctId(typo), `typo ${typo} of ${id} was accepted`);
    }
  }
});

test('isValidSctId rejects transposed digits, bad partitions, wrong lengths and non-digits', () => {
  assert.ok(!isValidSctId('44045006')); // 5 and 4 swapped
  assert.ok(!isValidSctId('12345')); // too short
  assert.ok(!isValidSctId('0038341003')); // leading zero
  assert.ok(!isValidSctId('1234567890123456789')); // 19 digits
  assert.ok(!isValidSctId('38341O03'));
  assert.ok(!isValidSctId(''));
  // a valid check digit but partition 05, which does not exist
  const body = '1234505';
  assert.ok(!isValidSctId(body + verhoeffCheckDigit(body)));
  // partition 10 (extension) needs a namespace, so a short id with it is malformed
  const shortExt = '12310';
  assert.ok(!isValidSctId(shortExt + verhoeffCheckDigit(shortExt)));
  // a description id is an SCTID but not a concept id
  const description = '12345601';
  const descriptionId = description + verhoeffCheckDigit(description);
  assert.ok(isValidSctId(descriptionId));
  assert.ok(!isValidConceptId(descriptionId));
});
