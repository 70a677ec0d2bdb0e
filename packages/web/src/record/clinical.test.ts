import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abnormalFlag, consultationNote, CONSULTATION_NOTE_URL, newestFirst, observationValue } from './clinical.ts';

test('abnormal results are found by the lab flag or, failing that, by the reference range', () => {
  assert.equal(abnormalFlag({ resourceType: 'Observation', status: 'final', code: {}, interpretation: [{ coding: [{ code: 'HH' }] }] }), 'HH');
  const withRange = (value: number) => ({
    resourceType: 'Observation' as const,
    status: 'final' as const,
    code: {},
    valueQuantity: { value, unit: 'mmol/L' },
    referenceRange: [{ low: { value: 3.5 }, high: { value: 5.3 } }],
  });
  assert.equal(abnormalFlag(withRange(6.1)), 'H');
  assert.equal(abnormalFlag(withRange(3.1)), 'L');
  assert.equal(abnormalFlag(withRange(4.2)), undefined);
});

test('blood pressure shows as systolic/diastolic', () => {
  assert.equal(
    observationValue({
      resourceType: 'Observation',
      status: 'final',
      code: {},
      component: [
        { code: {}, valueQuantity: { value: 142, unit: 'mmHg' } },
        { code: {}, valueQuantity: { value: 88, unit: 'mmHg' } },
      ],
    }),
    '142/88 mmHg',
  );
});

test('consultation notes are read from the Steadfast extension', () => {
  const note = consultationNote({
    resourceType: 'Encounter',
    status: 'finished',
    class: { code: 'AMB' },
    extension: [{ url: CONSULTATION_NOTE_URL, extension: [{ url: 'history', valueString: 'Cough' }, { url: 'plan', valueString: 'Review' }] }],
  });
  assert.deepEqual(note, { history: 'Cough', plan: 'Review' });
});

test('newest first, undated last', () => {
  assert.deepEqual(newestFirst(['2020-01-01', undefined, '2024-01-01'], (x) => x), ['2024-01-01', '2020-01-01', undefined]);
});
