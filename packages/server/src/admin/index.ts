/**
 * Practice manager screens' API (practice-admin only). Every change is audited in the transaction
 * that makes it, so an account is never changed without the trail saying who changed it.
 *
 *   GET  /api/admin/staff                       accounts with their sign-in state (locked, last seen)
 *   POST /api/admin/staff {username, name, role, password}
 *   POST /api/admin/staff/:id/disable           ends the account's sessions at once
 *   POST /api/admin/staff/:id/enable
 *   POST /api/admin/staff/:id/password {password}   reset: clears any lock, ends its sessions
 *   POST /api/admin/staff/:id/unlock
 *   GET  /api/admin/workstations                every workstation staff have signed in from, from the audit trail
 *
 * The audit trail search is the audit capability's `GET /api/audit`; diary sessions are the
 * appointments capability's `/api/appointments/sessions`; rooms are the alarm's `/api/alarm/rooms`.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import type { AppDeps, Capability } from '../capability.ts';
import { actorOf, type AuditEventKind } from '../audit/index.ts';
import { requireRole, type SessionUser, type User } from '../auth/index.ts';

function field(body: Record<string, unknown> | undefined, name: string, hint: string): string {
  const v = body?.[name];
  if (typeof v !== 'string' || !v.trim()) throw new SteadfastError('required', `${name === 'name' ? 'Full name' : name[0]!.toUpperCase() + name.slice(1)} is required`, { field: name, hint });
  return v;
}

async function registerAdmin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, audit, store } = deps;
  const admin = { preHandler: requireRole('practice-admin') };

  const target = async (id: string): Promise<User> => {
    const user = await accounts.getUser(id);
    if (!user) throw new SteadfastError('not-found', `Staff account ${id} was not found`, { field: 'id', hint: 'Refresh the list of staff accounts' });
    return user;
  };

  /** Make one account change and its audit entry in one transaction. */
  const change = async (actor: SessionUser, event: AuditEventKind, who: User, detail: string, fn: (db: Kysely<any>) => Promise<void>) => {
    await store.transaction({ author: actor.id }, async (tx) => {
      await fn(tx.db as unknown as Kysely<any>);
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(actor), event, outcome: 'success', detail: `${who.username}: ${detail}` }]);
    });
  };

  app.get('/api/admin/staff', admin, async () => ({ staff: await accounts.accountStates() }));

  app.post<{ Body: Record<string, unknown> }>('/api/admin/staff', admin, async (request, reply) => {
    const b = request.body ?? {};
    const username = field(b, 'username', 'A short sign-in name, e.g. j.smith');
    const name = field(b, 'name', 'The name colleagues know them by, e.g. Jo Smith');
    const role = field(b, 'role', 'Choose receptionist, clinician or practice-admin');
    const password = field(b, 'password', 'A first password for them to sign in with');
    let created: User | undefined;
    await store.transaction({ author: request.user.id }, async (tx) => {
      created = await accounts.addUser({ username, name, role, password }, tx.db as unknown as Kysely<any>);
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'account-created', outcome: 'success', detail: `${created.username}: ${created.role}, "${created.name}"` }]);
    });
    void reply.code(201);
    return { user: created };
  });

  app.post<{ Params: { id: string } }>('/api/admin/staff/:id/disable', admin, async (request) => {
    const who = await target(request.params.id);
    if (who.id === request.user.id) {
      throw new SteadfastError('invalid', 'You cannot disable your own account', { field: 'id', hint: 'Ask another practice administrator to do it' });
    }
    await change(request.user, 'account-disabled', who, 'disabled; sessions ended', (db) => accounts.setDisabled(who.id, true, db));
    return { user: await target(who.id) };
  });

  app.post<{ Params: { id: string } }>('/api/admin/staff/:id/enable', admin, async (request) => {
    const who = await target(request.params.id);
    await change(request.user, 'account-enabled', who, 'enabled', (db) => accounts.setDisabled(who.id, false, db));
    return { user: await target(who.id) };
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/api/admin/staff/:id/password', admin, async (request) => {
    const who = await target(request.params.id);
    const hash = await accounts.hashNewPassword(field(request.body, 'password', 'Type the new password to give them'));
    await change(request.user, 'account-password-reset', who, 'password reset; lock cleared; sessions ended', (db) => accounts.setPasswordHash(who.id, hash, db));
    return { user: await target(who.id) };
  });

  app.post<{ Params: { id: string } }>('/api/admin/staff/:id/unlock', admin, async (request) => {
    const who = await target(request.params.id);
    await change(request.user, 'account-unlocked', who, 'unlocked', (db) => accounts.unlockById(who.id, db));
    return { user: await target(who.id) };
  });

  // Workstations come from the sign-ins in the audit trail: every one staff used, even after sign-out.
  app.get('/api/admin/workstations', admin, async () => ({ workstations: await audit.signInWorkstations() }));
}

export const admin: Capability = { name: 'admin', routes: registerAdmin };
