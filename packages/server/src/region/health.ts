/**
 * The node's own health as a time series (issue 13 item 4): in-memory counters for the current
 * five-minute window (requests and their times, 4xx and 5xx by route pattern), flushed into
 * region_health_samples when the window ends, with the sync client's exchanges (attempted, failed,
 * slow), restarts, and outbox and inbox failures of the window. The heartbeat carries the samples the
 * hub has not accepted yet. Counts only: a route is its pattern ("GET /fhir/Patient/:id"), never a URL.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import {
  HEALTH_RETENTION_DAYS, HEALTH_WINDOW_MS, MAX_ROUTES_PER_SAMPLE, MAX_SAMPLES_PER_HEARTBEAT, OTHER_ROUTES, percentileMs, windowStartOf,
  type HealthSample, type RouteErrors,
} from '@steadfast/domain/region';
import type { RecordStore } from '@steadfast/store';
import { HEALTH_NODE_KEEP_DAYS, healthDb } from './health-tables.ts';

/** Response times kept per window at most (a reservoir beyond it, so memory stays bounded). */
const MAX_DURATIONS = 20_000;

export interface ExchangeTotals {
  exchanges: number;
  failed: number;
  slow: number;
}

export interface HealthRecorderOptions {
  store: RecordStore;
  /** The sync client's running totals, or null while there is none. */
  exchangeTotals?(): ExchangeTotals | null;
  now?(): Date;
}

interface Window {
  start: number;
  requests: number;
  durations: number[];
  routes: Map<string, RouteErrors>;
}

export class HealthRecorder {
  private window: Window;
  private restartPending = true;
  private lastTotals: ExchangeTotals = { exchanges: 0, failed: 0, slow: 0 };
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: HealthRecorderOptions) {
    this.window = this.fresh(this.now());
  }

  private now(): number {
    return (this.options.now?.() ?? new Date()).getTime();
  }

  private fresh(now: number): Window {
    return { start: windowStartOf(now), requests: 0, durations: [], routes: new Map() };
  }

  /** One request answered: its route pattern (undefined when no route matched), status and time. */
  record(method: string, route: string | undefined, status: number, ms: number): void {
    this.rollIfDue();
    const w = this.window;
    w.requests++;
    reservoirAdd(w.durations, w.requests, ms);
    if (status < 400) return;
    let key = route ? `${method} ${route}` : OTHER_ROUTES;
    if (!w.routes.has(key) && w.routes.size >= MAX_ROUTES_PER_SAMPLE) key = OTHER_ROUTES;
    const r = w.routes.get(key) ?? { route: key, status4xx: 0, status5xx: 0 };
    if (status >= 500) r.status5xx++;
    else r.status4xx++;
    w.routes.set(key, r);
  }

  /** Install the counting hook on the node's app (every route, whichever capability owns it). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      this.record(request.method, request.routeOptions?.url, reply.statusCode, reply.elapsedTime);
    });
  }

  private rollIfDue(): void {
    const now = this.now();
    if (windowStartOf(now) === this.window.start) return;
    const ended = this.window;
    this.window = this.fresh(now);
    this.flushing = this.flushing.then(() => this.store(ended)).catch(() => undefined);
  }

  /** Write the current window as it stands (on stop: a partial window, merged with any row already there). */
  async flushNow(): Promise<void> {
    const w = this.window;
    this.window = this.fresh(this.now());
    this.window.start = w.start;
    this.flushing = this.flushing.then(() => this.store(w)).catch(() => undefined);
    await this.flushing;
  }

  private async sampleOf(w: Window): Promise<HealthSample> {
    const totals = this.options.exchangeTotals?.() ?? this.lastTotals;
    const since = this.lastTotals;
    this.lastTotals = totals;
    const from = new Date(w.start).toISOString();
    const to = new Date(w.start + HEALTH_WINDOW_MS).toISOString();
    const [outboxFailures, inboxFailures] = await Promise.all([
      countIn(this.options.store.db, 'outbox_messages', 'failed', this.options.store.practice, from, to),
      countIn(this.options.store.db, 'inbox_items', 'quarantined', this.options.store.practice, from, to),
    ]);
    const restarts = this.restartPending ? 1 : 0;
    this.restartPending = false;
    const exchanges = Math.max(0, totals.exchanges - since.exchanges);
    return {
      windowStart: from,
      exchanges,
      failedExchanges: Math.min(exchanges, Math.max(0, totals.failed - since.failed)),
      slowExchanges: Math.min(exchanges, Math.max(0, totals.slow - since.slow)),
      requests: w.requests,
      p50Ms: round(percentileMs(w.durations, 50)),
      p95Ms: round(percentileMs(w.durations, 95)),
      routeErrors: [...w.routes.values()],
      restarts,
      outboxFailures,
      inboxFailures,
    };
  }

  private async store(w: Window): Promise<void> {
    const sample = await this.sampleOf(w);
    const { practice, nodeId, db } = this.options.store;
    const h = healthDb(db);
    await db.transaction().execute(async (trx) => {
      const t = healthDb(trx);
      const prior = await t.selectFrom('region_health_samples').select(['sample', 'sent']).where('practice', '=', practice).where('node_id', '=', nodeId).where('window_start', '=', sample.windowStart).executeTakeFirst();
      // A window already accepted by the hub is not sent again (the hub keeps the first); a partial
      // window written at a stop is merged with the rest of it after the restart.
      if (prior && Number(prior.sent)) return;
      const merged = prior ? mergeSamples(JSON.parse(prior.sample) as HealthSample, sample) : sample;
      await t
        .insertInto('region_health_samples')
        .values({ practice, node_id: nodeId, window_start: sample.windowStart, sample: JSON.stringify(merged), sent: 0 })
        .onConflict((oc) => oc.columns(['practice', 'node_id', 'window_start']).doUpdateSet({ sample: JSON.stringify(merged) }))
        .execute();
    });
    const keepSent = new Date(this.now() - HEALTH_NODE_KEEP_DAYS * 86_400_000).toISOString();
    const keepAny = new Date(this.now() - HEALTH_RETENTION_DAYS * 86_400_000).toISOString();
    await h.deleteFrom('region_health_samples').where('practice', '=', practice).where((eb) => eb.or([eb.and([eb('sent', '=', 1), eb('window_start', '<', keepSent)]), eb('window_start', '<', keepAny)])).execute();
  }

  /** Samples of ended windows the hub has not accepted, oldest first, at most one heartbeat's worth. */
  async pending(): Promise<HealthSample[]> {
    this.rollIfDue();
    await this.flushing;
    const { practice, nodeId, db } = this.options.store;
    const rows = await healthDb(db)
      .selectFrom('region_health_samples')
      .select('sample')
      .where('practice', '=', practice)
      .where('node_id', '=', nodeId)
      .where('sent', '=', 0)
      .where('window_start', '<', new Date(this.window.start).toISOString())
      .where('window_start', '>=', new Date(this.now() - HEALTH_RETENTION_DAYS * 86_400_000 + HEALTH_WINDOW_MS).toISOString())
      .orderBy('window_start')
      .limit(MAX_SAMPLES_PER_HEARTBEAT)
      .execute();
    return rows.map((r) => JSON.parse(r.sample) as HealthSample);
  }

  /** The hub accepted the heartbeat carrying these samples. */
  async accepted(samples: readonly HealthSample[]): Promise<void> {
    if (!samples.length) return;
    const { practice, nodeId, db } = this.options.store;
    await healthDb(db).updateTable('region_health_samples').set({ sent: 1 }).where('practice', '=', practice).where('node_id', '=', nodeId).where('window_start', 'in', samples.map((s) => s.windowStart)).execute();
  }
}

