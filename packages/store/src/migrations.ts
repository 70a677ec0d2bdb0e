/**
 * Schema migrations: the store's core tables first, then each capability's, run in name order and
 * recorded in `schema_migrations` so each runs once. Plain SQL per dialect where the two differ.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect, Migration } from './schema.ts';

const coreMigration: Migration = {
  name: '0000-core-change-log',
  async up(db, dialect) {
    const statements =
      dialect === 'sqlite'
        ? [
            `CREATE TABLE change_log (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
               practice TEXT NOT NULL, entry_id TEXT NOT NULL, origin_node TEXT NOT NULL, hlc TEXT NOT NULL,
               resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, version_id TEXT NOT NULL,
               base_version_id TEXT, op TEXT NOT NULL CHECK (op IN ('put','delete')), body TEXT,
               author TEXT NOT NULL, recorded_at TEXT NOT NULL)`,
            `CREATE TABLE resources (
               rkey INTEGER PRIMARY KEY,
               practice TEXT NOT NULL, resource_type TEXT NOT NULL, id TEXT NOT NULL, version_id TEXT NOT NULL,
               seq INTEGER NOT NULL, hlc TEXT NOT NULL, last_updated TEXT NOT NULL, deleted INTEGER NOT NULL)`,
            `CREATE UNIQUE INDEX resources_id ON resources (practice, resource_type, id)`,
            `CREATE TABLE search_index (
               practice TEXT NOT NULL, resource_type TEXT NOT NULL, rkey INTEGER NOT NULL, param TEXT NOT NULL,
               system TEXT NOT NULL, value TEXT NOT NULL, value_end TEXT NOT NULL)`,
          ]
        : [
            `CREATE TABLE change_log (
               seq BIGSERIAL NOT NULL,
               practice TEXT NOT NULL, entry_id TEXT NOT NULL, origin_node TEXT NOT NULL, hlc TEXT COLLATE "C" NOT NULL,
               resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, version_id TEXT NOT NULL,
               base_version_id TEXT, op TEXT NOT NULL CHECK (op IN ('put','delete')), body TEXT,
               author TEXT NOT NULL, recorded_at TEXT NOT NULL,
               PRIMARY KEY (practice, seq))`,
            `CREATE TABLE resources (
               rkey BIGSERIAL NOT NULL,
               practice TEXT NOT NULL, resource_type TEXT NOT NULL, id TEXT NOT NULL, version_id TEXT NOT NULL,
               seq BIGINT NOT NULL, hlc TEXT COLLATE "C" NOT NULL, last_updated TEXT COLLATE "C" NOT NULL, deleted SMALLINT NOT NULL,
               PRIMARY KEY (practice, resource_type, id), UNIQUE (practice, rkey))`,
            `CREATE TABLE search_index (
               practice TEXT NOT NULL, resource_type TEXT NOT NULL, rkey BIGINT NOT NULL, param TEXT NOT NULL,
               system TEXT NOT NULL, value TEXT COLLATE "C" NOT NULL, value_end TEXT COLLATE "C" NOT NULL)`,
          ];
    statements.push(
      `CREATE UNIQUE INDEX change_log_entry ON change_log (practice, entry_id)`,
      `CREATE INDEX change_log_resource ON change_log (practice, resource_type, resource_id, hlc)`,
      `CREATE INDEX resources_updated ON resources (practice, resource_type, last_updated)`,
      `CREATE INDEX search_index_lookup ON search_index (practice, resource_type, param, value, rkey)`,
      `CREATE INDEX search_index_resource ON search_index (rkey, param)`,
    );
    for (const s of statements) await sql.raw(s).execute(db);
  },
};

/**
 * SQLite plans from statistics; on a new, empty database it has none and would guess that a range of
 * index values is more selective than one resource's own rows, scanning a whole parameter per search
 * candidate. Fixed, representative statistics (a documented SQLite technique for stable plans) make it
 * seek by resource id; `PRAGMA optimize` later replaces them with measured ones.
 */
const plannerStatistics: Migration = {
  name: '0001-core-planner-statistics',
  async up(db, dialect) {
    if (dialect !== 'sqlite') return;
    await sql`ANALYZE`.execute(db);
    await sql`DELETE FROM sqlite_stat1 WHERE tbl IN ('search_index', 'resources', 'change_log')`.execute(db);
    await sql`INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
      ('search_index', 'search_index_lookup', '10000000 10000000 1000000 500000 20 2'),
      ('search_index', 'search_index_resource', '10000000 8 2'),
      ('resources', 'resources_id', '1000000 1000000 100000 1'),
      ('resources', 'resources_updated', '1000000 1000000 100000 2'),
      ('change_log', 'change_log_entry', '10000000 10000000 1'),
      ('change_log', 'change_log_resource', '10000000 10000000 1000000 3 1')`.execute(db);
    await sql`ANALYZE sqlite_schema`.execute(db);
  },
};

export const coreMigrations: Migration[] = [coreMigration, plannerStatistics];

export async function runMigrations(db: Kysely<any>, dialect: Dialect, migrations: Migration[]): Promise<void> {
  await sql
    .raw(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
    .execute(db);
  const names = new Set<string>();
  for (const m of migrations) {
    if (names.has(m.name)) throw new Error(`Two migrations are named "${m.name}"; give each a unique name`);
    names.add(m.name);
  }
  const sorted = [...migrations].sort((a, b) => a.name.localeCompare(b.name));
  const done = new Set(
    (await db.selectFrom('schema_migrations').select('name').execute()).map((r: { name: string }) => r.name),
  );
  for (const m of sorted) {
    if (done.has(m.name)) continue;
    await db.transaction().execute(async (trx) => {
      // PostgreSQL: two processes opening one database at once must not both migrate.
      if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(7431001)`.execute(trx);
      const again = await trx.selectFrom('schema_migrations').select('name').where('name', '=', m.name).executeTakeFirst();
      if (again) return;
      await m.up(trx, dialect);
      await trx.insertInto('schema_migrations').values({ name: m.name, applied_at: new Date().toISOString() }).execute();
    });
  }
}
