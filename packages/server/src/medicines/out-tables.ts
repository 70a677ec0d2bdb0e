/**
 * Tables of prescriptions out (EPS and print) and patients' repeat requests. Each row is keyed by
 * practice first, like the core tables. The record (the MedicationRequest issue) is the truth about what
 * was prescribed; these rows say which way it left the node, exactly once.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface PrescriptionsOutTable {
  practice: string;
  /** MedicationRequest id of the issue (intent 'order'). */
  issue_id: string;
  prescription_id: string;
  patient_id: string;
  /** 'eps': queued for EPS (outbox_id); 'printed': printed on paper instead, never sent to EPS. */
  route: 'eps' | 'printed';
  outbox_id: string | null;
  printed_at: string | null;
  printed_by: string | null;
  /** What EPS may hold from $process-message attempts (EpsProcessState in eps.ts); null: never attempted. */
  eps_process: string | null;
  /** How many times the form was produced (the first is the original, later ones are marked copies). */
  print_count: number;
  created_at: string;
  updated_at: string;
}

export interface PrescriptionsOutCursorTable {
  practice: string;
  /** change_log seq up to which issues have been queued. */
  seq: number;
}

export interface RepeatRequestsTable {
  practice: string;
  /** The online consultation's QuestionnaireResponse id. */
  id: string;
  state: 'waiting' | 'issued' | 'rejected';
  /** JSON: the template ids issued, or the reason for a rejection. */
  outcome: string | null;
  decided_by: string | null;
  decided_at: string | null;
  /** JSON array of issue MedicationRequest ids made from this request. */
  issue_ids: string;
  idempotency_key: string | null;
  updated_at: string;
}

export interface OutDb {
  prescriptions_out: PrescriptionsOutTable;
  prescriptions_out_cursor: PrescriptionsOutCursorTable;
  repeat_requests: RepeatRequestsTable;
}

export function outdb(db: Kysely<any> | Transaction<any>): Kysely<OutDb> {
  return db as unknown as Kysely<OutDb>;
}

export const prescriptionsOutMigrations: Migration[] = [
  {
    name: '1650-prescriptions-out',
    async up(db) {
      await db.schema
        .createTable('prescriptions_out')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('issue_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('prescription_id', 'varchar(24)', (c) => c.notNull())
        .addColumn('patient_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('route', 'varchar(16)', (c) => c.notNull())
        .addColumn('outbox_id', 'varchar(64)')
        .addColumn('printed_at', 'varchar(32)')
        .addColumn('printed_by', 'varchar(64)')
        .addColumn('print_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('prescriptions_out_pk', ['practice', 'issue_id'])
        .addUniqueConstraint('prescriptions_out_prescription', ['practice', 'prescription_id'])
        .execute();
      await db.schema
        .createTable('prescriptions_out_cursor')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull().primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '1651-repeat-requests',
    async up(db) {
      await db.schema
        .createTable('repeat_requests')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('decided_by', 'varchar(64)')
        .addColumn('decided_at', 'varchar(32)')
        .addColumn('issue_ids', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('idempotency_key', 'varchar(64)')
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('repeat_requests_pk', ['practice', 'id'])
        .execute();
    },
  },
  {
    // Written before every $process-message attempt: a print is refused once EPS may hold the prescription.
    name: '1652-prescriptions-out-eps-process',
    async up(db) {
      await db.schema.alterTable('prescriptions_out').addColumn('eps_process', 'varchar(16)').execute();
    },
  },
];
