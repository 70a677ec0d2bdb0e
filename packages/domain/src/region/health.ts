/**
 * A node's own health as a time series: one sample per five-minute window (failed and slow exchanges,
 * errors by route, restarts, outbox and inbox failures, response times), counts only, never patient
 * data. Samples ride on the heartbeat; the hub checks them here before it records anything, so an
 * impossible figure never reaches a chart or the early warning rule.
 */
/** The sample window: five minutes, aligned to the clock (hh:00, hh:05, ...). */
export const HEALTH_WINDOW_MS = 5 * 60_000;
/** An exchange with the hub taking longer than this counts as slow. */
export const SLOW_EXCHANGE_MS = 5_000;
/** At most this many samples on one heartbeat (an hour; older windows follow on later heartbeats). */
export const MAX_SAMPLES_PER_HEARTBEAT = 12;
/** At most this many routes with errors in one sample (the rest are summed under "other"). */
export const MAX_ROUTES_PER_SAMPLE = 20;
/** The hub keeps samples at least this long (13 months), then its retention job deletes them. */
export const HEALTH_RETENTION_DAYS = 400;
/** A sample for a window older than this is refused (it could only be a replay or a broken clock). */
export const MAX_SAMPLE_AGE_MS = HEALTH_RETENTION_DAYS * 86_400_000;
/** No count in a five-minute window can plausibly exceed this (about 3,300 a second). */
export const MAX_SAMPLE_COUNT = 1_000_000;
/** No response time can plausibly exceed ten minutes. */
export const MAX_RESPONSE_MS = 600_000;
export const OTHER_ROUTES = 'other';

export interface RouteErrors {
  /** The route pattern, e.g. "GET /fhir/Patient/:id" (never a URL with its values). */
  route: string;
  status4xx: number;
  status5xx: number;
}

export interface HealthSample {
  /** Start of the five-minute window (ISO instant, aligned). */
  windowStart: string;
  exchanges: number;
  failedExchanges: number;
  slowExchanges: number;
  requests: number;
  /** Response-time percentiles over the window's requests; null when there were none. */
  p50Ms: number | null;
  p95Ms: number | null;
  routeErrors: RouteErrors[];
  /** 1 when the node process started in this window. */
  restarts: number;
  outboxFailures: number;
  inboxFailures: number;
}

export interface HealthProblem {
  field: string;
  message: string;
  hint: string;
}

export function windowStartOf(ms: number): number {
  return Math.floor(ms / HEALTH_WINDOW_MS) * HEALTH_WINDOW_MS;
}

