/**
 * Two-factor sign-in over HTTP (see twofactor.ts):
 *
 *   POST /api/auth/login/2fa       {challenge, code | recoveryCode} → the session (step two of sign-in)
 *   GET  /api/auth/2fa             this user's state: enabled, required, mustEnrol, recovery codes left
 *   POST /api/auth/2fa/enrol       a new secret, its otpauth:// URI and QR code (until confirmed)
 *   POST /api/auth/2fa/confirm     {code} → switched on; the 10 recovery codes, shown once
 *   POST /api/auth/2fa/reset       {username} practice-admin: switch off another user's 2FA (audited)
 *   GET|PUT /api/auth/2fa/policy   {requireForAll} practice-admin: require 2FA of every role (audited)
 *
 * A user who must have 2FA and has not enrolled (a practice administrator) gets a session that can
 * reach only these routes, /api/auth/me and /api/auth/logout: everything else is 403 until enrolled.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { requireRole, SESSION_COOKIE, WORKSTATION_COOKIE, workstationOf } from './index.ts';
import { hashToken, SESSION_IDLE_MS } from './accounts.ts';
import { twoFactorOf, type TwoFactor, type TwoFactorChallenge } from './twofactor.ts';
import type { AuthTables } from './tables.ts';
import type { Kysely } from 'kysely';
import type { User } from './accounts.ts';
import { signInRateLimitOf, startSession } from './sign-in.ts';
import type { Capability } from '../capability.ts';

/** Routes (as registered) that a session which must enrol first may reach; public routes are never held back. */
const ENROL_ONLY_ROUTES = new Set(['/api/auth/me', '/api/auth/logout', '/api/auth/2fa', '/api/auth/2fa/enrol', '/api/auth/2fa/confirm']);

/**
 * Called by the login handler after a right password: a challenge (no session yet) when the user has
 * 2FA on; undefined to go on and create the session.
 */
export async function twoFactorStep(deps: AppDeps, user: User, workstation: string): Promise<TwoFactorChallenge | undefined> {
  return (await twoFactorOf(deps)).challengeFor(user, workstation);
}

interface SecondStepBody {
  challenge?: unknown;
  code?: unknown;
  recoveryCode?: unknown;
}

