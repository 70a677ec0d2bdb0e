import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hl7Message } from '@medplum/core';
import { testNhsNumber } from '@steadfast/domain';
import { buildOrder, type OrmInput } from './orm.ts';

const order: OrmInput = {
  orderNumber: 'Y99999-261202-K0007-3',
  practice: 'Y99999',
  patient: { nhsNumber: testNhsNumber(77), family: 'ODUYA', given: ['Grace', 'Ama'], birthDate: '1958-07-14', sex: 'female', address: ['1 Park Row', 'Leeds', 'LS6 2AB'] },
  requester: { id: 'u-1', name: 'Dr Chen' },
  tests: [
    { code: 'FBC', display: 'Full blood count' },
    { code: 'UE', display: 'Urea and electrolytes' },
  ],
  clinicalDetails: 'Tired | pale',
  fasting: true,
  urgency: 'urgent',
  authoredOn: '2026-12-02T09:30:00.000Z',
};

test('a laboratory that takes OML^O21 gets one ORC/TQ1/OBR group per test with the placer number and priority; others get ORM^O01', () => {
  const oml = Hl7Message.parse(buildOrder(order, { name: 'leeds-path', host: 'x', port: 1, message: 'OML' }));
  assert.equal(oml.getSegment('MSH')!.getField(9).toString(), 'OML^O21^OML_O21');
  assert.equal(oml.getSegment('MSH')!.getField(12).toString(), '2.5.1');
  assert.equal(oml.getSegment('PID')!.getField(3).getComponent(1), testNhsNumber(77));
  assert.equal(oml.getSegment('PID')!.getField(3).getComponent(5), 'NH');
  const orcs = oml.getAllSegments('ORC');
  const obrs = oml.getAllSegments('OBR');
  const tq1s = oml.getAllSegments('TQ1');
  assert.equal(orcs.length, 2);
  assert.equal(obrs.length, 2);
  assert.deepEqual(orcs.map((s) => [s.getField(1).toString(), s.getField(2).toString()]), [['NW', order.orderNumber], ['NW', order.orderNumber]]);
  assert.deepEqual(obrs.map((s) => s.getField(4).getComponent(1)), ['FBC', 'UE']);
  assert.deepEqual(tq1s.map((s) => s.getField(9).toString()), ['S', 'S']);
  // Clinical details with a field separator in them are escaped, not split.
  assert.equal(obrs[0]!.getField(13).toString(), 'Tired \\F\\ pale');
  assert.equal(oml.getAllSegments('NTE').length, 2, 'fasting noted on each request');
  // Segment order of an OML^O21 order group: ORC, TQ1, OBR, NTE.
  assert.deepEqual(oml.segments.map((s) => s.name), ['MSH', 'PID', 'ORC', 'TQ1', 'OBR', 'NTE', 'ORC', 'TQ1', 'OBR', 'NTE']);

  const orm = Hl7Message.parse(buildOrder(order, { name: 'leeds-path', host: 'x', port: 1 }));
  assert.equal(orm.getSegment('MSH')!.getField(9).toString(), 'ORM^O01^ORM_O01');
});
