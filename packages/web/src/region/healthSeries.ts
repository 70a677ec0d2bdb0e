/**
 * Pure helpers behind the region's health charts: the hub's daily roll-up (days with figures only)
 * made into series with a point for every day or week of the period, a day with no figures a gap
 * (null), never a zero; and a practice's heartbeat history as backlog series. No DOM: tested on Node.
 */
import type { BacklogKind } from '@steadfast/domain/api';
import { backlogKindLabels, weekStartOf, type HealthPoint, type HealthTotals, type HeartbeatHistoryPoint } from '@steadfast/domain/region';
import type { ChartSeries } from '../charts/timeSeries.ts';

export type HealthStep = 'day' | 'week';

type CountKey = Exclude<keyof HealthTotals, 'worstP95Ms'>;

/** The failures the early warning rule counts, and slow exchanges, as the charts name them. */
export const failureSeries: ReadonlyArray<{ key: CountKey; label: string }> = [
  { key: 'failedExchanges', label: 'Failed exchanges' },
  { key: 'slowExchanges', label: 'Slow exchanges' },
  { key: 'errors5xx', label: 'Server errors (5xx)' },
  { key: 'restarts', label: 'Restarts' },
  { key: 'outboxFailures', label: 'Outbox failures' },
  { key: 'inboxFailures', label: 'Inbox failures' },
];

const DAY_MS = 86_400_000;
const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A chart point for a YYYY-MM-DD: local midnight of that date, so the chart's (local) labels read the same date. */
export const chartTimeOf = (day: string) => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d!).getTime();
};

export interface HealthChartData {
  /** YYYY-MM-DD of each point (a day, or the Monday starting a week). */
  days: string[];
  times: number[];
  failures: ChartSeries[];
  p95: ChartSeries[];
}

/**
 * Every day (or week, Monday to Sunday) in [from, to], with the figures of the days in it: counts
 * add up, the p95 is the worst of the period; a period with no figures at all is null in every series.
 */
export function healthChartData(points: readonly HealthPoint[], from: string, to: string, step: HealthStep): HealthChartData {
  const byDay = new Map(points.map((p) => [p.at.slice(0, 10), p]));
  const buckets = new Map<string, HealthPoint[]>();
  const start = step === 'week' ? weekStartOf(from) : from;
  for (let t = dayMs(start); t <= dayMs(to); t += DAY_MS) {
    const day = dayOf(t);
    const bucket = step === 'week' ? weekStartOf(day) : day;
    const list = buckets.get(bucket) ?? [];
    const p = day >= from ? byDay.get(day) : undefined;
    if (p) list.push(p);
    buckets.set(bucket, list);
  }
  const days = [...buckets.keys()];
  const lists = days.map((d) => buckets.get(d)!);
  const sum = (key: CountKey) => lists.map((l) => (l.length ? l.reduce((a, p) => a + p[key], 0) : null));
  const worst = lists.map((l) => {
    const vs = l.map((p) => p.worstP95Ms).filter((v): v is number => v !== null);
    return vs.length ? Math.max(...vs) : null;
  });
  return {
    days,
    times: days.map(chartTimeOf),
    failures: failureSeries.map((s) => ({ label: s.label, values: sum(s.key) })),
    p95: [{ label: 'Worst p95 response time (ms)', values: worst }],
  };
}

/** Backlog by kind over the heartbeats (oldest first); a kind not reported is a gap. Times strictly increase. */
export function backlogChartData(heartbeats: readonly HeartbeatHistoryPoint[], kinds: readonly BacklogKind[]): { times: number[]; series: ChartSeries[] } {
  const kept: HeartbeatHistoryPoint[] = [];
  let last = -Infinity;
  for (const h of heartbeats) {
    const t = Date.parse(h.receivedAt);
    if (t <= last) continue;
    last = t;
    kept.push(h);
  }
  return {
    times: kept.map((h) => Date.parse(h.receivedAt)),
    series: kinds.map((k) => ({ label: backlogKindLabels[k], values: kept.map((h) => h.backlog.find((b) => b.kind === k)?.count ?? null) })),
  };
}
