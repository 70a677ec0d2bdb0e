/**
 * Sync's own tables. Every table is keyed by practice first, so that a hub holding a region can be
 * distributed by practice (Citus) like the core tables.
 *
 * - sync_cursors (sender side): how far this node has pushed to, and pulled from, each peer. Advanced
 *   only after the peer acknowledged (push) or after the pulled batch committed (pull).
 * - sync_peers (receiver side, hub or primary node): the nodes allowed to sync, their keys, and how far
 *   each has pushed (the from-cursor its next batch must start at) and pulled.
 * - sync_rejects: raw batches that were rejected, kept for investigation (ground rule: raw inbound
 *   messages are kept even when rejected).
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface SyncCursorsTable {
  practice: string;
  /** The peer's name, e.g. `hub` or the primary node's URL. */
  peer: string;
  /** Local change_log seq acknowledged by the peer. */
  push_cursor: number;
  /** Peer's log position applied here. */
  pull_cursor: number;
  last_exchange_at: string | null;
  /** Entry id at the peer's pull_cursor position, so a peer whose log went back (restored) is noticed. */
  pull_anchor: string | null;
}

export interface SyncPeersTable {
  practice: string;
  node_id: string;
  /** HMAC key (hex) the node signs its requests with. */
  node_key: string;
  push_cursor: number;
  pull_cursor: number;
  last_push_at: string | null;
  last_pull_at: string | null;
  /** Entries the node said (at its last pull) it still had to push: its side of the backlog. */
  reported_backlog: number;
  registered_at: string;
}

export interface SyncRejectsTable {
  practice: string;
  node_id: string;
  received_at: string;
  status: number;
  reason: string;
  /** The raw body as received, base64 (capped). */
  body_base64: string;
}

export interface SyncTables {
  sync_cursors: SyncCursorsTable;
  sync_peers: SyncPeersTable;
  sync_rejects: SyncRejectsTable;
}

export const syncMigrations: Migration[] = [
  {
    name: '0400-sync-cursors',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sync_cursors')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('peer', 'text', (c) => c.notNull())
        .addColumn('push_cursor', 'bigint', (c) => c.notNull())
        .addColumn('pull_cursor', 'bigint', (c) => c.notNull())
        .addColumn('last_exchange_at', 'text')
        .addPrimaryKeyConstraint('sync_cursors_pk', ['practice', 'peer'])
        .execute();
    },
  },
  {
    name: '0401-sync-peers',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sync_peers')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('node_key', 'text', (c) => c.notNull())
        .addColumn('push_cursor', 'bigint', (c) => c.notNull())
        .addColumn('pull_cursor', 'bigint', (c) => c.notNull())
        .addColumn('last_push_at', 'text')
        .addColumn('last_pull_at', 'text')
        .addColumn('reported_backlog', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('registered_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sync_peers_pk', ['practice', 'node_id'])
        .execute();
      // Node ids are unique across practices: the hub finds a node's practice from its id.
      await sql`CREATE UNIQUE INDEX IF NOT EXISTS sync_peers_node ON sync_peers (node_id, practice)`.execute(db);
    },
  },
  {
    name: '0402-sync-rejects',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sync_rejects')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('body_base64', 'text', (c) => c.notNull())
        .execute();
      await sql`CREATE INDEX IF NOT EXISTS sync_rejects_time ON sync_rejects (practice, received_at)`.execute(db);
    },
  },
  {
    name: '0403-sync-pull-anchor',
    async up(db: Kysely<any>) {
      await db.schema.alterTable('sync_cursors').addColumn('pull_anchor', 'text').execute();
    },
  },
];

/** The store's query layer with sync's tables, for code in this folder. */
export function syncDb(db: Kysely<any>): Kysely<SyncTables> {
  return db as unknown as Kysely<SyncTables>;
}
