/**
 * Staff accounts and their sessions. Sign-in locks a username after 5 failures in a row, for a minute
 * at first and doubling with each further failure up to 15 minutes; unknown usernames are counted the
 * same way (in memory) so that the answers never tell whether a username exists.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { roles, SteadfastError, type Role } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { AuthTables, UsersTable } from './tables.ts';
import { decoyHash, hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';

export const MAX_FAILED_LOGINS = 5;
/** The first lock lasts a minute; each further failure after it doubles the lock, up to LOCKOUT_MS. */
export const FIRST_LOCKOUT_MS = 60_000;
export const LOCKOUT_MS = 15 * 60_000;

/**
 * How long the account is locked after its `failures`-th failure in a row. Short at first, so that
 * someone guessing at a colleague's (or every) username from one workstation cannot keep a clinician
 * out for long; longer for a sustained attack. Per-client rate limits on sign-in bound the rest.
 */
export function lockoutFor(failures: number): number {
  return Math.min(FIRST_LOCKOUT_MS * 2 ** Math.max(0, failures - MAX_FAILED_LOGINS), LOCKOUT_MS);
}
/** A web session ends after 12 hours without use. */
export const SESSION_IDLE_MS = 12 * 60 * 60_000;
/** Long-lived machine tokens (`steadfast users token`) last a year. */
export const API_TOKEN_MS = 365 * 24 * 60 * 60_000;
/** last_seen is written at most this often, so that authenticated reads stay cheap. */
const TOUCH_EVERY_MS = 60_000;

export interface User {
  id: string;
  username: string;
  name: string;
  role: Role;
  disabled: boolean;
}

/** The signed-in user of one request. */
export interface SessionUser {
  id: string;
  username: string;
  name: string;
  role: Role;
  workstation: string;
}

export interface NewUser {
  username: string;
  password: string;
  role: string;
  name?: string;
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

function toUser(row: UsersTable): User {
  return { id: row.id, username: row.username, name: row.display_name, role: row.role, disabled: Boolean(Number(row.disabled)) };
}

const lockedError = (until: string) =>
  new SteadfastError('locked', `Sign-in for this username is locked until ${until} after ${MAX_FAILED_LOGINS} or more failed attempts`, {
    field: 'username',
    hint: 'Wait until then, or ask a practice administrator to unlock the account',
  });
const badCredentials = () =>
  new SteadfastError('unauthenticated', 'The username or password is not right', {
    hint: `After ${MAX_FAILED_LOGINS} failed attempts in a row sign-in is locked for a while`,
  });

export class Accounts {
  private readonly db: Kysely<AuthTables>;
  private readonly practice: string;
  /** Failures for usernames that do not exist, so they lock exactly as real ones do. */
  private readonly phantom = new Map<string, { failed: number; lockedUntil?: number }>();

  /** The roles accounts may hold: a practice's (default), or the hub's staff roles (region/hub-staff.ts). */
  private readonly roles: readonly string[];

  constructor(store: RecordStore, options: { roles?: readonly string[] } = {}) {
    this.db = store.db as unknown as Kysely<AuthTables>;
    this.practice = store.practice;
    this.roles = options.roles ?? roles;
  }

