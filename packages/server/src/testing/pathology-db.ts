/**
 * A real SQLite database (temp file) with only pathology's migrations applied, for tests of the
 * pathology tables that do not need FHIR records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { pathologyMigrations } from '../pathology/tables.ts';

export async function openPathologyTestDb(): Promise<{ db: Kysely<any>; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'steadfast-path-'));
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(join(dir, 'test.db')) }) });
  for (const m of pathologyMigrations) await m.up(db, 'sqlite');
  return {
    db,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
