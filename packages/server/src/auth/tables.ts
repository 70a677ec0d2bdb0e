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

/** Two-factor sign-in (auth/twofactor.ts): one row per user who has started enrolment. */
export interface TwoFactorTable {
  practice: string;
  user_id: string;
  /** The TOTP secret, AES-256-GCM encrypted: `v1$ivB64$tagB64$dataB64`. Never returned after enrolment. */
  secret_enc: string;
  /** 0 while enrolment waits for its first code, 1 once confirmed. */
  enabled: number;
  /** The last TOTP time step accepted, so a code is never accepted twice. */
  last_step: number | null;
  /** Wrong codes in a row; at MAX_FAILED_LOGINS the account is locked like a wrong password. */
  failed_count: number;
  created_at: string;
  enabled_at: string | null;
}

export interface RecoveryCodesTable {
  practice: string;
  user_id: string;
  /** SHA-256 (hex) of user id and code; the code itself is shown once and never stored. */
  code_hash: string;
  used_at: string | null;
}

/** Practice-wide sign-in settings (e.g. two-factor required for everyone). */
export interface AuthSettingsTable {
  practice: string;
  name: string;
  value: string;
}

export interface AuthTables {
  users: UsersTable;
  sessions: SessionsTable;
  two_factor: TwoFactorTable;
  two_factor_recovery: RecoveryCodesTable;
  auth_settings: AuthSettingsTable;
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
  {
    name: '0110-auth-two-factor',
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('two_factor')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_step', 'bigint')
        .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('enabled_at', 'text')
        .addPrimaryKeyConstraint('two_factor_pk', ['practice', 'user_id'])
        .execute();
      await db.schema
        .createTable('two_factor_recovery')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addPrimaryKeyConstraint('two_factor_recovery_pk', ['practice', 'user_id', 'code_hash'])
        .execute();
      await db.schema
        .createTable('auth_settings')
        .ifNotExists()
        .addColumn('practice', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('auth_settings_pk', ['practice', 'name'])
        .execute();
    },
  },
];
