/**
 * The triage index: one row per online consultation request, derived from its QuestionnaireResponse
 * (written here, or arriving by sync from the hub or another node) plus the practice's triage state.
 * The record (QuestionnaireResponse, Task, Appointment, Encounter) is the truth; this table is what
 * makes the inbox fast at 20,000 open requests (red flags first, then oldest, by an index).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface OcRequestsTable {
  practice: string;
  /** QuestionnaireResponse id (derived from the device's submission id). */
  id: string;
  reference: string;
  kind: string;
  admin_type: string | null;
  received_at: string;
  /** JSON array of red-flag linkIds answered yes. */
  red_flags: string;
  /** 1 when any red flag or urgency 'urgent': sorts first. */
  priority_rank: number;
  status: string;
  urgency: string | null;
  category: string | null;
  assignee_id: string | null;
  assignee_name: string | null;
  assignee_role: string | null;
  patient_name: string;
  birth_date: string;
  summary: string;
  matched_patient_id: string | null;
  matched_patient_name: string | null;
  received_via: string;
  outcome: string | null;
  /** JSON array of TriageHistoryEntry. */
  history: string;
  appointment_id: string | null;
  encounter_id: string | null;
  task_id: string | null;
  updated_at: string;
}

export interface OcCursorTable {
  practice: string;
  /** change_log seq up to which QuestionnaireResponses have been indexed. */
  seq: number;
}

export interface OcDb {
  oc_requests: OcRequestsTable;
  oc_index_cursor: OcCursorTable;
}

export function ocdb(db: Kysely<any> | Transaction<any>): Kysely<OcDb> {
  return db as unknown as Kysely<OcDb>;
}

export const onlineConsultationMigrations: Migration[] = [
  {
    name: '1000-online-consultations',
    async up(db) {
      await db.schema
        .createTable('oc_requests')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('reference', 'varchar(16)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('admin_type', 'varchar(32)')
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('red_flags', 'text', (c) => c.notNull())
        .addColumn('priority_rank', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(24)', (c) => c.notNull())
        .addColumn('urgency', 'varchar(16)')
        .addColumn('category', 'varchar(32)')
        .addColumn('assignee_id', 'varchar(64)')
        .addColumn('assignee_name', 'varchar(200)')
        .addColumn('assignee_role', 'varchar(32)')
        .addColumn('patient_name', 'varchar(250)', (c) => c.notNull())
        .addColumn('birth_date', 'varchar(10)', (c) => c.notNull())
        .addColumn('summary', 'varchar(200)', (c) => c.notNull())
        .addColumn('matched_patient_id', 'varchar(64)')
        .addColumn('matched_patient_name', 'varchar(250)')
        .addColumn('received_via', 'varchar(8)', (c) => c.notNull())
        .addColumn('outcome', 'varchar(32)')
        .addColumn('history', 'text', (c) => c.notNull())
        .addColumn('appointment_id', 'varchar(64)')
        .addColumn('encounter_id', 'varchar(64)')
        .addColumn('task_id', 'varchar(64)')
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('oc_requests_pk', ['practice', 'id'])
        .execute();
      // The inbox order: open first, red flags/urgent first, then oldest.
      await db.schema.createIndex('oc_requests_queue').on('oc_requests').columns(['practice', 'status', 'priority_rank', 'received_at', 'id']).execute();
      await db.schema
        .createTable('oc_index_cursor')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull().primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];
