/**
 * A chart of counts over time (lines, or daily bars), drawn with uPlot on a canvas, with a caption,
 * labelled axes, UK dates, a text summary as its accessible name, and the same figures as a table
 * (behind "Show the figures as a table") for people who cannot use the chart.
 *
 * The staff app's Content-Security-Policy allows no inline styles from HTML: uPlot's stylesheet is
 * imported as a file (bundled by Vite) and uPlot sets sizes through the DOM, which the policy allows.
 */
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './charts.css';
import { alignedData, chartSummary, pointLabel, tickLabels, type ChartSeries, type TimeGranularity } from './timeSeries.ts';

export type { ChartSeries, TimeGranularity } from './timeSeries.ts';

/** NHS identity colours, each with its own dash so lines differ by more than colour. */
const PALETTE: { stroke: string; dash: number[] }[] = [
  { stroke: '#005eb8', dash: [] },
  { stroke: '#d5281b', dash: [8, 4] },
  { stroke: '#007f3b', dash: [2, 3] },
  { stroke: '#330072', dash: [12, 3, 2, 3] },
  { stroke: '#ed8b00', dash: [4, 4] },
  { stroke: '#425563', dash: [1, 6] },
];
/** Table rows shown at most (a week of five-minute samples is 2,016). */
const TABLE_MAX_ROWS = 500;
const HEIGHT = 240;

export interface TimeChartProps {
  /** What the chart shows, e.g. "Failed exchanges per day". */
  caption: string;
  /** Times of the points, epoch milliseconds, increasing. */
  times: readonly number[];
  series: readonly ChartSeries[];
  granularity: TimeGranularity;
  /** The y axis label, e.g. "Exchanges". */
  yLabel: string;
  /** The x axis label; "Date" or "Time" when not given. */
  xLabel?: string;
  testId?: string;
  /** false when the page shows the same figures in a table of its own beside the chart (its text alternative). */
  table?: boolean;
}

export function TimeChart({ caption, times, series, granularity, yLabel, xLabel, testId, table = true }: TimeChartProps) {
  const plotRef = useRef<HTMLDivElement>(null);
  const data = useMemo(() => alignedData(times, series), [times, series]);
  const summary = chartSummary(caption, times, series, granularity);

  useEffect(() => {
    const el = plotRef.current;
    if (!el || !times.length) return undefined;
    const width = () => Math.max(280, el.clientWidth || 600);
    const opts: uPlot.Options = {
      width: width(),
      height: HEIGHT,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? Math.ceil(max * 1.1) : 1] } },
      axes: [
        // Room for "24-Oct-2026" between ticks, so the dates do not run into each other.
        { label: xLabel ?? (granularity === 'day' ? 'Date' : 'Time'), space: granularity === 'day' ? 100 : 70, values: (_u, splits) => tickLabels(splits.map((s) => s * 1000), granularity) },
        { label: yLabel },
      ],
      series: [
        { label: granularity === 'day' ? 'Date' : 'Time', value: (_u, v) => (v == null ? '' : pointLabel(v * 1000, granularity)) },
        ...series.map((s, i) => {
          const p = PALETTE[i % PALETTE.length]!;
          return s.kind === 'bars'
            ? { label: s.label, stroke: p.stroke, fill: `${p.stroke}99`, width: 1, paths: uPlot.paths.bars!({ size: [0.7, 40] }), points: { show: false } }
            : { label: s.label, stroke: p.stroke, dash: p.dash, width: 2, spanGaps: false, points: { show: false } };
        }),
      ],
    };
    const plot = new uPlot(opts, data as uPlot.AlignedData, el);
    const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT })) : undefined;
    observer?.observe(el);
    return () => {
      observer?.disconnect();
      plot.destroy();
    };
  }, [data, times.length, series, granularity, xLabel, yLabel]);

  const first = Math.max(0, times.length - TABLE_MAX_ROWS);
  return (
    <figure className="sf-chart" data-testid={testId}>
      <figcaption className="sf-chart__caption">{caption}</figcaption>
      {times.length ? <div ref={plotRef} className="sf-chart__plot" role="img" aria-label={summary} /> : <p>No figures in this period.</p>}
      {times.length && table ? (
        <details className="nhsuk-details">
          <summary className="nhsuk-details__summary">
            <span className="nhsuk-details__summary-text">Show the figures as a table</span>
          </summary>
          <div className="nhsuk-details__text sf-table-scroll">
            <table className="nhsuk-table">
              <caption className="nhsuk-table__caption nhsuk-table__caption--s">
                {caption}
                {first > 0 ? ` (the latest ${TABLE_MAX_ROWS} of ${times.length})` : ''}
              </caption>
              <thead className="nhsuk-table__head">
                <tr>
                  <th scope="col">{xLabel ?? (granularity === 'day' ? 'Date' : 'Time')}</th>
                  {series.map((s) => (
                    <th scope="col" className="sf-numeric" key={s.label}>
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {times.slice(first).map((t, i) => (
                  <tr key={t}>
                    <td>{pointLabel(t, granularity)}</td>
                    {series.map((s) => {
                      const v = s.values[first + i];
                      return (
                        <td className="sf-numeric" key={s.label}>
                          {v == null ? <span className="nhsuk-body-s">Not reported</span> : v}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
    </figure>
  );
}
