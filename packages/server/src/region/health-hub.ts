/**
 * The hub's side of the nodes' health (issue 13 item 4): samples arriving on heartbeats are recorded
 * once per node and window (a resend after a lost answer changes nothing), summed into the daily
 * roll-up in the same transaction, deleted after HEALTH_RETENTION_DAYS by the retention job, and read
 * back as daily series (charts) and weekly totals (the early warning rule). Counts only.
 */
import { sql, type Kysely } from 'kysely';
import {
  EARLY_WARNING_WEEKS, earlyWarning, HEALTH_RETENTION_DAYS, weekStartOf, weeklyHealthOf,
  type EarlyWarningView, type HealthPoint, type HealthSample, type HealthTotals, type WeeklyHealth,
} from '@steadfast/domain/region';
import { regionDb } from './tables.ts';
import { HEALTH_COUNT_COLUMNS, healthDb, type HealthCountColumns, type RegionHealthDailyTable } from './health-tables.ts';

function countsOf(s: HealthSample): HealthCountColumns {
  let e4 = 0;
  let e5 = 0;
  for (const r of s.routeErrors) {
    e4 += r.status4xx;
    e5 += r.status5xx;
  }
  return {
    exchanges: s.exchanges, failed_exchanges: s.failedExchanges, slow_exchanges: s.slowExchanges, requests: s.requests,
    errors_4xx: e4, errors_5xx: e5, restarts: s.restarts, outbox_failures: s.outboxFailures, inbox_failures: s.inboxFailures,
  };
}

/**
 * Record a heartbeat's samples inside its transaction: windows already recorded for the node are left
 * as they are (the first accepted copy stands), and only new ones are added to the daily roll-up.
 * Returns how many were new.
 */
export async function recordHealthSamples(trx: Kysely<any>, practice: string, nodeId: string, samples: readonly HealthSample[], receivedAt: string): Promise<number> {
  if (!samples.length) return 0;
  const h = healthDb(trx);
  const inserted = await h
    .insertInto('region_health')
    .values(samples.map((s) => ({
      practice, node_id: nodeId, window_start: s.windowStart, received_at: receivedAt, p50_ms: s.p50Ms, p95_ms: s.p95Ms, route_errors: JSON.stringify(s.routeErrors), ...countsOf(s),
    })))
    .onConflict((oc) => oc.columns(['practice', 'node_id', 'window_start']).doNothing())
    .returning('window_start')
    .execute();
  const fresh = new Set(inserted.map((r) => r.window_start));
  const days = new Map<string, RegionHealthDailyTable>();
  for (const s of samples) {
    if (!fresh.has(s.windowStart)) continue;
    const day = s.windowStart.slice(0, 10);
    const c = countsOf(s);
    const d = days.get(day) ?? { practice, day, samples: 0, worst_p95_ms: null, ...Object.fromEntries(HEALTH_COUNT_COLUMNS.map((k) => [k, 0])) as unknown as HealthCountColumns };
    d.samples++;
    for (const k of HEALTH_COUNT_COLUMNS) d[k] += c[k];
    if (s.p95Ms !== null) d.worst_p95_ms = Math.max(d.worst_p95_ms ?? 0, s.p95Ms);
    days.set(day, d);
  }
  for (const d of days.values()) {
    await h
      .insertInto('region_health_daily')
      .values(d)
      .onConflict((oc) =>
        oc.columns(['practice', 'day']).doUpdateSet((eb) => ({
          samples: sql`region_health_daily.samples + excluded.samples`,
          ...Object.fromEntries(HEALTH_COUNT_COLUMNS.map((k) => [k, sql`region_health_daily.${sql.ref(k)} + excluded.${sql.ref(k)}`])),
          worst_p95_ms: sql`GREATEST(region_health_daily.worst_p95_ms, excluded.worst_p95_ms)`,
        }) as never),
      )
      .execute();
  }
  return fresh.size;
}