/**
 * Keep a uniform sample of a window's response times in at most MAX_DURATIONS slots (reservoir
 * sampling, Algorithm R): the n-th time replaces a random slot only with probability MAX/n, so every
 * request of the window is equally likely to be in the sample and p95 is not biased to late requests.
 */
export function reservoirAdd(durations: number[], seen: number, ms: number, max = MAX_DURATIONS, random: () => number = Math.random): void {
  if (durations.length < max) {
    durations.push(ms);
    return;
  }
  const j = Math.floor(random() * seen);
  if (j < max) durations[j] = ms;
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}

/** Two parts of one window (before and after a restart): counts add, percentiles take the worse. */
export function mergeSamples(a: HealthSample, b: HealthSample): HealthSample {
  const routes = new Map(a.routeErrors.map((r) => [r.route, { ...r }]));
  for (const r of b.routeErrors) {
    const prior = routes.get(r.route);
    if (prior) {
      prior.status4xx += r.status4xx;
      prior.status5xx += r.status5xx;
    } else routes.set(r.route, { ...r });
  }
  const worse = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : Math.max(x, y));
  const p50 = worse(a.p50Ms, b.p50Ms);
  const p95 = worse(a.p95Ms, b.p95Ms);
  return {
    windowStart: a.windowStart,
    exchanges: a.exchanges + b.exchanges,
    failedExchanges: a.failedExchanges + b.failedExchanges,
    slowExchanges: a.slowExchanges + b.slowExchanges,
    requests: a.requests + b.requests,
    p50Ms: p50 !== null && p95 !== null ? Math.min(p50, p95) : p50,
    p95Ms: p95,
    routeErrors: [...routes.values()].slice(0, MAX_ROUTES_PER_SAMPLE + 1),
    restarts: Math.min(1, a.restarts + b.restarts),
    outboxFailures: Math.max(a.outboxFailures, b.outboxFailures),
    inboxFailures: Math.max(a.inboxFailures, b.inboxFailures),
  };
}

/** Rows of `table` that went to `state` in [from, to); 0 where the node has no such table. */
async function countIn(db: Kysely<any>, table: string, state: string, practice: string, from: string, to: string): Promise<number> {
  try {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('practice', '=', practice)
      .where('state', '=', state)
      .where('updated_at', '>=', from)
      .where('updated_at', '<', to)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  } catch {
    return 0;
  }
}

/** One recorder per node store (a test process runs several nodes). */
const recorders = new WeakMap<RecordStore, HealthRecorder>();

export function healthRecorderFor(store: RecordStore, create?: () => HealthRecorder): HealthRecorder | undefined {
  let r = recorders.get(store);
  if (!r && create) {
    r = create();
    recorders.set(store, r);
  }
  return r;
}
