/** The audit trail: one row per access, chained by hash so that a changed or missing row shows. */
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface AuditTable {
  practice: string;
  /** Strictly increasing, without gaps, per practice. */
  seq: number;
  recorded: string;
  user_id: string;
  user_name: string;
  user_role: string;
  workstation: string;
  event: string;
  /** `Type/id` of the record concerned, or null. */
  resource: string | null;
  /** `Patient/id` of the patient concerned, or null. */
  patient: string | null;
  outcome: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditTables {
  audit_log: AuditTable;
}

export const auditMigrations: Migration[] = [
  {
    name: '0110-audit-log',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_log')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('recorded', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_role', 'text', (c) => c.notNull())
        .addColumn('workstation', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('resource', 'text')
        .addColumn('patient', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_log_pk', ['practice', 'seq'])
        .execute();
      await db.schema.createIndex('audit_log_patient').ifNotExists().on('audit_log').columns(['practice', 'patient', 'seq']).execute();
      await db.schema.createIndex('audit_log_user').ifNotExists().on('audit_log').columns(['practice', 'user_id', 'seq']).execute();
    },
  },
];
