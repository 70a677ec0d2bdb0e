/**
 * Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238, through otplib): it needs no
 * national service, so it keeps working in exactly the outages Steadfast is for.
 *
 * - Enrolment: a secret and its otpauth:// URI (issuer "Steadfast (<ODS>)") as a QR code; switched on
 *   only by a first right code, which also yields 10 single-use recovery codes (shown once, kept hashed).
 * - Sign-in: a right password for a user with 2FA gives a short-lived challenge instead of a session;
 *   the challenge and a code (±1 time step) or a recovery code give the session.
 * - A code is never accepted twice (the last accepted time step is kept); wrong codes count towards
 *   the same lockout as wrong passwords (MAX_FAILED_LOGINS in a row locks for LOCKOUT_MS).
 * - Practice administrators must enrol (until then their session can only enrol); a practice
 *   administrator can require it of everyone, and can reset another user's 2FA.
 * - The secret is stored AES-256-GCM encrypted with a key in the data directory (`two-factor.key`)
 *   and never returned after enrolment.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { generateSecret, generateURI, verifySync } from 'otplib';
import QRCode from 'qrcode';
import { SteadfastError, type Role } from '@steadfast/domain';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import type { User } from './accounts.ts';
import { hashToken, LOCKOUT_MS, MAX_FAILED_LOGINS } from './accounts.ts';
import type { AuthTables, TwoFactorTable } from './tables.ts';
import type { TwoFactorPolicy, TwoFactorStatus } from '@steadfast/domain/api';

export const TOTP_PERIOD_S = 30;
/** Codes one step either side of now are accepted (clock drift, typing time). */
export const TOTP_WINDOW_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;
/** The password step's challenge lasts this long. */
export const CHALLENGE_MS = 5 * 60_000;
export const KEY_FILE = 'two-factor.key';

export type { TwoFactorPolicy, TwoFactorStatus };

export interface TwoFactorChallenge {
  twoFactorRequired: true;
  challenge: string;
  expiresAt: string;
}

export interface Enrolment {
  /** Base32 secret, for typing into an app by hand. */
  secret: string;
  otpauthUri: string;
  /** The URI as a QR code: an SVG data URL. */
  qrDataUrl: string;
}


const POLICY_SETTING = 'two-factor-policy';
const KEY_SETTING = 'two-factor-key';

const wrongCode = () =>
  new SteadfastError('unauthenticated', 'The code is not right, has expired, or has been used already', {
    field: 'code',
    hint: `Enter the 6-digit code your authenticator app shows now, or a recovery code. After ${MAX_FAILED_LOGINS} wrong codes in a row sign-in is locked for 15 minutes`,
  });
const lockedError = (until: string) =>
  new SteadfastError('locked', `Sign-in for this username is locked until ${until} after ${MAX_FAILED_LOGINS} failed attempts`, {
    field: 'code',
    hint: 'Wait 15 minutes or ask a practice administrator to unlock the account',
  });
const badChallenge = () =>
  new SteadfastError('unauthenticated', 'The sign-in has expired or was not started', {
    field: 'challenge',
    hint: 'Sign in again with your username and password, then enter the code within 5 minutes',
  });

const normaliseRecovery = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const recoveryHash = (userId: string, code: string) => createHash('sha256').update(`${userId}:${normaliseRecovery(code)}`).digest('hex');

