/**
 * The region's tables, keyed by practice first like every hub table.
 *
 * On a node:
 * - region_sender: the last heartbeat number this node used, so numbers keep rising across restarts
 *   (the hub refuses a number it has seen: a replay).
 *
 * At the hub:
 * - region_heartbeats: every accepted heartbeat, the history (status and backlog over time).
 * - region_nodes: each node's latest accepted heartbeat, for the region page and the replay check.
 * - region_practices: each practice's name and Primary Care Network (set by the hub administrator).
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface RegionSenderTable {
  practice: string;
  node_id: string;
  last_seq: number;
  last_sent_at: string | null;
}

export interface RegionHeartbeatsTable {
  practice: string;
  node_id: string;
  seq: number;
  sent_at: string;
  received_at: string;
  reason: string;
  version: string;
  started_at: string;
  hub_reachable: boolean | number;
  standby_configured: boolean | number;
  standby_up: boolean | number;
  disk_free_bytes: number | null;
  disk_total_bytes: number | null;
  /** The backlog figures as checked (JSON array of {kind, count, oldest?}). */
  backlog: string;
}

export interface RegionNodesTable {
  practice: string;
  node_id: string;
  last_seq: number;
  last_received_at: string;
  /** The latest accepted heartbeat, as checked (JSON). */
  latest: string;
}

export interface RegionPracticesTable {
  practice: string;
  name: string;
  /** The Primary Care Network, for the region page's filter. */
  pcn: string | null;
}

export interface RegionTables {
  region_practices: RegionPracticesTable;
  region_sender: RegionSenderTable;
  region_heartbeats: RegionHeartbeatsTable;
  region_nodes: RegionNodesTable;
}

export function regionDb(db: Kysely<any>): Kysely<RegionTables> {
  return db as unknown as Kysely<RegionTables>;
}

/** The node's side (every practice node). */
export const regionNodeMigrations: Migration[] = [
  {
    name: '1300-region-sender',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('region_sender')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('last_sent_at', 'text')
        .addPrimaryKeyConstraint('region_sender_pk', ['practice', 'node_id'])
        .execute();
    },
  },
];

/** The hub's side. */
export const regionHubMigrations: Migration[] = [
  {
    name: '1301-region-heartbeats',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('region_heartbeats')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('hub_reachable', 'boolean', (c) => c.notNull())
        .addColumn('standby_configured', 'boolean', (c) => c.notNull())
        .addColumn('standby_up', 'boolean', (c) => c.notNull())
        .addColumn('disk_free_bytes', 'bigint')
        .addColumn('disk_total_bytes', 'bigint')
        .addColumn('backlog', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('region_heartbeats_pk', ['practice', 'node_id', 'seq'])
        .execute();
      await sql`CREATE INDEX IF NOT EXISTS region_heartbeats_time ON region_heartbeats (practice, received_at)`.execute(db);
    },
  },
  {
    name: '1302-region-nodes',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('region_nodes')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('last_received_at', 'text', (c) => c.notNull())
        .addColumn('latest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('region_nodes_pk', ['practice', 'node_id'])
        .execute();
    },
  },
  {
    name: '1303-region-practices',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('region_practices')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('pcn', 'text')
        .execute();
    },
  },
  {
    // The region page's last-hour comparison reads every practice's heartbeats of the hour.
    name: '1304-region-heartbeats-received',
    async up(db: Kysely<any>) {
      await sql`CREATE INDEX IF NOT EXISTS region_heartbeats_received ON region_heartbeats (received_at)`.execute(db);
    },
  },
];
