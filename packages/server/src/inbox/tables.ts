/**
 * The generic inbox's own tables: one row per item exactly as received, and the content keys of
 * items already processed (a new item whose every key is here is a duplicate). Rows are scoped by
 * practice and capability, so documents, online consultations and the rest share the tables.
 */
import type { Migration } from '@steadfast/store';

export interface InboxItemsTable {
  practice: string;
  capability: string;
  id: string;
  received_at: string;
  source: string;
  raw: string;
  sha256: string;
  state: string;
  reason: string;
  /** Order of arrival among items received in the same millisecond. */
  arrival: number;
  updated_at: string;
}

export interface InboxKeysTable {
  practice: string;
  capability: string;
  key: string;
  item_id: string;
}

export const inboxMigrations: Migration[] = [
  {
    name: '0600-inbox',
    async up(db) {
      await db.schema
        .createTable('inbox_items')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('capability', 'varchar(32)', (c) => c.notNull())
        .addColumn('id', 'varchar(64)', (c) => c.notNull())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('source', 'varchar(32)', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('arrival', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('inbox_items_pk', ['practice', 'capability', 'id'])
        .execute();
      await db.schema.createIndex('inbox_items_state').on('inbox_items').columns(['practice', 'capability', 'state', 'received_at', 'arrival']).execute();
      await db.schema
        .createTable('inbox_keys')
        .addColumn('practice', 'varchar(16)', (c) => c.notNull())
        .addColumn('capability', 'varchar(32)', (c) => c.notNull())
        .addColumn('key', 'varchar(128)', (c) => c.notNull())
        .addColumn('item_id', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('inbox_keys_pk', ['practice', 'capability', 'key'])
        .execute();
    },
  },
];
