/**
 * Daily (or weekly) health charts at the hub, from the daily roll-up: one practice's
 * (/api/region/practices/:ods/health) or the region's summed (/api/region/health). Failures (what the
 * early warning rule counts, and slow exchanges) and the worst p95 response time, each a TimeChart
 * with its caption, axis labels, text summary and the figures as a table.
 */
import { useEffect, useMemo, useState } from 'react';
import type { HealthSeriesResponse } from '@steadfast/domain/region';
import { api } from '../api.ts';
import { TimeChart } from '../charts/TimeChart.tsx';
import { healthChartData, type HealthStep } from './healthSeries.ts';

const periods = [
  { days: 42, label: 'Last 6 weeks' },
  { days: 91, label: 'Last 13 weeks' },
  { days: 396, label: 'Last 13 months' },
];

export function HealthCharts({ practice }: { practice: string | null }) {
  const [days, setDays] = useState(42);
  const [step, setStep] = useState<HealthStep>('day');
  const [data, setData] = useState<HealthSeriesResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const idPrefix = practice ? 'practice-health' : 'region-health';

  useEffect(() => {
    let stopped = false;
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.parse(`${to}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const path = practice ? `/api/region/practices/${encodeURIComponent(practice)}/health` : '/api/region/health';
    api<HealthSeriesResponse>(`${path}?from=${from}&to=${to}`).then(
      (r) => !stopped && (setData(r), setError(undefined)),
      (err: Error) => !stopped && setError(err.message),
    );
    return () => {
      stopped = true;
    };
  }, [practice, days]);

  const chart = useMemo(() => (data ? healthChartData(data.points, data.from, data.to, step) : undefined), [data, step]);
  const per = step === 'day' ? 'day' : 'week (weeks start on Monday)';
  const whose = practice ? '' : ' across the region';
  return (
    <section aria-labelledby={`${idPrefix}-title`} data-testid={idPrefix}>
      <h2 id={`${idPrefix}-title`}>Health{whose}</h2>
      <div className="sf-chart-controls">
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor={`${idPrefix}-period`}>
            Period
          </label>
          <select className="nhsuk-select" id={`${idPrefix}-period`} value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {periods.map((p) => (
              <option key={p.days} value={p.days}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor={`${idPrefix}-step`}>
            Figures per
          </label>
          <select className="nhsuk-select" id={`${idPrefix}-step`} value={step} onChange={(e) => setStep(e.target.value as HealthStep)}>
            <option value="day">Day</option>
            <option value="week">Week</option>
          </select>
        </div>
      </div>
      {error ? (
        <p className="nhsuk-error-message" role="alert">
          The health figures could not be loaded: {error}
        </p>
      ) : null}
      {!chart ? <p aria-busy="true">Loading the health figures…</p> : null}
      {chart && !data?.points.length ? <p>No health figures have reached the hub for this period.</p> : null}
      {chart && data?.points.length ? (
        <>
          <TimeChart caption={`Failures${whose} per ${per}`} times={chart.times} series={chart.failures} granularity="day" yLabel="Failures" xLabel={step === 'day' ? 'Date' : 'Week starting'} testId={`${idPrefix}-failures`} />
          <TimeChart caption={`Slowest response times${whose} per ${per}`} times={chart.times} series={chart.p95} granularity="day" yLabel="Milliseconds" xLabel={step === 'day' ? 'Date' : 'Week starting'} testId={`${idPrefix}-p95`} />
        </>
      ) : null}
    </section>
  );
}
