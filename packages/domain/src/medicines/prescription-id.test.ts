import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Random } from '../random.ts';
import {
  explainInvalidPrescriptionId,
  isValidPrescriptionId,
  newPrescriptionId,
  prescriptionIdCheckCharacter,
  prescriptionIdOds,
  prescriptionIdOdsPart,
} from './prescription-id.ts';

// Published ids: the NHS England MedicationRequest.groupIdentifier guidance's example, and two from the
// EPS FHIR API's own examples (ODS A83008 and A99968).
const PUBLISHED = ['83C40E-A23856-00123W', '9AD427-A83008-2E461K', '18B064-A99968-4BCAA3'];

test('the published example ids pass the MOD 37-2 check and their check characters are recomputed', () => {
  for (const id of PUBLISHED) {
    assert.equal(isValidPrescriptionId(id), true, id);
    assert.equal(prescriptionIdCheckCharacter(id.slice(0, 19)), id[19], id);
  }
  assert.equal(prescriptionIdOds('9AD427-A83008-2E461K'), 'A83008');
});

test('MOD 37-2 worked by hand: "+" is the check character for value 36, and every single-character change is caught', () => {
  // 17 zeros total 0, so the check value is (38 - 0) % 37 = 1.
  assert.equal(prescriptionIdCheckCharacter('000000-000000-00000'), '1');
  // Find a body whose check value is 36: it must be "+", not "*".
  const rng = new Random('plus');
  let plus: string | undefined;
  for (let i = 0; i < 5000 && !plus; i++) {
    const id = newPrescriptionId('A83008', () => rng.next());
    if (id.endsWith('+')) plus = id;
  }
  assert.ok(plus, 'some id ends with "+"');
  assert.equal(isValidPrescriptionId(plus), true);
  assert.equal(isValidPrescriptionId(plus.replace(/\+$/, '*')), false);
  const id = PUBLISHED[1]!;
  for (let i = 0; i < id.length; i++) {
    if (id[i] === '-') continue;
    for (const ch of '0123456789ABCDEF') {
      if (ch === id[i]) continue;
      const changed = id.slice(0, i) + ch + id.slice(i + 1);
      assert.equal(isValidPrescriptionId(changed), false, changed);
    }
  }
});

test('new ids have the published shape, carry the zero-padded ODS code and always validate', () => {
  fc.assert(
    fc.property(fc.integer(), fc.stringMatching(/^[A-Z0-9]{1,6}$/), (seed, ods) => {
      const rng = new Random(seed);
      const id = newPrescriptionId(ods, () => rng.next());
      assert.equal(id.length, 20);
      assert.match(id, /^[0-9A-F]{6}-[0-9A-Z]{6}-[0-9A-F]{5}[0-9A-Z+]$/);
      assert.equal(id.slice(7, 13), ods.padStart(6, '0'));
      assert.equal(isValidPrescriptionId(id), true, id);
    }),
  );
  assert.equal(prescriptionIdOdsPart('y01234'), 'Y01234');
  assert.equal(prescriptionIdOdsPart('A1B2C'), '0A1B2C');
});

test('the same randomness gives the same id; a sequence number fills the third block', () => {
  const a = new Random(7);
  const b = new Random(7);
  assert.equal(newPrescriptionId('A83008', () => a.next()), newPrescriptionId('A83008', () => b.next()));
  const fixed = () => 0.5; // hex "8"
  assert.equal(newPrescriptionId('A83008', fixed, { sequence: 0x123 }).slice(0, 19), '888888-A83008-00123');
  assert.equal(newPrescriptionId('A83008', fixed, { sequence: 0x100001 }).slice(14, 19), '00001');
  assert.throws(() => newPrescriptionId('A83008', fixed, { sequence: -1 }), /non-negative integer/);
});

test('bad input is refused with a reason naming it', () => {
  assert.throws(() => newPrescriptionId('A8300-8', () => 0.1), /ODS code "A8300-8"/);
  assert.throws(() => newPrescriptionId('ABCDEFG', () => 0.1), /1 to 6 letters or digits/);
  assert.throws(() => newPrescriptionId('A83008', () => 1), /\[0, 1\)/);
  assert.match(explainInvalidPrescriptionId('9AD427A830082E461K')!, /three blocks of six/);
  assert.match(explainInvalidPrescriptionId('9ad427-a83008-2e461k')!, /upper case/);
  assert.match(explainInvalidPrescriptionId('9AD427-A83008-2E461J')!, /should be "K"/);
  assert.match(explainInvalidPrescriptionId('')!, /must look like/);
  assert.equal(explainInvalidPrescriptionId(PUBLISHED[0]!), undefined);
});
