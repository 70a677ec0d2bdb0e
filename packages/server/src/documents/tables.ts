/**
 * The documents capability's own table: one row per document (an attachment, an uploaded or scanned
 * file, a FHIR attachment, or the text of an email that had no attachment), pointing at its bytes in
 * the blob store and at the inbox item (the whole email or file as received) it came from. The work
 * on it (matching, coding, routing, filing) is recorded here; filing writes FHIR to the record.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface DocumentsTable {
  practice: string;
  id: string;
  /** The inbox item (generic `inbox_items`, capability `documents`) it came from. */
  inbox_id: string;
  /** Blob of the whole item as received (the .eml, the uploaded file, the FHIR JSON). */
  source_blob: string;
  source: string;
  received_at: string;
  /** Blob of the document's own bytes; unique per practice: the same letter twice is one document. */
  blob: string;
  size: number;
  filename: string;
  /** Sniffed from the bytes (domain/documents), never the sender's claim. */
  kind: string;
  declared_type: string;
  subject: string;
  sender: string;
  /** unmatched | proposed | matched | with-clinician | filed */
  state: string;
  /** Why a person must look (unreadable, password-protected, too large, no attachment...), or null. */
  problem: string | null;
  /** Extracted text (for matching and search), capped. */
  text: string;
  /** JSON FoundIdentifiers. */
  identifiers: string;
  proposed_patient_id: string | null;
  proposed_display: string | null;
  /** JSON string[]: why nothing was proposed, or what the person should know. */
  match_notes: string;
  patient_id: string | null;
  /** How many times these bytes arrived (from different emails or files). */
  copies: number;
  updated_at: string;
  /** Set by a person (workflow.ts): DOCUMENT_TYPES key and the document's own date (YYYY-MM-DD). */
  doc_type: string | null;
  doc_date: string | null;
  /** JSON Suggestion[]: diagnoses and medication changes coded for a clinician to accept. */
  suggestions: string;
  assignee_id: string | null;
  assignee_name: string | null;
  /** read | action | urgent, when routed to a clinician. */
  action: string | null;
  route_note: string | null;
  document_reference_id: string | null;
  filed_at: string | null;
  /** JSON HistoryEntry[]: every step, who and when (the audit trail has them too). */
  history: string;
}

export interface WorkflowGrantsTable {
  practice: string;
  user_id: string;
  granted_by: string;
  granted_at: string;
}

/** How far the projector (replica.ts) has read the local change log. */
export interface ReplicaCursorTable {
  practice: string;
  seq: number;
}

/** Blobs a peer (the upstream: hub or primary) is known to hold, verified by hash at its end. */
export interface BlobPeersTable {
  practice: string;
  peer: string;
  sha256: string;
  at: string;
}

/** Bytes that did not match the hash they were sent under: refused, kept for a person, never used. */
export interface BlobRejectsTable {
  practice: string;
  id: string;
  claimed: string;
  /** The hash the bytes really have (they are kept under it). */
  actual: string;
  size: number;
  /** The node that sent them, or the peer they were fetched from. */
  peer: string;
  at: string;
  reason: string;
}

export interface DocumentsDb {
  documents: DocumentsTable;
  document_workflow_grants: WorkflowGrantsTable;
  document_replica_cursor: ReplicaCursorTable;
  document_blob_peers: BlobPeersTable;
  document_blob_rejects: BlobRejectsTable;
}

export function ddb(db: Kysely<any> | Transaction<any>): Kysely<DocumentsDb> {
  return db as unknown as Kysely<DocumentsDb>;
}

export const documentMigrations: Migration[] = [
  {
    name: '1100-documents',
    async up(db) {
      await db.schema
        .createTable('documents')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('inbox_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('source_blob', 'varchar(64)', (c) => c.notNull())
        .addColumn('source', 'varchar(32)', (c) => c.notNull())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('blob', 'varchar(64)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('declared_type', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('sender', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('problem', 'text')
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('identifiers', 'text', (c) => c.notNull())
        .addColumn('proposed_patient_id', 'varchar(64)')
        .addColumn('proposed_display', 'text')
        .addColumn('match_notes', 'text', (c) => c.notNull())
        .addColumn('patient_id', 'varchar(64)')
        .addColumn('copies', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('documents_pk', ['practice', 'id'])
        .execute();
      await db.schema.createIndex('documents_blob').unique().on('documents').columns(['practice', 'blob']).execute();
      await db.schema.createIndex('documents_source_blob').on('documents').columns(['practice', 'source_blob']).execute();
      await db.schema.createIndex('documents_state').on('documents').columns(['practice', 'state', 'received_at']).execute();
    },
  },
  {
    name: '1101-documents-workflow',
    async up(db) {
      for (const column of ['doc_type', 'doc_date', 'assignee_id', 'assignee_name', 'action', 'route_note', 'document_reference_id', 'filed_at']) {
        await db.schema.alterTable('documents').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('documents').addColumn('suggestions', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('documents').addColumn('history', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.createIndex('documents_assignee').on('documents').columns(['practice', 'assignee_id', 'state']).execute();
      await db.schema.createIndex('documents_patient').on('documents').columns(['practice', 'patient_id']).execute();
      // The list is oldest first over the unworked states: walked in this order, it stops at the page.
      await db.schema.createIndex('documents_received').on('documents').columns(['practice', 'received_at', 'id']).execute();
      // Covers the backlog's one grouped pass (backlog.ts), so it never reads the documents themselves.
      await db.schema.createIndex('documents_backlog').on('documents').columns(['practice', 'state', 'source', 'kind', 'doc_type', 'assignee_name', 'received_at', 'problem']).execute();
      await db.schema
        .createTable('document_workflow_grants')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('granted_by', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('document_workflow_grants_pk', ['practice', 'user_id'])
        .execute();
    },
  },
  {
    name: '1102-documents-replication',
    async up(db) {
      await db.schema.createTable('document_replica_cursor').addColumn('practice', 'varchar(16)', (c) => c.primaryKey()).addColumn('seq', 'bigint', (c) => c.notNull()).execute();
      await db.schema
        .createTable('document_blob_peers')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('peer', 'varchar(64)', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('document_blob_peers_pk', ['practice', 'peer', 'sha256'])
        .execute();
      await db.schema
        .createTable('document_blob_rejects')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('claimed', 'varchar(64)', (c) => c.notNull())
        .addColumn('actual', 'varchar(64)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('peer', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('document_blob_rejects_pk', ['practice', 'id'])
        .execute();
    },
  },
  {
    name: '1103-documents-daily',
    async up(db) {
      // Filings per day (the backlog chart) walk this index; arrivals walk documents_received.
      await db.schema.createIndex('documents_filed').on('documents').columns(['practice', 'filed_at']).execute();
    },
  },
];