/** 16 characters of base32 (80 bits) shown as xxxx-xxxx-xxxx-xxxx. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out += alphabet[bytes[i]! & 31];
    if (i % 4 === 3 && i < 15) out += '-';
  }
  return out;
}

export class TwoFactor {
  private readonly db: Kysely<AuthTables>;
  private readonly practice: string;
  private readonly challenges = new Map<string, { userId: string; workstation: string; expires: number }>();
  private key: Buffer | undefined;
  private policyCache: { value: TwoFactorPolicy; at: number } | undefined;

  constructor(
    store: RecordStore,
    private readonly options: { dataDir?: string | undefined; requireForAdmins?: boolean | undefined } = {},
  ) {
    this.db = store.db as unknown as Kysely<AuthTables>;
    this.practice = store.practice;
  }

  // ---- policy -------------------------------------------------------------------------------

  async policy(): Promise<TwoFactorPolicy> {
    if (this.policyCache && Date.now() - this.policyCache.at < 5_000) return this.policyCache.value;
    const row = await this.db.selectFrom('auth_settings').select('value').where('practice', '=', this.practice).where('name', '=', POLICY_SETTING).executeTakeFirst();
    const value: TwoFactorPolicy = row?.value === 'all' ? 'all' : 'admins';
    this.policyCache = { value, at: Date.now() };
    return value;
  }

  async setPolicy(value: TwoFactorPolicy): Promise<void> {
    await this.setSetting(POLICY_SETTING, value);
    this.policyCache = { value, at: Date.now() };
  }

  async isRequired(role: Role): Promise<boolean> {
    if (role === 'practice-admin' && this.options.requireForAdmins !== false) return true;
    return (await this.policy()) === 'all';
  }

  private async setSetting(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('auth_settings')
      .values({ practice: this.practice, name, value })
      .onConflict((oc) => oc.columns(['practice', 'name']).doUpdateSet({ value }))
      .execute();
  }

  // ---- state ---------------------------------------------------------------------------------

  private row(userId: string): Promise<TwoFactorTable | undefined> {
    return this.db.selectFrom('two_factor').selectAll().where('practice', '=', this.practice).where('user_id', '=', userId).executeTakeFirst();
  }

  async isEnabled(userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('two_factor').select('enabled').where('practice', '=', this.practice).where('user_id', '=', userId).executeTakeFirst();
    return Boolean(row && Number(row.enabled));
  }

  /** Must this user enrol before doing anything else? */
  async mustEnrol(user: { id: string; role: Role }): Promise<boolean> {
    return (await this.isRequired(user.role)) && !(await this.isEnabled(user.id));
  }

  async status(user: { id: string; role: Role }): Promise<TwoFactorStatus> {
    const [row, required, policy] = await Promise.all([this.row(user.id), this.isRequired(user.role), this.policy()]);
    const enabled = Boolean(row && Number(row.enabled));
    const left = enabled
      ? await this.db
          .selectFrom('two_factor_recovery')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('practice', '=', this.practice)
          .where('user_id', '=', user.id)
          .where('used_at', 'is', null)
          .executeTakeFirstOrThrow()
      : { n: 0 };
    return { enabled, pending: Boolean(row) && !enabled, required, mustEnrol: required && !enabled, recoveryCodesLeft: Number(left.n), policy };
  }

  // ---- enrolment -----------------------------------------------------------------------------

  /** Start (or restart) enrolment: a new secret, waiting for its first code. */
  async beginEnrolment(user: { id: string; username: string }, now = Date.now()): Promise<Enrolment> {
    const existing = await this.row(user.id);
    if (existing && Number(existing.enabled)) {
      throw new SteadfastError('conflict', `Two-factor sign-in is already on for ${user.username}`, {
        hint: 'To move to a new phone, ask a practice administrator to reset your two-factor sign-in, then enrol again',
      });
    }
    const secret = generateSecret();
    const secretEnc = this.encrypt(secret);
    const iso = new Date(now).toISOString();
    await this.db
      .insertInto('two_factor')
      .values({ practice: this.practice, user_id: user.id, secret_enc: secretEnc, enabled: 0, last_step: null, failed_count: 0, created_at: iso, enabled_at: null })
      .onConflict((oc) => oc.columns(['practice', 'user_id']).doUpdateSet({ secret_enc: secretEnc, enabled: 0, last_step: null, failed_count: 0, created_at: iso, enabled_at: null }))
      .execute();
    const otpauthUri = generateURI({ issuer: `Steadfast (${this.practice})`, label: user.username, secret });
    const svg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, otpauthUri, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
  }

  /** The first right code switches 2FA on; returns the recovery codes (shown once). */
  async confirmEnrolment(userId: string, code: unknown, now = Date.now()): Promise<{ recoveryCodes: string[] }> {
    const row = await this.row(userId);
    if (!row || Number(row.enabled)) {
      throw new SteadfastError('conflict', row ? 'Two-factor sign-in is already on' : 'Enrolment has not been started', {
        hint: row ? 'Nothing to confirm' : 'POST /api/auth/2fa/enrol first, then confirm with the code your app shows',
      });
    }
    const step = this.verifyCode(this.decrypt(row.secret_enc), code, null, now);
    if (step === undefined) {
      throw new SteadfastError('invalid', 'The code does not match: enrolment is not switched on yet', {
        field: 'code',
        hint: 'Check the phone’s clock is right, then enter the 6-digit code the app shows now',
      });
    }
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('two_factor')
        .set({ enabled: 1, last_step: step, failed_count: 0, enabled_at: new Date(now).toISOString() })
        .where('practice', '=', this.practice)
        .where('user_id', '=', userId)
        .execute();
      await trx.deleteFrom('two_factor_recovery').where('practice', '=', this.practice).where('user_id', '=', userId).execute();
      await trx
        .insertInto('two_factor_recovery')
        .values(recoveryCodes.map((c) => ({ practice: this.practice, user_id: userId, code_hash: recoveryHash(userId, c), used_at: null })))
        .execute();
    });
    return { recoveryCodes };
  }

  /** Switch 2FA off for a user (admin reset or the CLI): secret and recovery codes are deleted. */
  async reset(userId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('two_factor').where('practice', '=', this.practice).where('user_id', '=', userId).executeTakeFirst();
    await this.db.deleteFrom('two_factor_recovery').where('practice', '=', this.practice).where('user_id', '=', userId).execute();
    for (const [k, c] of this.challenges) if (c.userId === userId) this.challenges.delete(k);
    return Number(r.numDeletedRows) > 0;
  }

  // ---- sign-in -------------------------------------------------------------------------------

  /** After a right password: a challenge when the user has 2FA on, otherwise undefined (go on to a session). */
  async challengeFor(user: User, workstation: string, now = Date.now()): Promise<TwoFactorChallenge | undefined> {
    if (!(await this.isEnabled(user.id))) return undefined;
    for (const [k, c] of this.challenges) if (c.expires <= now) this.challenges.delete(k);
    const challenge = randomBytes(32).toString('base64url');
    const expires = now + CHALLENGE_MS;
    this.challenges.set(hashToken(challenge), { userId: user.id, workstation, expires });
    return { twoFactorRequired: true, challenge, expiresAt: new Date(expires).toISOString() };
  }

  /** The user a live challenge belongs to (for the audit entry of a failed second step). */
  challengeUser(challenge: string, now = Date.now()): string | undefined {
    const held = this.challenges.get(hashToken(challenge));
    return held && held.expires > now ? held.userId : undefined;
  }

  /**
   * The second step: a challenge and a code or a recovery code. Returns the user id and how they
   * proved it; throws 401 (wrong, expired, reused) or 423 (locked).
   */
  async completeChallenge(
    challenge: string,
    proof: { code?: unknown; recoveryCode?: unknown },
    now = Date.now(),
  ): Promise<{ userId: string; workstation: string; method: 'totp' | 'recovery-code' }> {
    const key = hashToken(challenge);
    const held = this.challenges.get(key);
    if (!held || held.expires <= now) {
      this.challenges.delete(key);
      throw badChallenge();
    }
    const user = await this.db.selectFrom('users').select(['locked_until', 'disabled']).where('practice', '=', this.practice).where('id', '=', held.userId).executeTakeFirst();
    if (!user || Number(user.disabled)) {
      this.challenges.delete(key);
      throw badChallenge();
    }
    if (user.locked_until && Date.parse(user.locked_until) > now) {
      this.challenges.delete(key);
      throw lockedError(user.locked_until);
    }
    const row = await this.row(held.userId);
    if (!row || !Number(row.enabled)) {
      this.challenges.delete(key);
      throw badChallenge();
    }
    let ok = false;
    let method: 'totp' | 'recovery-code' = 'totp';
    if (typeof proof.recoveryCode === 'string' && proof.recoveryCode.trim()) {
      method = 'recovery-code';
      const used = await this.db
        .updateTable('two_factor_recovery')
        .set({ used_at: new Date(now).toISOString() })
        .where('practice', '=', this.practice)
        .where('user_id', '=', held.userId)
        .where('code_hash', '=', recoveryHash(held.userId, proof.recoveryCode))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      ok = Number(used.numUpdatedRows) === 1;
      if (ok) await this.db.updateTable('two_factor').set({ failed_count: 0 }).where('practice', '=', this.practice).where('user_id', '=', held.userId).execute();
    } else if (proof.code !== undefined) {
      const lastStep = row.last_step === null ? null : Number(row.last_step);
      const step = this.verifyCode(this.decrypt(row.secret_enc), proof.code, lastStep, now);
      if (step !== undefined) {
        // Conditional on the step moving forward, so two requests racing with one code cannot both win.
        const r = await this.db
          .updateTable('two_factor')
          .set({ last_step: step, failed_count: 0 })
          .where('practice', '=', this.practice)
          .where('user_id', '=', held.userId)
          .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
          .executeTakeFirst();
        ok = Number(r.numUpdatedRows) === 1;
      }
    } else {
      throw new SteadfastError('required', 'code or recoveryCode is required', { field: 'code', hint: 'Send {"challenge": "...", "code": "123456"} or {"challenge": "...", "recoveryCode": "xxxx-xxxx-xxxx-xxxx"}' });
    }
    if (ok) {
      this.challenges.delete(key);
      return { userId: held.userId, workstation: held.workstation, method };
    }
    await this.countFailure(held.userId, now);
    throw (await this.lockedUntil(held.userId, now)) ? lockedError((await this.lockedUntil(held.userId, now))!) : wrongCode();
  }

  /** One more wrong code; at MAX_FAILED_LOGINS in a row the account is locked like for passwords. */
  private async countFailure(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('two_factor')
      .set((eb) => ({ failed_count: eb('failed_count', '+', 1) }))
      .where('practice', '=', this.practice)
      .where('user_id', '=', userId)
      .execute();
    const row = await this.row(userId);
    if (row && Number(row.failed_count) >= MAX_FAILED_LOGINS) {
      await this.db.updateTable('two_factor').set({ failed_count: 0 }).where('practice', '=', this.practice).where('user_id', '=', userId).execute();
      await this.db
        .updateTable('users')
        .set({ locked_until: new Date(now + LOCKOUT_MS).toISOString() })
        .where('practice', '=', this.practice)
        .where('id', '=', userId)
        .execute();
      for (const [k, c] of this.challenges) if (c.userId === userId) this.challenges.delete(k);
    }
  }

  private async lockedUntil(userId: string, now: number): Promise<string | undefined> {
    const u = await this.db.selectFrom('users').select('locked_until').where('practice', '=', this.practice).where('id', '=', userId).executeTakeFirst();
    return u?.locked_until && Date.parse(u.locked_until) > now ? u.locked_until : undefined;
  }

  /** The time step of a right code (within ±TOTP_WINDOW_STEPS, after lastStep), or undefined. */
  private verifyCode(secret: string, code: unknown, lastStep: number | null, now: number): number | undefined {
    if (typeof code !== 'string' && typeof code !== 'number') return undefined;
    const token = String(code).replace(/\s+/g, '');
    if (!/^\d{6}$/.test(token)) return undefined;
    const result = verifySync({
      secret,
      token,
      epoch: Math.floor(now / 1000),
      period: TOTP_PERIOD_S,
      epochTolerance: TOTP_PERIOD_S * TOTP_WINDOW_STEPS,
      ...(lastStep !== null ? { afterTimeStep: lastStep } : {}),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  }

  // ---- secret at rest ------------------------------------------------------------------------

  private async encryptionKey(): Promise<Buffer> {
    if (this.key) return this.key;
    const dir = this.options.dataDir;
    if (dir) {
      const file = join(dir, KEY_FILE);
      if (!existsSync(file)) {
        writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
        chmodSync(file, 0o600);
      }
      this.key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    } else {
      // No data directory (a hub on PostgreSQL only): the key lives beside the secrets, which still
      // keeps them out of API answers and exports but not out of a database copy.
      const row = await this.db.selectFrom('auth_settings').select('value').where('practice', '=', this.practice).where('name', '=', KEY_SETTING).executeTakeFirst();
      if (row) this.key = Buffer.from(row.value, 'base64');
      else {
        const k = randomBytes(32);
        await this.setSetting(KEY_SETTING, k.toString('base64'));
        this.key = k;
      }
    }
    if (this.key.length !== 32) throw new SteadfastError('internal', `${KEY_FILE} does not hold a 32-byte key`, { hint: 'Restore it from backup; without it every user must enrol again' });
    return this.key;
  }

  /** Load the key before use (encrypt/decrypt are synchronous). */
  async ready(): Promise<this> {
    await this.encryptionKey();
    return this;
  }

  private encrypt(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.loadedKey(), iv);
    cipher.setAAD(Buffer.from(this.practice));
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `v1$${iv.toString('base64')}$${cipher.getAuthTag().toString('base64')}$${data.toString('base64')}`;
  }

  private decrypt(stored: string): string {
    const [v, iv, tag, data] = stored.split('$');
    if (v !== 'v1' || !iv || !tag || !data) throw new SteadfastError('internal', 'A two-factor secret is stored in an unknown form');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.loadedKey(), Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(this.practice));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SteadfastError('internal', `A two-factor secret cannot be decrypted with ${KEY_FILE}`, {
        hint: `Restore ${KEY_FILE} in the data directory from backup, or reset the user's two-factor sign-in (steadfast users 2fa-reset)`,
      });
    }
  }

  private loadedKey(): Buffer {
    if (!this.key) throw new Error('TwoFactor.ready() was not awaited');
    return this.key;
  }
}

/** One TwoFactor per store, shared by the login handler and the 2FA routes. */
const instances = new WeakMap<RecordStore, Promise<TwoFactor>>();
export function twoFactorOf(deps: Pick<AppDeps, 'store' | 'config'>): Promise<TwoFactor> {
  let tf = instances.get(deps.store);
  if (!tf) {
    tf = new TwoFactor(deps.store, { dataDir: deps.config.dataDir, requireForAdmins: deps.config.auth?.requireTwoFactorForAdmins }).ready();
    instances.set(deps.store, tf);
  }
  return tf;
}
