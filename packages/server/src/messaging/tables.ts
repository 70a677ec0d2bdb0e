/**
 * Messaging's own tables: the practice's templates, one delivery row per message sent (linking the
 * outbox message, the Communication in the record and Notify's notification id), the text messages
 * patients send back, and service disruption broadcasts.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Migration } from '@steadfast/store';

export interface MessagingTemplatesTable {
  practice: string;
  template_key: string;
  channel: string;
  label: string;
  body: string;
  subject: string | null;
  updated_at: string;
  updated_by: string;
}

export interface MessagingDeliveriesTable {
  practice: string;
  /** The outbox message id: also Notify's `reference`. */
  outbox_id: string;
  communication_id: string;
  patient_id: string;
  channel: string;
  category: string;
  /** Notify's notification id, once Notify has it. */
  notify_id: string | null;
  /** DeliveryStatus (packages/domain/src/api-messaging.ts). */
  status: string;
  error: string;
  created_at: string;
  updated_at: string;
  /**
   * The message's Communication (JSON) while it is not yet in the record: a broadcast queues its
   * outbox and delivery rows first and the recorder (record.ts) writes these afterwards, each with
   * the row's status at that moment, clearing this in the same transaction. Null once recorded.
   */
  pending_record: string | null;
}

export interface MessagingRepliesTable {
  practice: string;
  /** Notify's received text id. */
  id: string;
  from_number: string;
  content: string;
  received_at: string;
  patient_id: string | null;
  read_at: string | null;
  read_by: string | null;
}

export interface MessagingBroadcastsTable {
  practice: string;
  id: string;
  date_from: string;
  date_to: string;
  reason: string;
  state: string;
  patients: number;
  queued: number;
  skipped: number;
  created_at: string;
  created_by: string;
  error: string;
}

export interface MessagingDb {
  messaging_templates: MessagingTemplatesTable;
  messaging_deliveries: MessagingDeliveriesTable;
  messaging_replies: MessagingRepliesTable;
  messaging_broadcasts: MessagingBroadcastsTable;
}

export function mdb(db: Kysely<any> | Transaction<any>): Kysely<MessagingDb> {
  return db as unknown as Kysely<MessagingDb>;
}

export const messagingMigrations: Migration[] = [
  {
    name: '0800-messaging-tables',
    async up(db) {
      await db.schema
        .createTable('messaging_templates')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('template_key', 'varchar(64)', (c) => c.notNull())
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('label', 'varchar(200)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(128)', (c) => c.notNull())
        .addPrimaryKeyConstraint('messaging_templates_pk', ['practice', 'template_key'])
        .execute();
      await db.schema
        .createTable('messaging_deliveries')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('outbox_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('communication_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('patient_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('category', 'varchar(64)', (c) => c.notNull())
        .addColumn('notify_id', 'varchar(64)')
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('error', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('messaging_deliveries_pk', ['practice', 'outbox_id'])
        .execute();
      await db.schema.createIndex('messaging_deliveries_notify').on('messaging_deliveries').columns(['practice', 'notify_id']).execute();
      await db.schema.createIndex('messaging_deliveries_status').on('messaging_deliveries').columns(['practice', 'status']).execute();
      await db.schema.createIndex('messaging_deliveries_patient').on('messaging_deliveries').columns(['practice', 'patient_id']).execute();
      await db.schema
        .createTable('messaging_replies')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('from_number', 'varchar(32)', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('patient_id', 'varchar(64)')
        .addColumn('read_at', 'varchar(32)')
        .addColumn('read_by', 'varchar(128)')
        .addPrimaryKeyConstraint('messaging_replies_pk', ['practice', 'id'])
        .execute();
      await db.schema
        .createTable('messaging_broadcasts')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('date_from', 'varchar(32)', (c) => c.notNull())
        .addColumn('date_to', 'varchar(32)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('patients', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('queued', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('created_by', 'varchar(128)', (c) => c.notNull())
        .addColumn('error', 'text', (c) => c.notNull().defaultTo(''))
        .addPrimaryKeyConstraint('messaging_broadcasts_pk', ['practice', 'id'])
        .execute();
    },
  },
  {
    name: '0801-messaging-deliveries-pending-record',
    async up(db) {
      await db.schema.alterTable('messaging_deliveries').addColumn('pending_record', 'text').execute();
      await db.schema.createIndex('messaging_deliveries_unrecorded').on('messaging_deliveries').columns(['practice', 'created_at']).where(sql.ref('pending_record'), 'is not', null).execute();
    },
  },
];
