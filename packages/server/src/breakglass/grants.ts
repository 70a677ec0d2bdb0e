/**
 * Break-glass grants: one user, one session, one patient, a reason, a time limit. The records
 * capability asks `breakGlassOf(deps).active(...)` before refusing a read; every read under a grant
 * is kept here (what was read) and in the audit trail (flagged `break-glass: <reason>`).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import type { SessionUser } from '../auth/accounts.ts';
import { hashToken } from '../auth/accounts.ts';
import type { BreakGlassGrantsTable, BreakGlassTables } from './tables.ts';

export interface BreakGlassConfig {
  /** The clock (tests move it forward to see a grant expire). */
  now?: () => Date;
  /** Length of a grant when the request does not say (default 30 minutes). */
  defaultMinutes?: number;
  /** Longest grant anyone may ask for (default 240 minutes). */
  maxMinutes?: number;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    /** Break-glass grant lengths and clock (defaults: 30 minutes, at most 4 hours). */
    breakGlass?: BreakGlassConfig;
  }
}

export const DEFAULT_GRANT_MINUTES = 30;
export const MAX_GRANT_MINUTES = 240;
export const MIN_REASON_LENGTH = 10;
/** What a grant opens: read the whole record of one patient. Writes stay limited to the role. */
export const breakGlassScopes = ['read'] as const;
export type BreakGlassScope = (typeof breakGlassScopes)[number];

export interface BreakGlassGrant {
  id: string;
  user: { id: string; name: string; role: string; workstation: string };
  patient: string;
  reason: string;
  scope: string;
  grantedAt: string;
  expiresAt: string;
  endedAt: string | null;
  endReason: string | null;
  reviewedAt: string | null;
  reviewedBy: string | null;
  reviewNote: string | null;
  /** active | expired | ended */
  state: 'active' | 'expired' | 'ended';
}

export interface BreakGlassRead {
  at: string;
  event: string;
  what: string;
}

function toGrant(row: BreakGlassGrantsTable, now: Date): BreakGlassGrant {
  const state = row.ended_at ? 'ended' : row.expires_at <= now.toISOString() ? 'expired' : 'active';
  return {
    id: row.id,
    user: { id: row.user_id, name: row.user_name, role: row.user_role, workstation: row.workstation },
    patient: row.patient,
    reason: row.reason,
    scope: row.scope,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    reviewedAt: row.reviewed_at,
    reviewedBy: row.reviewed_by,
    reviewNote: row.review_note,
    state,
  };
}

export class BreakGlass {
  private readonly db: Kysely<BreakGlassTables>;
  private readonly practice: string;
  readonly now: () => Date;
  readonly defaultMinutes: number;
  readonly maxMinutes: number;

  constructor(deps: AppDeps) {
    this.db = deps.store.db as unknown as Kysely<BreakGlassTables>;
    this.practice = deps.store.practice;
    const c = deps.config.breakGlass ?? {};
    this.now = c.now ?? (() => new Date());
    this.maxMinutes = c.maxMinutes ?? MAX_GRANT_MINUTES;
    this.defaultMinutes = Math.min(c.defaultMinutes ?? DEFAULT_GRANT_MINUTES, this.maxMinutes);
  }

