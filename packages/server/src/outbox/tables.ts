/**
 * The outbox's one table. Every row is keyed by practice first, like the core tables, and is written
 * in the same store transaction as the change that caused it (contract.ts).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Migration } from '@steadfast/store';
import type { OutboxState } from './contract.ts';

export interface OutboxMessagesTable {
  practice: string;
  id: string;
  channel: string;
  /** What the message is; unique per practice and channel (queuing it again does nothing). */
  message_key: string;
  source: string;
  /** JSON. */
  payload: string;
  about: string | null;
  state: OutboxState;
  attempts: number;
  created_at: string;
  not_before: string;
  next_attempt_at: string;
  last_error: string;
  provider_ref: string | null;
  sent_at: string | null;
  updated_at: string;
}

export interface OutboxDb {
  outbox_messages: OutboxMessagesTable;
}

export function odb(db: Kysely<any> | Transaction<any>): Kysely<OutboxDb> {
  return db as unknown as Kysely<OutboxDb>;
}

export const outboxMigrations: Migration[] = [
  {
    name: '0700-outbox-messages',
    async up(db) {
      await db.schema
        .createTable('outbox_messages')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('channel', 'varchar(32)', (c) => c.notNull())
        .addColumn('message_key', 'varchar(255)', (c) => c.notNull())
        .addColumn('source', 'varchar(32)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('about', 'varchar(128)')
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('not_before', 'varchar(32)', (c) => c.notNull())
        .addColumn('next_attempt_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('last_error', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('provider_ref', 'varchar(128)')
        .addColumn('sent_at', 'varchar(32)')
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('outbox_messages_pk', ['practice', 'id'])
        .addUniqueConstraint('outbox_messages_key', ['practice', 'channel', 'message_key'])
        .execute();
      await db.schema.createIndex('outbox_messages_due').on('outbox_messages').columns(['practice', 'state', 'next_attempt_at']).execute();
    },
  },
];
