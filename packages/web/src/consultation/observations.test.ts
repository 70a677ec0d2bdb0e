import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bmi, checkVitals, hasErrors, vitalObservations } from './observations.ts';

test('BMI is weight over height squared, to one decimal', () => {
  assert.equal(bmi(70, 175), 22.9);
  assert.equal(bmi(undefined, 175), undefined);
});

test('impossible readings are refused with a message naming the reading and the allowed range', () => {
  const c = checkVitals({ pulse: '1200', temperature: '3.7', spo2: '101' });
  assert.match(c.pulse!.error!, /Pulse rate of 1200 beats\/min is not possible.*20 to 250/);
  assert.ok(c.temperature!.error);
  assert.ok(c.spo2!.error);
  assert.equal(hasErrors(c), true);
  assert.match(checkVitals({ weight: 'seventy' }).weight!.error!, /must be a number/);
});

test('possible but abnormal readings are saved with a High or Low flag', () => {
  const c = checkVitals({ systolic: '165', diastolic: '95', pulse: '45', spo2: '91', temperature: '38.5' });
  assert.equal(hasErrors(c), false);
  assert.equal(c.systolic!.flag, 'H');
  assert.equal(c.pulse!.flag, 'L');
  assert.equal(c.spo2!.flag, 'L');
  assert.equal(c.temperature!.flag, 'H');
});

test('blood pressure needs both readings, diastolic below systolic', () => {
  assert.ok(checkVitals({ systolic: '120' }).bp?.error);
  assert.match(checkVitals({ systolic: '80', diastolic: '120' }).bp!.error!, /wrong way round/);
  assert.equal(checkVitals({ systolic: '120', diastolic: '80' }).bp, undefined);
});

test('BMI is computed and checked; height typed in metres is caught', () => {
  assert.equal(checkVitals({ weight: '95', height: '170' }).bmi!.flag, 'H');
  assert.ok(checkVitals({ weight: '70', height: '1.75' }).height!.error);
});

test('valid readings become vital-signs Observations, BP as one with two components', () => {
  const obs = vitalObservations(checkVitals({ systolic: '150', diastolic: '85', weight: '70', height: '175', pulse: '72' }), {
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-25T10:00:00Z',
  });
  const codes = obs.map((o) => o.code.coding![0]!.code);
  assert.deepEqual(codes, ['75367002', '78564009', '27113001', '50373000', '60621009']);
  const bp = obs[0]!;
  assert.equal(bp.component!.length, 2);
  assert.equal(bp.interpretation![0]!.coding![0]!.code, 'H');
  assert.equal(obs[4]!.valueQuantity!.value, 22.9);
  assert.ok(obs.every((o) => o.subject?.reference === 'Patient/p1' && o.status === 'final'));
});