  /** Check a request's reason and time limit; throws 400 naming the field. */
  parseRequest(body: unknown): { patient: string; reason: string; scope: BreakGlassScope; minutes: number } {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const rawPatient = typeof b.patientId === 'string' ? b.patientId.replace(/^Patient\//, '') : '';
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(rawPatient)) {
      throw new SteadfastError('required', 'patientId is required (the id of the Patient)', { field: 'patientId', hint: 'Send {"patientId": "<id>", "reason": "..."}' });
    }
    const reason = typeof b.reason === 'string' ? b.reason.trim() : '';
    if (reason.length < MIN_REASON_LENGTH) {
      throw new SteadfastError('required', `reason must say why emergency access is needed (at least ${MIN_REASON_LENGTH} characters)`, {
        field: 'reason',
        hint: 'e.g. "Patient collapsed in waiting room; ambulance crew asking for allergies and medications"',
      });
    }
    if (reason.length > 500) throw new SteadfastError('invalid', 'reason is longer than 500 characters', { field: 'reason' });
    const scope = b.scope === undefined ? 'read' : b.scope;
    if (!breakGlassScopes.includes(scope as BreakGlassScope)) {
      throw new SteadfastError('invalid', `scope "${String(scope)}" is not one Steadfast grants`, { field: 'scope', hint: `Use one of: ${breakGlassScopes.join(', ')} (writes stay limited to your role)` });
    }
    const minutes = b.minutes === undefined ? this.defaultMinutes : b.minutes;
    if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > this.maxMinutes) {
      throw new SteadfastError('invalid', `minutes must be a whole number from 1 to ${this.maxMinutes}`, { field: 'minutes', hint: `Leave it out for ${this.defaultMinutes} minutes` });
    }
    return { patient: `Patient/${rawPatient}`, reason, scope: scope as BreakGlassScope, minutes };
  }

  async create(user: SessionUser, token: string, req: { patient: string; reason: string; scope: string; minutes: number }): Promise<BreakGlassGrant> {
    const now = this.now();
    const row: BreakGlassGrantsTable = {
      practice: this.practice,
      id: randomUUID(),
      user_id: user.id,
      user_name: user.name,
      user_role: user.role,
      workstation: user.workstation,
      session_hash: hashToken(token),
      patient: req.patient,
      reason: req.reason,
      scope: req.scope,
      granted_at: now.toISOString(),
      expires_at: new Date(now.getTime() + req.minutes * 60_000).toISOString(),
      ended_at: null,
      end_reason: null,
      reviewed_at: null,
      reviewed_by: null,
      review_note: null,
    };
    await this.db.insertInto('break_glass_grants').values(row).execute();
    return toGrant(row, now);
  }

  /** The user's grant for this patient in this session that has not expired or ended, if any. */
  async active(user: SessionUser, token: string | undefined, patient: string): Promise<BreakGlassGrant | undefined> {
    if (!token) return undefined;
    const now = this.now();
    const row = await this.db
      .selectFrom('break_glass_grants')
      .selectAll()
      .where('practice', '=', this.practice)
      .where('user_id', '=', user.id)
      .where('patient', '=', patient)
      .where('session_hash', '=', hashToken(token))
      .where('ended_at', 'is', null)
      .where('expires_at', '>', now.toISOString())
      .orderBy('expires_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toGrant(row, now) : undefined;
  }

  async recordRead(grant: BreakGlassGrant, event: string, what: string): Promise<void> {
    await this.db.insertInto('break_glass_reads').values({ practice: this.practice, grant_id: grant.id, at: this.now().toISOString(), event, what: what.slice(0, 500) }).execute();
  }

  /** End every open grant of a session (sign-out). Returns how many ended. */
  async endSession(token: string, reason: string): Promise<number> {
    const res = await this.db
      .updateTable('break_glass_grants')
      .set({ ended_at: this.now().toISOString(), end_reason: reason })
      .where('practice', '=', this.practice)
      .where('session_hash', '=', hashToken(token))
      .where('ended_at', 'is', null)
      .where('expires_at', '>', this.now().toISOString())
      .executeTakeFirst();
    return Number(res.numUpdatedRows ?? 0);
  }

  async list(options: { unreviewed?: boolean; limit?: number } = {}): Promise<Array<BreakGlassGrant & { reads: BreakGlassRead[] }>> {
    let q = this.db.selectFrom('break_glass_grants').selectAll().where('practice', '=', this.practice);
    if (options.unreviewed) q = q.where('reviewed_at', 'is', null);
    const rows = await q.orderBy('granted_at', 'desc').limit(options.limit ?? 200).execute();
    const now = this.now();
    const ids = rows.map((r) => r.id);
    const reads = ids.length
      ? await this.db.selectFrom('break_glass_reads').selectAll().where('practice', '=', this.practice).where('grant_id', 'in', ids).orderBy('at', 'asc').execute()
      : [];
    return rows.map((r) => ({ ...toGrant(r, now), reads: reads.filter((x) => x.grant_id === r.id).map((x) => ({ at: x.at, event: x.event, what: x.what })) }));
  }

  async get(id: string): Promise<BreakGlassGrant | undefined> {
    const row = await this.db.selectFrom('break_glass_grants').selectAll().where('practice', '=', this.practice).where('id', '=', id).executeTakeFirst();
    return row ? toGrant(row, this.now()) : undefined;
  }

  async review(id: string, admin: SessionUser, note: string | undefined): Promise<BreakGlassGrant> {
    const found = await this.get(id);
    if (!found) throw new SteadfastError('not-found', `Break-glass grant ${id} was not found`, { hint: 'GET /api/break-glass lists them' });
    if (found.reviewedAt) throw new SteadfastError('conflict', `Break-glass grant ${id} was already reviewed at ${found.reviewedAt}`);
    await this.db
      .updateTable('break_glass_grants')
      .set({ reviewed_at: this.now().toISOString(), reviewed_by: admin.name, review_note: note ?? null })
      .where('practice', '=', this.practice)
      .where('id', '=', id)
      .execute();
    return (await this.get(id))!;
  }

  async unreviewedCount(): Promise<number> {
    const row = await this.db
      .selectFrom('break_glass_grants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('practice', '=', this.practice)
      .where('reviewed_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

const services = new WeakMap<object, BreakGlass>();

/** The break-glass service of a node (one per store). */
export function breakGlassOf(deps: AppDeps): BreakGlass {
  let s = services.get(deps.store);
  if (!s) {
    s = new BreakGlass(deps);
    services.set(deps.store, s);
  }
  return s;
}

/** The audit detail of an access under a grant. */
export const breakGlassDetail = (grant: BreakGlassGrant): string => `break-glass: ${grant.reason} (grant ${grant.id})`.slice(0, 500);
