/**
 * Pathology's own tables. Every row is keyed by practice first, like the core tables, and is written
 * inside the same store transaction as the FHIR resources it concerns, so a raw message, its
 * de-duplication keys and the filed report commit or roll back together.
 */
import type { Generated, Kysely, Transaction } from 'kysely';

/** Same shape as the store's `Migration` (structural, so this file needs nothing else from the store). */
export interface PathologyMigration {
  name: string;
  up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void>;
}

/**
 * `received`: stored raw and found new, waiting for the filer (the MLLP listener acknowledges here);
 * `accepted`: being filed (never committed); the others are final until a person re-processes.
 */
export type InboxState = 'received' | 'accepted' | 'duplicate' | 'quarantined' | 'unmatched' | 'filed';
export type InboxSource = 'mllp' | 'folder' | 'api';

export interface PathologyInboxTable {
  id: string;
  practice: string;
  received_at: string;
  source: InboxSource;
  /** Sending laboratory (MSH-4, or the Bundle's performer); '' when unknown. */
  lab: string;
  /** MSH-10 or Bundle.id; informational only: de-duplication never relies on it. */
  message_id: string;
  /** 'hl7v2' or 'fhir'. */
  format: string;
  raw: string;
  sha256: string;
  state: InboxState;
  reason: string;
  patient_id: string | null;
  reports_filed: number;
  reports_duplicate: number;
  updated_at: string;
  /** Order of arrival among messages received in the same millisecond (the filer files in this order). */
  arrival: Generated<number>;
}

/** One row per laboratory report (not per message or per version): the DiagnosticReport it became. */
export interface PathologyReportTable {
  practice: string;
  /** sha256 of lab + order number + test code: stable across statuses and resends. */
  report_key: string;
  report_id: string;
  status: string;
  /** Fingerprint of the version currently filed. */
  fingerprint: string;
  inbox_id: string;
  updated_at: string;
}

/** Every report version ever seen, so the same content arriving again is recognised. */
export interface PathologyFingerprintTable {
  practice: string;
  fingerprint: string;
  report_key: string;
  inbox_id: string;
  first_seen: string;
}

/** Suppressed duplicates per laboratory per day, shown to the practice administrator. */
export interface PathologyDuplicateCountTable {
  practice: string;
  lab: string;
  day: string;
  count: number;
}

/** Practice edits to the bundled test catalogue (an entry here replaces or retires the bundled one). */
export interface PathologyCatalogueTable {
  practice: string;
  code: string;
  entry: string;
  retired: number;
  updated_at: string;
  updated_by: string;
}

export interface PathologyOrderSequenceTable {
  practice: string;
  day: string;
  seq: number;
}


/** Reprints and inbox actions, kept here when the server's audit sink is not available. */
export interface PathologyAuditTable {
  id: string;
  practice: string;
  at: string;
  user_id: string;
  action: string;
  entity: string;
  detail: string;
}

/**
 * A report version delivered for one patient identity (fingerprint + NHS number, family name, birth
 * date), recorded once it is filed or found held. A resend carrying the same key is a duplicate the
 * moment it is received, without being filed again.
 */
export interface PathologyDeliveryTable {
  practice: string;
  delivery_key: string;
  report_key: string;
  inbox_id: string;
}

export interface PathologyDb {
  pathology_inbox: PathologyInboxTable;
  pathology_reports: PathologyReportTable;
  pathology_fingerprints: PathologyFingerprintTable;
  pathology_duplicate_counts: PathologyDuplicateCountTable;
  pathology_catalogue: PathologyCatalogueTable;
  pathology_order_sequence: PathologyOrderSequenceTable;
  pathology_audit: PathologyAuditTable;
  pathology_deliveries: PathologyDeliveryTable;
}

/** The store types its own tables only; pathology's are reached through this view of the same connection. */
export function pdb(db: Kysely<any>): Kysely<PathologyDb> {
  return db as unknown as Kysely<PathologyDb>;
}
export function ptx(tx: { readonly db: unknown }): Transaction<PathologyDb> {
  return tx.db as unknown as Transaction<PathologyDb>;
}

