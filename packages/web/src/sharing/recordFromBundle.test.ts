import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordFromBundle } from './recordFromBundle.ts';

test('a shared record bundle becomes the record screens’ data, each resource in its section', () => {
  const data = recordFromBundle({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { resource: { resourceType: 'Patient', id: 'p1', generalPractitioner: [{ display: 'Dr Ann Jones' }] } },
      { resource: { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'BP' } } },
      { resource: { resourceType: 'AllergyIntolerance', id: 'a1', patient: { reference: 'Patient/p1' } } },
      { resource: { resourceType: 'Consent', id: 'c1', status: 'active', scope: {}, category: [] } as never },
    ],
  });
  assert.ok(data);
  assert.equal(data.patient.state === 'ok' && data.patient.value.id, 'p1');
  assert.deepEqual(data.gp, { state: 'ok', value: 'Dr Ann Jones' });
  assert.equal(data.observations.state === 'ok' && data.observations.value.length, 1);
  assert.equal(data.allergies.state === 'ok' && data.allergies.value.length, 1);
  assert.deepEqual(data.conditions, { state: 'ok', value: [] });
  assert.equal(recordFromBundle({ resourceType: 'Bundle', type: 'collection', entry: [] }), undefined);
});
