/**
 * Pure helpers behind TimeChart: UK labels for time axes and the shape uPlot wants. No DOM, so
 * timeSeries.test.ts pins them on Node.
 */
import { formatDate, localIsoDate } from '../format.ts';

/** One series drawn over time: a line, or bars (one per day, say). */
export interface ChartSeries {
  label: string;
  /** One value per point of `times`; null where nothing was reported (a gap, not a zero). */
  values: readonly (number | null)[];
  kind?: 'line' | 'bars';
}

/** 'day': points are days ("4-Dec-2026"); 'time': points are moments ("4-Dec 13:05"). */
export type TimeGranularity = 'day' | 'time';

const pad = (n: number) => String(n).padStart(2, '0');

/** The label of one point (epoch milliseconds) in the NHS date style, local time. */
export function pointLabel(ms: number, granularity: TimeGranularity): string {
  const t = new Date(ms);
  const day = formatDate(localIsoDate(t));
  return granularity === 'day' ? day : `${day} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

/**
 * Axis tick labels: a date where the day changes (or on the first tick), the time of day otherwise,
 * so a week of five-minute samples reads "3-Dec-2026", "12:00", "4-Dec-2026" …
 */
export function tickLabels(ticksMs: readonly number[], granularity: TimeGranularity): string[] {
  let lastDay = '';
  return ticksMs.map((ms) => {
    const t = new Date(ms);
    const day = formatDate(localIsoDate(t));
    if (granularity === 'day' || day !== lastDay) {
      lastDay = day;
      const midnight = t.getHours() === 0 && t.getMinutes() === 0;
      return granularity === 'day' || midnight ? day : `${day} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
    }
    return `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  });
}

/**
 * uPlot's aligned data: x in seconds, then one array per series. Throws when a series is not as long
 * as the times (a chart that silently shifted values against their dates would mislead).
 */
export function alignedData(timesMs: readonly number[], series: readonly ChartSeries[]): (number | null)[][] {
  for (const s of series) {
    if (s.values.length !== timesMs.length) throw new Error(`Chart series "${s.label}" has ${s.values.length} values for ${timesMs.length} times`);
  }
  for (let i = 1; i < timesMs.length; i++) {
    if (timesMs[i]! <= timesMs[i - 1]!) throw new Error('Chart times must be in increasing order');
  }
  return [timesMs.map((ms) => ms / 1000), ...series.map((s) => [...s.values])];
}

/** A one-line text summary of the chart for people who cannot see it (the canvas's accessible name). */
export function chartSummary(caption: string, timesMs: readonly number[], series: readonly ChartSeries[], granularity: TimeGranularity): string {
  if (!timesMs.length) return `${caption}: no data in this period.`;
  const span = `${pointLabel(timesMs[0]!, granularity)} to ${pointLabel(timesMs[timesMs.length - 1]!, granularity)}`;
  const parts = series.map((s) => {
    const vs = s.values.filter((v): v is number => v !== null);
    if (!vs.length) return `${s.label}: not reported`;
    return `${s.label}: highest ${Math.max(...vs)}, latest ${vs[vs.length - 1]}`;
  });
  return `${caption}, ${span}. ${parts.join('; ')}.`;
}