async function registerTwoFactor(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, audit } = deps;
  const tf: TwoFactor = await twoFactorOf(deps);
  const db = deps.store.db as unknown as Kysely<AuthTables>;

  // The enrol-only gate: after the auth hook (registered before every capability).
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const user = request.user;
    if (!user || !request.authToken) return;
    // Judged by the matched route, not the raw URL, so no spelling of a path slips past; 404s stay 404.
    const route = request.routeOptions.url;
    if (!route || request.routeOptions.config?.public === true || ENROL_ONLY_ROUTES.has(route)) return;
    if (!(await tf.mustEnrol(user))) return;
    // Machine tokens (steadfast users token) are minted at the console, not by signing in.
    const session = await db.selectFrom('sessions').select('kind').where('practice', '=', deps.store.practice).where('token_hash', '=', hashToken(request.authToken)).executeTakeFirst();
    if (session?.kind !== 'session') return;
    throw new SteadfastError('forbidden', `${user.role === 'practice-admin' ? 'Practice administrators' : 'Everyone at this practice'} must set up two-factor sign-in before using Steadfast`, {
      hint: 'Set it up now: POST /api/auth/2fa/enrol, scan the QR code with an authenticator app, then POST /api/auth/2fa/confirm with the code it shows',
    });
  });

  app.post<{ Body: SecondStepBody }>('/api/auth/login/2fa', { config: { public: true, rateLimit: signInRateLimitOf(deps) } }, async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body !== 'object' || typeof body.challenge !== 'string' || !body.challenge) {
      throw new SteadfastError('required', 'challenge is required', { field: 'challenge', hint: 'Send the challenge POST /api/auth/login answered, with "code" or "recoveryCode"' });
    }
    const challengedUser = tf.challengeUser(body.challenge);
    let done;
    try {
      done = await tf.completeChallenge(body.challenge, { code: body.code, recoveryCode: body.recoveryCode });
    } catch (err) {
      const workstation = workstationOf(request) ?? '';
      const who = challengedUser ? await accounts.getUser(challengedUser) : undefined;
      // Written at once in its own transaction: sign-in never waits behind the queue of read entries.
      await audit.appendNow([
        { actor: { id: who?.id ?? '', name: who?.username ?? '', role: who?.role ?? '', workstation }, event: 'login-failed', outcome: 'failure', detail: `two-factor ${err instanceof SteadfastError ? err.code : 'error'}` },
      ]);
      throw err;
    }
    const user = await accounts.getUser(done.userId);
    if (!user || user.disabled) throw new SteadfastError('unauthenticated', 'The sign-in has expired or was not started', { field: 'challenge', hint: 'Sign in again' });
    const workstation = workstationOf(request) ?? done.workstation;
    const { token, expiresAt } = await startSession(deps, user, workstation, `two-factor ${done.method}`);
    const secure = request.protocol === 'https';
    void reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure, maxAge: Math.floor(SESSION_IDLE_MS / 1000) });
    if (workstation) void reply.setCookie(WORKSTATION_COOKIE, workstation, { httpOnly: true, sameSite: 'strict', path: '/', secure });
    const left = done.method === 'recovery-code' ? (await tf.status(user)).recoveryCodesLeft : undefined;
    return { token, expiresAt, user: { id: user.id, username: user.username, name: user.name, role: user.role, workstation }, ...(left !== undefined ? { recoveryCodesLeft: left } : {}) };
  });

  app.get('/api/auth/2fa', async (request) => tf.status(request.user));

  app.post('/api/auth/2fa/enrol', async (request, reply) => {
    const enrolment = await tf.beginEnrolment(request.user);
    void reply.header('cache-control', 'no-store');
    return enrolment;
  });

  app.post<{ Body: { code?: unknown } }>('/api/auth/2fa/confirm', async (request, reply) => {
    const u = request.user;
    const { recoveryCodes } = await tf.confirmEnrolment(u.id, request.body?.code);
    await audit.append([{ actor: { id: u.id, name: u.name, role: u.role, workstation: u.workstation }, event: 'two-factor-enrolled', outcome: 'success' }]);
    void reply.header('cache-control', 'no-store');
    return { enabled: true, recoveryCodes };
  });

  app.post<{ Body: { username?: unknown } }>('/api/auth/2fa/reset', { preHandler: requireRole('practice-admin') }, async (request) => {
    const u = request.user;
    const username = typeof request.body?.username === 'string' ? request.body.username.trim().toLowerCase() : '';
    if (!username) throw new SteadfastError('required', 'username is required', { field: 'username', hint: 'Send {"username": "..."} of the user whose phone is lost' });
    if (username === u.username) {
      throw new SteadfastError('invalid', 'You cannot reset your own two-factor sign-in', {
        field: 'username',
        hint: 'Ask another practice administrator, or use `steadfast users 2fa-reset` at the practice node',
      });
    }
    const target = (await accounts.listUsers()).find((x) => x.username === username);
    if (!target) throw new SteadfastError('not-found', `User "${username}" was not found`, { field: 'username', hint: 'Check the username' });
    const wasOn = await tf.reset(target.id);
    await audit.append([{ actor: { id: u.id, name: u.name, role: u.role, workstation: u.workstation }, event: 'two-factor-reset', outcome: 'success', detail: `${target.username}${wasOn ? '' : ' (was not enrolled)'}` }]);
    return { username: target.username, reset: wasOn };
  });

  app.get('/api/auth/2fa/policy', { preHandler: requireRole('practice-admin') }, async () => ({ requireForAll: (await tf.policy()) === 'all' }));

  app.put<{ Body: { requireForAll?: unknown } }>('/api/auth/2fa/policy', { preHandler: requireRole('practice-admin') }, async (request, _reply: FastifyReply) => {
    const value = request.body?.requireForAll;
    if (typeof value !== 'boolean') throw new SteadfastError('invalid', 'requireForAll must be true or false', { field: 'requireForAll', hint: 'Send {"requireForAll": true}' });
    await tf.setPolicy(value ? 'all' : 'admins');
    const u = request.user;
    await audit.append([{ actor: { id: u.id, name: u.name, role: u.role, workstation: u.workstation }, event: 'two-factor-policy', outcome: 'success', detail: value ? 'required for all' : 'required for practice administrators' }]);
    return { requireForAll: value };
  });
}

/** Straight after auth: its enrol-only gate must run before every other capability's routes. */
export const twoFactor: Capability = { name: 'two-factor', routes: registerTwoFactor };