  /** `db`: the caller's transaction (admin/staff.ts writes the audit entry in it). */
  async addUser(input: NewUser, db: Kysely<any> = this.db): Promise<User> {
    const username = input.username.trim().toLowerCase();
    if (!USERNAME.test(username)) {
      throw new SteadfastError('invalid', `Username "${input.username}" is not allowed`, {
        field: 'username',
        hint: '2-64 characters: lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
      });
    }
    if (!this.roles.includes(input.role)) {
      throw new SteadfastError('invalid', `Role "${input.role}" is not a Steadfast role here`, { field: 'role', hint: `Use one of: ${this.roles.join(', ')}` });
    }
    if (input.password.length < MIN_PASSWORD_LENGTH) {
      throw new SteadfastError('invalid', `The password must have at least ${MIN_PASSWORD_LENGTH} characters`, { field: 'password' });
    }
    const d = db as Kysely<AuthTables>;
    const existing = await d.selectFrom('users').select('id').where('practice', '=', this.practice).where('username', '=', username).executeTakeFirst();
    if (existing) throw new SteadfastError('conflict', `User "${username}" already exists`, { field: 'username', hint: 'Choose another username' });
    const row: UsersTable = {
      practice: this.practice,
      id: randomUUID(),
      username,
      display_name: input.name?.trim() || username,
      // A practice role, or at the hub a hub role (checked above against this instance's roles).
      role: input.role as Role,
      password_hash: await hashPassword(input.password),
      failed_count: 0,
      locked_until: null,
      disabled: 0,
      created_at: new Date().toISOString(),
    };
    await d.insertInto('users').values(row).execute();
    return toUser(row);
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('practice', '=', this.practice).orderBy('username').execute();
    return rows.map(toUser);
  }

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('practice', '=', this.practice).where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async unlock(username: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ failed_count: 0, locked_until: null })
      .where('practice', '=', this.practice)
      .where('username', '=', username.trim().toLowerCase())
      .execute();
  }

  // ---- practice-admin changes (admin/staff.ts); `db` is the caller's transaction, so the change
  // commits with its audit entry or not at all.

  /** Disable or re-enable an account. Disabling ends every session of it at once. */
  async setDisabled(id: string, disabled: boolean, db: Kysely<any> = this.db): Promise<void> {
    const d = db as Kysely<AuthTables>;
    await d.updateTable('users').set({ disabled: disabled ? 1 : 0 }).where('practice', '=', this.practice).where('id', '=', id).execute();
    if (disabled) await d.deleteFrom('sessions').where('practice', '=', this.practice).where('user_id', '=', id).execute();
  }

  /** Check a new password against the rules before any transaction starts (hashing is slow). */
  async hashNewPassword(password: string): Promise<string> {
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new SteadfastError('invalid', `The password must have at least ${MIN_PASSWORD_LENGTH} characters`, { field: 'password', hint: 'Use three or four unrelated words' });
    }
    return hashPassword(password);
  }

  /** Set a new password (from hashNewPassword): clears any lock and ends every session of the account. */
  async setPasswordHash(id: string, passwordHash: string, db: Kysely<any> = this.db): Promise<void> {
    const d = db as Kysely<AuthTables>;
    await d.updateTable('users').set({ password_hash: passwordHash, failed_count: 0, locked_until: null }).where('practice', '=', this.practice).where('id', '=', id).execute();
    await d.deleteFrom('sessions').where('practice', '=', this.practice).where('user_id', '=', id).execute();
  }

  async unlockById(id: string, db: Kysely<any> = this.db): Promise<void> {
    await (db as Kysely<AuthTables>).updateTable('users').set({ failed_count: 0, locked_until: null }).where('practice', '=', this.practice).where('id', '=', id).execute();
  }

  /** Every account with its sign-in state, for the staff accounts screen (no hashes). */
  async accountStates(now = Date.now()): Promise<Array<User & { failedCount: number; lockedUntil?: string; lastSeen?: string; createdAt: string }>> {
    const rows = await this.db.selectFrom('users').selectAll().where('practice', '=', this.practice).orderBy('username').execute();
    const seen = await this.db
      .selectFrom('sessions')
      .select(['user_id', (eb) => eb.fn.max('last_seen').as('last_seen')])
      .where('practice', '=', this.practice)
      .groupBy('user_id')
      .execute();
    const lastSeen = new Map(seen.map((r) => [r.user_id, String(r.last_seen)]));
    return rows.map((row) => ({
      ...toUser(row),
      failedCount: Number(row.failed_count),
      ...(row.locked_until && Date.parse(row.locked_until) > now ? { lockedUntil: row.locked_until } : {}),
      ...(lastSeen.has(row.id) ? { lastSeen: lastSeen.get(row.id)! } : {}),
      createdAt: row.created_at,
    }));
  }

  private findRow(username: string): Promise<UsersTable | undefined> {
    return this.db.selectFrom('users').selectAll().where('practice', '=', this.practice).where('username', '=', username).executeTakeFirst();
  }

  /**
   * Check a username and password; throws 401 (wrong) or 423 (locked) without saying whether the user
   * exists. The attempt is counted as a failure *before* the password is checked, in one atomic
   * compare-and-set, so attempts sent in parallel cannot all be checked against the same count; a
   * right password then clears the count.
   */
  async verifyLogin(usernameInput: string, password: string, now = Date.now()): Promise<User> {
    const username = usernameInput.trim().toLowerCase();
    const row = await this.findRow(username);
    if (!row || Number(row.disabled)) {
      // Counted synchronously, before the first await, so parallel guesses are counted one by one too.
      const attempt = this.takePhantomAttempt(username, now);
      await verifyPassword(password, await decoyHash());
      throw attempt.lockedUntil ? lockedError(new Date(attempt.lockedUntil).toISOString()) : badCredentials();
    }
    const attempt = await this.takeAttempt(row, now);
    if (attempt.refused) {
      await verifyPassword(password, row.password_hash); // same cost either way
      throw lockedError(attempt.refused);
    }
    const ok = await verifyPassword(password, row.password_hash);
    if (ok) {
      await this.db.updateTable('users').set({ failed_count: 0, locked_until: null }).where('practice', '=', this.practice).where('id', '=', row.id).execute();
      return toUser(row);
    }
    throw attempt.lockedUntil ? lockedError(attempt.lockedUntil) : badCredentials();
  }

  /**
   * Count one attempt against a user, atomically: refused while locked; the attempt that reaches
   * MAX_FAILED_LOGINS locks the account for lockoutFor(count). Compare-and-set on the count read, so
   * two attempts can never both take the same count.
   */
  private async takeAttempt(first: UsersTable, now: number): Promise<{ refused?: string; lockedUntil?: string }> {
    let row: UsersTable | undefined = first;
    for (let tries = 0; tries < 50 && row; tries++) {
      if (row.locked_until && Date.parse(row.locked_until) > now) return { refused: row.locked_until };
      const count = Number(row.failed_count);
      const next = count + 1;
      const lockedUntil = next >= MAX_FAILED_LOGINS ? new Date(now + lockoutFor(next)).toISOString() : null;
      let update = this.db
        .updateTable('users')
        .set({ failed_count: next, locked_until: lockedUntil })
        .where('practice', '=', this.practice)
        .where('id', '=', row.id)
        .where('failed_count', '=', count);
      update = row.locked_until === null ? update.where('locked_until', 'is', null) : update.where('locked_until', '=', row.locked_until);
      const result = await update.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return lockedUntil ? { lockedUntil } : {};
      row = await this.findRow(row.username); // another attempt took that count first: read again
    }
    // Under a storm of attempts, refuse rather than check a password without counting it.
    return { refused: new Date(now + lockoutFor(MAX_FAILED_LOGINS)).toISOString() };
  }

  private takePhantomAttempt(username: string, now: number): { lockedUntil?: number } {
    const state = this.phantom.get(username) ?? { failed: 0 };
    if (state.lockedUntil && state.lockedUntil > now) return { lockedUntil: state.lockedUntil };
    state.failed += 1;
    delete state.lockedUntil;
    if (state.failed >= MAX_FAILED_LOGINS) state.lockedUntil = now + lockoutFor(state.failed);
    if (this.phantom.size > 10_000) this.phantom.clear(); // bound memory; costs only lockout memory of guesses
    this.phantom.set(username, state);
    return state.lockedUntil ? { lockedUntil: state.lockedUntil } : {};
  }

  /** Start a session; returns the token (shown once; only its hash is kept). */
  async createSession(
    userId: string,
    workstation: string,
    kind: 'session' | 'api' = 'session',
    now = Date.now(),
    db: Kysely<any> = this.db,
  ): Promise<{ token: string; expiresAt: string }> {
    const token = randomBytes(32).toString('base64url');
    const iso = new Date(now).toISOString();
    const expiresAt = new Date(now + (kind === 'api' ? API_TOKEN_MS : SESSION_IDLE_MS)).toISOString();
    await (db as Kysely<AuthTables>)
      .insertInto('sessions')
      .values({ practice: this.practice, token_hash: hashToken(token), user_id: userId, kind, workstation, created_at: iso, last_seen: iso, expires_at: expiresAt })
      .execute();
    return { token, expiresAt };
  }

  /** The user a token belongs to, or undefined when it is unknown, expired or the user is disabled. */
  async resolveToken(token: string, now = Date.now()): Promise<(User & { workstation: string }) | undefined> {
    const tokenHash = hashToken(token);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', (j) => j.onRef('users.practice', '=', 'sessions.practice').onRef('users.id', '=', 'sessions.user_id'))
      .select([
        'sessions.kind',
        'sessions.workstation',
        'sessions.last_seen',
        'sessions.expires_at',
        'users.id',
        'users.username',
        'users.display_name',
        'users.role',
        'users.disabled',
      ])
      .where('sessions.practice', '=', this.practice)
      .where('sessions.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row || Number(row.disabled) || Date.parse(row.expires_at) <= now) return undefined;
    if (now - Date.parse(row.last_seen) > TOUCH_EVERY_MS) {
      const update: { last_seen: string; expires_at?: string } = { last_seen: new Date(now).toISOString() };
      if (row.kind === 'session') update.expires_at = new Date(now + SESSION_IDLE_MS).toISOString();
      await this.db.updateTable('sessions').set(update).where('practice', '=', this.practice).where('token_hash', '=', tokenHash).execute();
    }
    return { id: row.id, username: row.username, name: row.display_name, role: row.role, disabled: false, workstation: row.workstation };
  }

  async endSession(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('practice', '=', this.practice).where('token_hash', '=', hashToken(token)).execute();
  }
}
