import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignedData, chartSummary, pointLabel, tickLabels } from './timeSeries.ts';

const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();

test('points are labelled in the NHS date style, with the time of day for moments', () => {
  assert.equal(pointLabel(at(2026, 12, 4), 'day'), '4-Dec-2026');
  assert.equal(pointLabel(at(2026, 12, 4, 13, 5), 'time'), '4-Dec-2026 13:05');
});

test('axis ticks name the date where the day changes and the time of day between', () => {
  assert.deepEqual(tickLabels([at(2026, 12, 3, 0), at(2026, 12, 3, 12), at(2026, 12, 4, 0), at(2026, 12, 4, 6)], 'time'), ['3-Dec-2026', '12:00', '4-Dec-2026', '06:00']);
  assert.deepEqual(tickLabels([at(2026, 12, 3, 9, 30), at(2026, 12, 3, 10)], 'time'), ['3-Dec-2026 09:30', '10:00']);
  assert.deepEqual(tickLabels([at(2026, 1, 1), at(2026, 2, 1)], 'day'), ['1-Jan-2026', '1-Feb-2026']);
});

test('aligned data is in seconds and refuses series that do not match the times', () => {
  assert.deepEqual(alignedData([1000, 2000], [{ label: 'a', values: [1, null] }]), [[1, 2], [1, null]]);
  assert.throws(() => alignedData([1000, 2000], [{ label: 'a', values: [1] }]), /"a" has 1 values for 2 times/);
  assert.throws(() => alignedData([2000, 1000], []), /increasing order/);
});

test('the summary names the span, the highest and the latest, and says when nothing was reported', () => {
  const times = [at(2026, 12, 1), at(2026, 12, 2), at(2026, 12, 3)];
  assert.equal(chartSummary('Failed exchanges', times, [{ label: 'Failed', values: [2, 9, 4] }, { label: 'Slow', values: [null, null, null] }], 'day'), 'Failed exchanges, 1-Dec-2026 to 3-Dec-2026. Failed: highest 9, latest 4; Slow: not reported.');
  assert.equal(chartSummary('Failed exchanges', [], [], 'day'), 'Failed exchanges: no data in this period.');
});