/** The p-th percentile (nearest rank) of durations; null for none. */
export function percentileMs(durations: readonly number[], p: number): number | null {
  if (!durations.length) return null;
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const whole = (v: unknown, max = MAX_SAMPLE_COUNT): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;

/**
 * Check a heartbeat's `health` list (parsed JSON) against the hub's clock: at most
 * MAX_SAMPLES_PER_HEARTBEAT, windows aligned, not in the future, not older than retention, each window
 * once; every count whole and possible (failed or slow not above exchanges, errors not above
 * requests, p50 not above p95). Returns the samples, or the first problem naming its field.
 */
export function checkHealthSamples(value: unknown, sentAtMs: number): { ok: true; samples: HealthSample[] } | { ok: false; problem: HealthProblem } {
  const fail = (field: string, message: string, hint: string) => ({ ok: false as const, problem: { field, message, hint } });
  if (value === undefined) return { ok: true, samples: [] };
  if (!Array.isArray(value) || value.length > MAX_SAMPLES_PER_HEARTBEAT) return fail('health', `health must be a list of at most ${MAX_SAMPLES_PER_HEARTBEAT} samples`, 'Send the oldest unsent samples first; the rest follow on later heartbeats');
  const seen = new Set<string>();
  const samples: HealthSample[] = [];
  for (let i = 0; i < value.length; i++) {
    const at = `health[${i}]`;
    const s: unknown = value[i];
    if (!isObject(s)) return fail(at, 'A health sample must be an object', 'Send {windowStart, exchanges, ...}');
    const start = typeof s.windowStart === 'string' ? Date.parse(s.windowStart) : NaN;
    if (!Number.isFinite(start) || start % HEALTH_WINDOW_MS !== 0) return fail(`${at}.windowStart`, 'windowStart must be an ISO instant on a five-minute boundary', 'e.g. 2026-12-03T14:05:00.000Z');
    if (start + HEALTH_WINDOW_MS > sentAtMs + HEALTH_WINDOW_MS) return fail(`${at}.windowStart`, `The window ${s.windowStart} starts after the heartbeat was sent`, "Check the node's clock");
    if (start < sentAtMs - MAX_SAMPLE_AGE_MS) return fail(`${at}.windowStart`, `The window ${s.windowStart} is older than the ${HEALTH_RETENTION_DAYS} days the hub keeps`, 'Drop samples older than the retention');
    const key = new Date(start).toISOString();
    if (seen.has(key)) return fail(`${at}.windowStart`, `The window ${key} is sent twice`, 'Send each window once');
    seen.add(key);
    for (const f of ['exchanges', 'failedExchanges', 'slowExchanges', 'requests', 'outboxFailures', 'inboxFailures'] as const) {
      if (!whole(s[f])) return fail(`${at}.${f}`, `The ${f} count ${String(s[f])} is impossible`, `A whole number from 0 to ${MAX_SAMPLE_COUNT}`);
    }
    if (!whole(s.restarts, 1)) return fail(`${at}.restarts`, `restarts ${String(s.restarts)} is impossible`, 'A node starts at most once in a window: 0 or 1');
    const n = s as unknown as HealthSample;
    if (n.failedExchanges > n.exchanges) return fail(`${at}.failedExchanges`, 'More failed exchanges than exchanges', 'Count every attempted exchange in exchanges');
    if (n.slowExchanges > n.exchanges) return fail(`${at}.slowExchanges`, 'More slow exchanges than exchanges', 'Count every attempted exchange in exchanges');
    for (const f of ['p50Ms', 'p95Ms'] as const) {
      const v = s[f];
      if (v !== null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_RESPONSE_MS)) return fail(`${at}.${f}`, `${f} ${String(v)} is impossible`, `Milliseconds from 0 to ${MAX_RESPONSE_MS}, or null when there were no requests`);
      if (n.requests === 0 && v !== null) return fail(`${at}.${f}`, `${f} is given for a window with no requests`, 'Send null when there were no requests');
    }
    if (n.p50Ms !== null && n.p95Ms !== null && n.p50Ms > n.p95Ms) return fail(`${at}.p50Ms`, 'p50Ms is above p95Ms', 'The median cannot be slower than the 95th percentile');
    if ((n.p50Ms === null) !== (n.p95Ms === null)) return fail(`${at}.p95Ms`, 'p50Ms and p95Ms must both be given or both be null', 'Send both percentiles');
    if (!Array.isArray(s.routeErrors) || s.routeErrors.length > MAX_ROUTES_PER_SAMPLE + 1) return fail(`${at}.routeErrors`, `routeErrors must be a list of at most ${MAX_ROUTES_PER_SAMPLE + 1} routes`, `Sum the rest under "${OTHER_ROUTES}"`);
    const routes = new Set<string>();
    let errors = 0;
    const routeErrors: RouteErrors[] = [];
    for (let j = 0; j < s.routeErrors.length; j++) {
      const r: unknown = s.routeErrors[j];
      const rat = `${at}.routeErrors[${j}]`;
      if (!isObject(r) || typeof r.route !== 'string' || !r.route || r.route.length > 120 || !/^[A-Z]+ \/[\w/:.*$-]*$|^other$/.test(r.route)) {
        return fail(`${rat}.route`, 'route must be a method and route pattern, e.g. "GET /fhir/Patient/:id"', 'Send the route pattern, never the URL with its values');
      }
      if (routes.has(r.route)) return fail(`${rat}.route`, `Route ${r.route} is sent twice`, 'Send each route once');
      routes.add(r.route);
      if (!whole(r.status4xx) || !whole(r.status5xx)) return fail(`${rat}`, `The error counts of ${r.route} are impossible`, `Whole numbers from 0 to ${MAX_SAMPLE_COUNT}`);
      errors += r.status4xx + r.status5xx;
      routeErrors.push({ route: r.route, status4xx: r.status4xx, status5xx: r.status5xx });
    }
    if (errors > n.requests) return fail(`${at}.routeErrors`, 'More errors than requests', 'Count every request in requests');
    samples.push({
      windowStart: key, exchanges: n.exchanges, failedExchanges: n.failedExchanges, slowExchanges: n.slowExchanges, requests: n.requests,
      p50Ms: n.p50Ms, p95Ms: n.p95Ms, routeErrors, restarts: n.restarts, outboxFailures: n.outboxFailures, inboxFailures: n.inboxFailures,
    });
  }
  return { ok: true, samples };
}

/** A day (or week) of health summed over samples: what the charts and the early warning read. */
export interface HealthTotals {
  exchanges: number;
  failedExchanges: number;
  slowExchanges: number;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  restarts: number;
  outboxFailures: number;
  inboxFailures: number;
  /** The worst five-minute p95 of the period (ms), null when there were no requests. */
  worstP95Ms: number | null;
}

/** Monday (UTC) of the week holding `day` (YYYY-MM-DD). */
export function weekStartOf(day: string): string {
  const t = new Date(`${day}T00:00:00Z`);
  const back = (t.getUTCDay() + 6) % 7;
  return new Date(t.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}
