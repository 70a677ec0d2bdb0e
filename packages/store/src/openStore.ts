/**
 * Opening a store: SQLite in a data directory by default (the practice node's embedded database), or
 * PostgreSQL when a connection URL is given (the hub, or a large practice).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteFile } from './cipher.ts';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { KyselyStore } from './KyselyStore.ts';
import { coreMigrations, runMigrations } from './migrations.ts';
import { withStatementCache } from './statementCache.ts';
import type { Database, Migration } from './schema.ts';

export interface OpenStoreOptions {
  /** postgres://... to use PostgreSQL; omit for SQLite in dataDir. */
  url?: string;
  /** Directory for the SQLite database file (created if missing). */
  dataDir?: string;
  /** PostgreSQL schema to use (created if missing); lets tests and tenants share one database. */
  pgSchema?: string;
  nodeId: string;
  /** ODS code of the practice whose record this store holds. */
  practice: string;
  /** Capability tables, run after the core tables. */
  migrations?: Migration[];
  /** SQLite only: the database key (64 hex digits); the file is encrypted with it (see cipher.ts). */
  key?: string;
}

/** Where a SQLite store's file is and the key it was opened with (for backups); undefined for PostgreSQL. */
export interface SqliteFileInfo {
  file: string;
  key?: string;
}
const sqliteFiles = new WeakMap<object, SqliteFileInfo>();
export function sqliteFileOf(store: object): SqliteFileInfo | undefined {
  return sqliteFiles.get(store);
}

export const SQLITE_FILE = 'steadfast.db';

// PostgreSQL returns BIGINT (int8) as a string; our sequence numbers fit comfortably in a double.
pg.types.setTypeParser(20, (v: string) => Number(v));

export async function openStore(options: OpenStoreOptions): Promise<KyselyStore> {
  const url = options.url;
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`Database URL "${url}" is not a PostgreSQL URL; use postgres://user@host:port/database, or omit it for SQLite`);
  }
  let store: KyselyStore;
  if (url) {
    const schema = options.pgSchema;
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`PostgreSQL schema "${schema}" must be lower-case letters, digits and _`);
    if (schema) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        await admin.end();
      }
    }
    const pool = new pg.Pool({ connectionString: url, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = new KyselyStore(db, 'postgres', options.nodeId, options.practice, () => db.destroy());
  } else {
    if (!options.dataDir) throw new Error('openStore needs dataDir for SQLite (or url for PostgreSQL)');
    mkdirSync(options.dataDir, { recursive: true });
    const file = join(options.dataDir, SQLITE_FILE);
    const sqlite = openSqliteFile(file, options.key);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a committed (acknowledged) write survives power loss, not only a process crash.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('cache_size = -65536');
    // Checkpoint the WAL every ~80 MB rather than every 4 MB: copying pages back into the database is
    // most of the syscall cost of a write here (1.5x faster inserts measured on this machine), and
    // journal_size_limit trims the WAL file back after each checkpoint.
    sqlite.pragma('wal_autocheckpoint = 20000');
    sqlite.pragma('journal_size_limit = 67108864');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    store = new KyselyStore(db, 'sqlite', options.nodeId, options.practice, async () => {
      await db.destroy();
    });
    sqliteFiles.set(store, { file, ...(options.key ? { key: options.key } : {}) });
  }
  try {
    await runMigrations(store.db, store.dialect, [...coreMigrations, ...(options.migrations ?? [])]);
    await store.initClock();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
