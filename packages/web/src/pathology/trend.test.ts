import { test } from 'node:test';
import assert from 'node:assert/strict';
import { direction, numericValue, sparkline } from './trend.ts';

test('numeric values are read from result text, comparators included; text results have none', () => {
  assert.equal(numericValue('101 g/L'), 101);
  assert.equal(numericValue('<5 mmol/L'), 5);
  assert.equal(numericValue('4.25'), 4.25);
  assert.equal(numericValue('-1.5'), -1.5);
  assert.equal(numericValue('Positive'), undefined);
  assert.equal(numericValue(''), undefined);
  assert.equal(numericValue(7), 7);
});

test('a sparkline runs oldest to newest, highest value at the top; fewer than two values draw nothing', () => {
  const line = sparkline(
    [
      { date: '2026-03-01', value: 10 },
      { date: '2026-01-01', value: 20 },
      { date: '2026-02-01', value: 15 },
    ],
    100,
    20,
    0,
  );
  // Oldest (20) at x=0 and the top (y=0); newest (10) at x=100 and the bottom (y=20).
  assert.equal(line, '0.0,0.0 50.0,10.0 100.0,20.0');
  assert.equal(sparkline([{ date: '2026-01-01', value: 3 }]), undefined);
  assert.equal(sparkline([{ date: 'a', value: 3 }, { date: 'b', value: 3 }], 10, 10, 0), '0.0,5.0 10.0,5.0');
});

test('direction against the previous value, with a 5% steady band', () => {
  assert.equal(direction(110, 100), 'up');
  assert.equal(direction(90, 100), 'down');
  assert.equal(direction(104, 100), 'steady');
  assert.equal(direction(undefined, 100), undefined);
});
