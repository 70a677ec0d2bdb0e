import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abnormalFlag, allergyView, consultationNote, isResult, newestFirst, observationValue } from './clinical.ts';
import { CONSULTATION_NOTE_EXTENSION } from '@steadfast/domain/systems';

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
    extension: [{ url: CONSULTATION_NOTE_EXTENSION, extension: [{ url: 'history', valueString: 'Cough' }, { url: 'plan', valueString: 'Review' }] }],
  });
  assert.deepEqual(note, { history: 'Cough', plan: 'Review' });
});

test('newest first, undated last', () => {
  assert.deepEqual(newestFirst(['2020-01-01', undefined, '2024-01-01'], (x) => x), ['2024-01-01', '2020-01-01', undefined]);
});

test('consultation notes are read from a headed narrative when there is no extension', () => {
  const e = (div: string) => ({ resourceType: 'Encounter' as const, status: 'finished' as const, class: { code: 'AMB' }, text: { status: 'additional' as const, div } });
  assert.deepEqual(consultationNote(e('<div xmlns="http://www.w3.org/1999/xhtml"><p><b>History:</b> Burning &lt;2 days&gt;.</p><p><b>Plan:</b> Fluids.</p></div>')), { history: 'Burning <2 days>.', plan: 'Fluids.' });
  assert.deepEqual(consultationNote(e('<div xmlns="http://www.w3.org/1999/xhtml">Seen with mum.</div>')), { history: 'Seen with mum.' });
});

test('"No known drug allergy" is never shown as an allergy; a real allergy wins over it', () => {
  const a = (code: string, display: string, extra: object = {}) => ({ resourceType: 'AllergyIntolerance' as const, patient: {}, code: { coding: [{ system: 'http://snomed.info/sct', code, display }] }, ...extra });
  const nkda = a('409137002', 'No known drug allergy');
  const pen = a('91936005', 'Allergy to penicillin');
  const refuted = a('300916003', 'Latex allergy', { verificationStatus: { coding: [{ code: 'refuted' }] } });
  assert.deepEqual(allergyView([nkda]), { allergies: [], noKnown: [nkda] });
  assert.deepEqual(allergyView([nkda, pen, refuted]), { allergies: [pen], noKnown: [nkda] });
});

test('summary results are laboratory findings, not vital signs or smoking status', () => {
  const o = (cat: string | undefined) => ({ resourceType: 'Observation' as const, status: 'final' as const, code: {}, ...(cat ? { category: [{ coding: [{ code: cat }] }] } : {}), valueQuantity: { value: 1 } });
  assert.deepEqual(['laboratory', 'vital-signs', 'social-history', undefined].map((c) => isResult(o(c))), [true, false, false, true]);
});

test('units are shown one way on the record: a creatinine sent as umol/L reads µmol/L', () => {
  const creatinine = (unit: string) => observationValue({ resourceType: 'Observation', status: 'final', code: { text: 'Creatinine' }, valueQuantity: { value: 88, unit } });
  assert.equal(creatinine('umol/L'), '88 µmol/L');
  assert.equal(creatinine('µmol/L'), '88 µmol/L');
});
