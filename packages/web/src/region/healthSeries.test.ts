import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthPoint } from '@steadfast/domain/region';
import { backlogChartData, healthChartData } from './healthSeries.ts';

const zero = { exchanges: 0, failedExchanges: 0, slowExchanges: 0, requests: 0, errors4xx: 0, errors5xx: 0, restarts: 0, outboxFailures: 0, inboxFailures: 0, worstP95Ms: null };
const point = (at: string, over: Partial<HealthPoint>): HealthPoint => ({ ...zero, at, ...over });

test('every day of the period is a point; a day with no figures is a gap, never a zero', () => {
  const d = healthChartData([point('2026-11-30', { failedExchanges: 4, worstP95Ms: 120 }), point('2026-12-02', { failedExchanges: 0, errors5xx: 2, worstP95Ms: 90 })], '2026-11-30', '2026-12-03', 'day');
  assert.deepEqual(d.days, ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03']);
  assert.deepEqual(d.failures.find((s) => s.label === 'Failed exchanges')!.values, [4, null, 0, null]);
  assert.deepEqual(d.failures.find((s) => s.label === 'Server errors (5xx)')!.values, [0, null, 2, null]);
  assert.deepEqual(d.p95[0]!.values, [120, null, 90, null]);
  assert.equal(new Date(d.times[0]!).getDate(), 30, 'a point is labelled with its own date');
});

test('weeks (Monday to Sunday) add up their days and keep the worst p95; days before the period are left out', () => {
  const d = healthChartData(
    [point('2026-11-29', { restarts: 9 }), point('2026-11-30', { restarts: 1, worstP95Ms: 100 }), point('2026-12-06', { restarts: 2, worstP95Ms: 300 }), point('2026-12-07', { restarts: 5 })],
    '2026-11-30', '2026-12-08', 'week',
  );
  assert.deepEqual(d.days, ['2026-11-30', '2026-12-07']);
  assert.deepEqual(d.failures.find((s) => s.label === 'Restarts')!.values, [3, 5]);
  assert.deepEqual(d.p95[0]!.values, [300, null]);
});

test('backlog series from heartbeats: a kind not reported is a gap, and two heartbeats at one instant give one point', () => {
  const hb = (receivedAt: string, count?: number) => ({ nodeId: 'n', seq: 1, sentAt: receivedAt, receivedAt, hubReachable: true, standbyUp: false, diskFreeBytes: null, backlog: count === undefined ? [] : [{ kind: 'results-unfiled' as const, count }] });
  const d = backlogChartData([hb('2026-12-04T10:00:00.000Z', 3), hb('2026-12-04T10:00:00.000Z', 4), hb('2026-12-04T10:01:00.000Z')], ['results-unfiled']);
  assert.equal(d.times.length, 2);
  assert.deepEqual(d.series[0]!.values, [3, null]);
});
