/** Tables of staff accounts and sessions (capability tables beside the record store's own). */
import type { Kysely } from 'kysely';
import type { Migration } from '@steadfast/store';
import type { Role } from '@steadfast/domain';

export interface UsersTable {
  practice: string;
  id: string;
  username: string;
  display_name: string;
  role: Role;
  /** `scrypt$N$r$p$saltB64$hashB64` */
  password_hash: string;
  failed_count: number;
  /** ISO instant until which sign-in is refused, or null. */
  locked_until: string | null;
  disabled: number;
  created_at: string;
}

export interface SessionsTable {
  practice: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  kind: 'session' | 'api';
  workstation: string;
  created_at: string;
  last_seen: string;
  expires_at: string;
}

export interface AuthTables {
  users: UsersTable;
  sessions: SessionsTable;
}

export const authMigrations: Migration[] = [
  {
    name: '0100-auth-users',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'text')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('users_pk', ['practice', 'id'])
        .addUniqueConstraint('users_username_unique', ['practice', 'username'])
        .execute();
    },
  },
  {
    name: '0101-auth-sessions',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sessions')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('workstation', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sessions_pk', ['practice', 'token_hash'])
        .execute();
      await db.schema.createIndex('sessions_user').ifNotExists().on('sessions').columns(['practice', 'user_id']).execute();
    },
  },
];
