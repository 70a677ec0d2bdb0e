/** Break-glass grants (emergency access beyond a user's role, or to a sensitive record) and what was read under each. */
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface BreakGlassGrantsTable {
  practice: string;
  id: string;
  user_id: string;
  user_name: string;
  user_role: string;
  workstation: string;
  /** SHA-256 of the session token the grant belongs to: it ends with that session. */
  session_hash: string;
  /** `Patient/id` */
  patient: string;
  reason: string;
  scope: string;
  granted_at: string;
  expires_at: string;
  /** Set when the grant ended before expires_at (sign-out). */
  ended_at: string | null;
  end_reason: string | null;
  reviewed_at: string | null;
  reviewed_by: string | null;
  review_note: string | null;
}

export interface BreakGlassReadsTable {
  practice: string;
  grant_id: string;
  at: string;
  event: string;
  /** `Type/id`, or the search for a search */
  what: string;
}

export interface BreakGlassTables {
  break_glass_grants: BreakGlassGrantsTable;
  break_glass_reads: BreakGlassReadsTable;
}

export const breakGlassMigrations: Migration[] = [
  {
    name: '0510-break-glass',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('break_glass_grants')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_role', 'text', (c) => c.notNull())
        .addColumn('workstation', 'text', (c) => c.notNull())
        .addColumn('session_hash', 'text', (c) => c.notNull())
        .addColumn('patient', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('end_reason', 'text')
        .addColumn('reviewed_at', 'text')
        .addColumn('reviewed_by', 'text')
        .addColumn('review_note', 'text')
        .addPrimaryKeyConstraint('break_glass_grants_pk', ['practice', 'id'])
        .execute();
      await db.schema.createIndex('break_glass_grants_user').ifNotExists().on('break_glass_grants').columns(['practice', 'user_id', 'patient']).execute();
      await db.schema
        .createTable('break_glass_reads')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('what', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('break_glass_reads_grant').ifNotExists().on('break_glass_reads').columns(['practice', 'grant_id']).execute();
    },
  },
];
