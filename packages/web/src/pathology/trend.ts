/**
 * Earlier values of a test beside the new one: a clinician sees at a glance whether a result is
 * drifting. Pure, so it is tested without a browser.
 */

/** The number in a result value such as "101 g/L", "<5 mmol/L" or "4.2"; undefined for text results. */
export function numericValue(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const m = /^\s*[<>≤≥]?=?\s*(-?\d+(?:\.\d+)?)/.exec(value ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface TrendPoint {
  date: string;
  value: number;
}

/**
 * Points of a sparkline (oldest first) in a width × height box with a margin, for an SVG polyline.
 * Undefined when fewer than two numeric values exist (nothing to draw).
 */
export function sparkline(points: TrendPoint[], width = 120, height = 28, margin = 3): string | undefined {
  const ordered = [...points].filter((p) => Number.isFinite(p.value)).sort((a, b) => a.date.localeCompare(b.date));
  if (ordered.length < 2) return undefined;
  const values = ordered.map((p) => p.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const step = (width - 2 * margin) / (ordered.length - 1);
  return ordered
    .map((p, i) => {
      const x = margin + i * step;
      // Equal values sit on the middle line rather than on an edge.
      const y = max === min ? height / 2 : height - margin - ((p.value - min) / span) * (height - 2 * margin);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** Rising, falling or steady since the previous value (a 5% band counts as steady). */
export function direction(current: number | undefined, previous: number | undefined): 'up' | 'down' | 'steady' | undefined {
  if (current === undefined || previous === undefined) return undefined;
  const band = Math.abs(previous) * 0.05;
  if (current > previous + band) return 'up';
  if (current < previous - band) return 'down';
  return 'steady';
}