export const pathologyMigrations: PathologyMigration[] = [
  {
    name: '0300-pathology-inbox',
    async up(db) {
      await db.schema
        .createTable('pathology_inbox')
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('source', 'varchar(16)', (c) => c.notNull())
        .addColumn('lab', 'varchar(256)', (c) => c.notNull())
        .addColumn('message_id', 'varchar(256)', (c) => c.notNull())
        .addColumn('format', 'varchar(16)', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('patient_id', 'varchar(64)')
        .addColumn('reports_filed', 'integer', (c) => c.notNull())
        .addColumn('reports_duplicate', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_inbox_pk', ['practice', 'id'])
        .execute();
      await db.schema.createIndex('pathology_inbox_state').on('pathology_inbox').columns(['practice', 'state', 'received_at']).execute();
      await db.schema
        .createTable('pathology_reports')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('report_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('report_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('inbox_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_reports_pk', ['practice', 'report_key'])
        .execute();
      await db.schema
        .createTable('pathology_fingerprints')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('report_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('inbox_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('first_seen', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_fingerprints_pk', ['practice', 'fingerprint'])
        .execute();
      await db.schema
        .createTable('pathology_duplicate_counts')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('lab', 'varchar(256)', (c) => c.notNull())
        .addColumn('day', 'varchar(10)', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_duplicate_counts_pk', ['practice', 'lab', 'day'])
        .execute();
    },
  },
  {
    name: '0301-pathology-catalogue',
    async up(db) {
      await db.schema
        .createTable('pathology_catalogue')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('code', 'varchar(64)', (c) => c.notNull())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('retired', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(128)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_catalogue_pk', ['practice', 'code'])
        .execute();
    },
  },
  {
    name: '0302-pathology-orders',
    async up(db) {
      await db.schema
        .createTable('pathology_order_sequence')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('day', 'varchar(8)', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_order_sequence_pk', ['practice', 'day'])
        .execute();
      await db.schema
        .createTable('pathology_outbox')
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('destination', 'varchar(256)', (c) => c.notNull())
        .addColumn('order_number', 'varchar(64)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('last_error', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'varchar(32)')
        .addPrimaryKeyConstraint('pathology_outbox_pk', ['practice', 'id'])
        .addUniqueConstraint('pathology_outbox_order', ['practice', 'destination', 'order_number'])
        .execute();
      await db.schema
        .createTable('pathology_audit')
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(128)', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('entity', 'varchar(256)', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_audit_pk', ['practice', 'id'])
        .execute();
    },
  },
  {
    name: '0303-pathology-deliveries',
    async up(db) {
      await db.schema
        .createTable('pathology_deliveries')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('delivery_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('report_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('inbox_id', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('pathology_deliveries_pk', ['practice', 'delivery_key'])
        .execute();
    },
  },
  {
    name: '0304-pathology-inbox-arrival',
    async up(db) {
      await db.schema.alterTable('pathology_inbox').addColumn('arrival', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  {
    // Orders now leave through the node's one outbox (outbox_messages, 0700): carry over any still
    // waiting (or failed, for a person to see) so that none is lost, then drop the old table.
    name: '0701-pathology-orders-onto-outbox',
    async up(db) {
      const rows = await (db as Kysely<any>).selectFrom('pathology_outbox').selectAll().where('state', '!=', 'sent').execute();
      const at = new Date().toISOString();
      for (const r of rows) {
        const destination = String(r.destination);
        await (db as Kysely<any>)
          .insertInto('outbox_messages')
          .values({
            practice: r.practice,
            id: r.id,
            channel: 'hl7-order',
            message_key: `lab-order:${destination}:${r.order_number}`,
            source: 'pathology',
            payload: JSON.stringify({ destination, laboratory: 'laboratory', orderNumber: r.order_number, message: r.payload }),
            about: null,
            // A send interrupted by the upgrade is sent again: the laboratory de-duplicates by order number.
            state: r.state === 'sending' ? 'pending' : r.state,
            attempts: r.attempts,
            created_at: r.created_at,
            not_before: r.created_at,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            provider_ref: null,
            sent_at: r.sent_at,
            updated_at: at,
          })
          .execute();
      }
      await db.schema.dropTable('pathology_outbox').execute();
    },
  },
];