/** The retention job: delete samples and days older than HEALTH_RETENTION_DAYS (13 months). */
export async function pruneHealth(db: Kysely<any>, now = new Date()): Promise<{ samples: number; days: number }> {
  const cutoff = new Date(now.getTime() - HEALTH_RETENTION_DAYS * 86_400_000);
  const h = healthDb(db);
  const samples = await h.deleteFrom('region_health').where('window_start', '<', cutoff.toISOString()).executeTakeFirst();
  const days = await h.deleteFrom('region_health_daily').where('day', '<', cutoff.toISOString().slice(0, 10)).executeTakeFirst();
  return { samples: Number(samples.numDeletedRows), days: Number(days.numDeletedRows) };
}

function totalsOf(r: HealthCountColumns & { worst_p95_ms: number | null }): HealthTotals {
  return {
    exchanges: Number(r.exchanges), failedExchanges: Number(r.failed_exchanges), slowExchanges: Number(r.slow_exchanges), requests: Number(r.requests),
    errors4xx: Number(r.errors_4xx), errors5xx: Number(r.errors_5xx), restarts: Number(r.restarts), outboxFailures: Number(r.outbox_failures),
    inboxFailures: Number(r.inbox_failures), worstP95Ms: r.worst_p95_ms === null ? null : Number(r.worst_p95_ms),
  };
}

const summed = HEALTH_COUNT_COLUMNS.map((k) => sql`SUM(${sql.ref(k)})::bigint AS ${sql.ref(k)}`);

/** Daily health of one practice (or, with practice null, the region summed) for days in [from, to]. */
export async function healthByDay(db: Kysely<any>, practice: string | null, from: string, to: string): Promise<HealthPoint[]> {
  const rows = await sql<HealthCountColumns & { day: string; worst_p95_ms: number | null }>`
    SELECT day, ${sql.join(summed)}, MAX(worst_p95_ms) AS worst_p95_ms
    FROM region_health_daily
    WHERE day >= ${from} AND day <= ${to} ${practice === null ? sql`` : sql`AND practice = ${practice}`}
    GROUP BY day ORDER BY day`.execute(db);
  return rows.rows.map((r) => ({ at: r.day, ...totalsOf(r) }));
}

/** The Monday starting the current (incomplete) week: the rule reads the complete weeks before it. */
export function currentWeekStart(now: Date): string {
  return weekStartOf(now.toISOString().slice(0, 10));
}

/**
 * The early warning rule fed from the daily roll-up: each practice's last EARLY_WARNING_WEEKS complete
 * weeks, flagged ones first. A week with no figures at all is left out (not counted as no failures).
 */
export async function earlyWarnings(db: Kysely<any>, now = new Date()): Promise<EarlyWarningView[]> {
  const to = currentWeekStart(now);
  const from = new Date(Date.parse(`${to}T00:00:00Z`) - EARLY_WARNING_WEEKS * 7 * 86_400_000).toISOString().slice(0, 10);
  // Summed by practice and week in PostgreSQL (Monday weeks, as weekStartOf): 6 rows a practice, not 42.
  const rows = await sql<HealthCountColumns & { practice: string; week: string; worst_p95_ms: number | null }>`
    SELECT practice, to_char(date_trunc('week', day::date), 'YYYY-MM-DD') AS week, ${sql.join(summed)}, MAX(worst_p95_ms) AS worst_p95_ms
    FROM region_health_daily WHERE day >= ${from} AND day < ${to}
    GROUP BY practice, week`.execute(db);
  const byPractice = new Map<string, Map<string, HealthTotals>>();
  for (const r of rows.rows) {
    const weeks = byPractice.get(r.practice) ?? new Map<string, HealthTotals>();
    weeks.set(r.week, totalsOf(r));
    byPractice.set(r.practice, weeks);
  }
  const directory = new Map((await regionDb(db).selectFrom('region_practices').selectAll().execute()).map((p) => [p.practice, p]));
  const out: EarlyWarningView[] = [];
  for (const [practice, weeks] of byPractice) {
    const list: WeeklyHealth[] = [...weeks].sort(([a], [b]) => a.localeCompare(b)).map(([w, t]) => weeklyHealthOf(w, t));
    const verdict = earlyWarning(list);
    out.push({ practice, name: directory.get(practice)?.name ?? null, pcn: directory.get(practice)?.pcn ?? null, ...verdict, weeks: list });
  }
  return out.sort((a, b) => Number(b.flagged) - Number(a.flagged) || b.slopePerWeek - a.slopePerWeek || a.practice.localeCompare(b.practice));
}
