/** POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me. */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { SteadfastError } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { SESSION_COOKIE, WORKSTATION_COOKIE, workstationOf } from './index.ts';
import { SESSION_IDLE_MS } from './accounts.ts';
import { twoFactorStep } from './twofactor-routes.ts';
import { signInRateLimitOf, startSession } from './sign-in.ts';
import type { Capability } from '../capability.ts';
import { authMigrations } from './tables.ts';

export { DEFAULT_SIGN_IN_RATE_LIMIT, type SignInRateLimit } from './sign-in.ts';

interface LoginBody {
  username?: unknown;
  password?: unknown;
  workstation?: unknown;
}

async function registerAuth(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, audit } = deps;
  const routeLimit = signInRateLimitOf(deps);
  // Per client, so that one workstation cannot lock every account by guessing at each in turn.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new SteadfastError('too-many-requests', `Too many sign-in attempts from this computer (${context.max} in ${Math.round(routeLimit.timeWindow / 1000)} s)`, {
        hint: `Wait ${Math.ceil(context.ttl / 1000)} seconds and try again`,
      }),
  });

  app.post<{ Body: LoginBody }>('/api/auth/login', { config: { public: true, rateLimit: routeLimit } }, async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body !== 'object' || typeof body.username !== 'string' || !body.username) {
      throw new SteadfastError('required', 'username is required', { field: 'username', hint: 'Send {"username": "...", "password": "..."}' });
    }
    if (typeof body.password !== 'string' || !body.password) {
      throw new SteadfastError('required', 'password is required', { field: 'password', hint: 'Send {"username": "...", "password": "..."}' });
    }
    const workstation = workstationOf(request) ?? (typeof body.workstation === 'string' ? body.workstation.slice(0, 128) : '') ?? '';
    let user;
    try {
      user = await accounts.verifyLogin(body.username, body.password);
    } catch (err) {
      // Written at once in its own transaction: sign-in never waits behind the queue of read entries.
      await audit.appendNow([
        {
          actor: { id: '', name: body.username.slice(0, 64), role: '', workstation },
          event: 'login-failed',
          outcome: 'failure',
          detail: err instanceof SteadfastError ? err.code : 'error',
        },
      ]);
      throw err;
    }
    // Two-factor sign-in (auth/twofactor-routes.ts): with 2FA on, a challenge instead of a session.
    const challenge = await twoFactorStep(deps, user, workstation);
    if (challenge) return challenge;
    const { token, expiresAt } = await startSession(deps, user, workstation);
    const secure = request.protocol === 'https';
    void reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure, maxAge: Math.floor(SESSION_IDLE_MS / 1000) });
    if (workstation) void reply.setCookie(WORKSTATION_COOKIE, workstation, { httpOnly: true, sameSite: 'strict', path: '/', secure });
    return { token, expiresAt, user: { id: user.id, username: user.username, name: user.name, role: user.role, workstation } };
  });

  app.post('/api/auth/logout', async (request, reply) => {
    if (request.authToken) await accounts.endSession(request.authToken);
    const u = request.user;
    await audit.append([{ actor: { id: u.id, name: u.name, role: u.role, workstation: u.workstation }, event: 'logout', outcome: 'success' }]);
    // Cleared with the attributes it was set with (clearCookie alone would send SameSite=Lax, no HttpOnly).
    void reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' });
    return { ok: true };
  });

  app.get('/api/auth/me', async (request) => ({ user: request.user }));
}

/** Staff accounts, sessions and sign-in (its tables hold the two-factor state too). */
export const auth: Capability = { name: 'auth', migrations: authMigrations, routes: registerAuth };
