/**
 * The health time series' tables (issue 13 item 4), kept apart from tables.ts.
 *
 * On a node:
 * - region_health_samples: one row per five-minute window (the sample as JSON), and whether the hub
 *   has accepted it. Sent rows are deleted after HEALTH_NODE_KEEP_DAYS.
 *
 * At the hub:
 * - region_health: every accepted sample, one row per (practice, node, window), numeric columns so
 *   the roll-up and the charts sum in SQL. Kept HEALTH_RETENTION_DAYS (13 months), then deleted.
 * - region_health_daily: per practice and day, the sum of its samples, updated in the same
 *   transaction as each accepted sample: the region page and year-long charts read this, never the
 *   five-minute rows (a year of them for 1,500 practices is 158 million).
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export const HEALTH_NODE_KEEP_DAYS = 14;

export interface RegionHealthSamplesTable {
  practice: string;
  node_id: string;
  window_start: string;
  /** The HealthSample as JSON. */
  sample: string;
  sent: number;
}

/** The counts a sample and a day have in common (the daily roll-up is their sum). */
export interface HealthCountColumns {
  exchanges: number;
  failed_exchanges: number;
  slow_exchanges: number;
  requests: number;
  errors_4xx: number;
  errors_5xx: number;
  restarts: number;
  outbox_failures: number;
  inbox_failures: number;
}

export interface RegionHealthTable extends HealthCountColumns {
  practice: string;
  node_id: string;
  window_start: string;
  received_at: string;
  p50_ms: number | null;
  p95_ms: number | null;
  /** [{route, status4xx, status5xx}] as JSON. */
  route_errors: string;
}

export interface RegionHealthDailyTable extends HealthCountColumns {
  practice: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  samples: number;
  worst_p95_ms: number | null;
}

export interface HealthTables {
  region_health_samples: RegionHealthSamplesTable;
  region_health: RegionHealthTable;
  region_health_daily: RegionHealthDailyTable;
}

export function healthDb(db: Kysely<any>): Kysely<HealthTables> {
  return db as unknown as Kysely<HealthTables>;
}

export const HEALTH_COUNT_COLUMNS = ['exchanges', 'failed_exchanges', 'slow_exchanges', 'requests', 'errors_4xx', 'errors_5xx', 'restarts', 'outbox_failures', 'inbox_failures'] as const;

function countColumns<T extends { addColumn: (...a: any[]) => T }>(builder: T): T {
  let b = builder;
  for (const c of HEALTH_COUNT_COLUMNS) b = b.addColumn(c, 'integer', (col: any) => col.notNull());
  return b;
}

export const healthNodeMigrations: Migration[] = [
  {
    name: '1310-region-health-samples',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('region_health_samples')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('window_start', 'text', (c) => c.notNull())
        .addColumn('sample', 'text', (c) => c.notNull())
        .addColumn('sent', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('region_health_samples_pk', ['practice', 'node_id', 'window_start'])
        .execute();
    },
  },
];

export const healthHubMigrations: Migration[] = [
  {
    name: '1311-region-health',
    async up(db: Kysely<any>) {
      await countColumns(
        db.schema
          .createTable('region_health')
          .ifNotExists()
          .addColumn('practice', 'text', (c) => c.notNull())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('window_start', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull()),
      )
        .addColumn('p50_ms', 'real')
        .addColumn('p95_ms', 'real')
        .addColumn('route_errors', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('region_health_pk', ['practice', 'node_id', 'window_start'])
        .execute();
      // The retention job deletes by window across every practice.
      await sql`CREATE INDEX IF NOT EXISTS region_health_window ON region_health (window_start)`.execute(db);
    },
  },
  {
    name: '1312-region-health-daily',
    async up(db: Kysely<any>) {
      await countColumns(
        db.schema
          .createTable('region_health_daily')
          .ifNotExists()
          .addColumn('practice', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('samples', 'integer', (c) => c.notNull()),
      )
        .addColumn('worst_p95_ms', 'real')
        .addPrimaryKeyConstraint('region_health_daily_pk', ['practice', 'day'])
        .execute();
      await sql`CREATE INDEX IF NOT EXISTS region_health_daily_day ON region_health_daily (day)`.execute(db);
    },
  },
];
