/**
 * Authentication for every route: a session cookie (web app) or `Authorization: Bearer <token>`
 * (machine clients). Routes under /fhir/R4 and /api need a signed-in user unless they declare
 * `config: { public: true }`; roles are checked with `requireRole(...)` or `canAccess` per resource type.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { SteadfastError, type Role } from '@steadfast/domain';
import type { SessionUser } from './accounts.ts';

export type { SessionUser, User } from './accounts.ts';
export { Accounts } from './accounts.ts';

export const SESSION_COOKIE = 'steadfast_session';
export const WORKSTATION_COOKIE = 'steadfast_workstation';
export const WORKSTATION_HEADER = 'x-steadfast-workstation';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user; set by the auth hook on every non-public route. */
    user: SessionUser;
    /** The raw token of this request, when one was sent. */
    authToken: string | undefined;
  }
  interface FastifyContextConfig {
    /** The route needs no signed-in user (login, metadata, static files). */
    public?: boolean;
  }
}

export function unauthenticated(): SteadfastError {
  return new SteadfastError('unauthenticated', 'Sign in first', {
    hint: 'POST /api/auth/login with {"username","password"}, then send the session cookie or "Authorization: Bearer <token>"',
  });
}

/** The token from `Authorization: Bearer` or the session cookie. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m) return m[1];
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie || undefined;
}

export function workstationOf(request: FastifyRequest): string | undefined {
  const header = request.headers[WORKSTATION_HEADER];
  const value = (Array.isArray(header) ? header[0] : header) ?? request.cookies?.[WORKSTATION_COOKIE];
  return value ? value.slice(0, 128) : undefined;
}

/** Does this URL need a signed-in user when the route did not say? */
function isProtectedPath(url: string): boolean {
  return url.startsWith('/fhir/') || url.startsWith('/api/');
}

/** Install the hook that resolves the user of each request. */
export function installAuthHook(app: FastifyInstance, accounts: { resolveToken(token: string): Promise<(SessionUser & { disabled?: boolean }) | undefined> }): void {
  app.decorateRequest('user', null as unknown as SessionUser);
  app.decorateRequest('authToken', undefined);
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = tokenOf(request);
    request.authToken = token;
    const isPublic = request.routeOptions.config?.public === true;
    if (token) {
      const found = await accounts.resolveToken(token);
      if (found) {
        request.user = {
          id: found.id,
          username: found.username,
          name: found.name,
          role: found.role,
          workstation: workstationOf(request) ?? found.workstation,
        };
        return;
      }
    }
    // 404s are answered as 404 to everyone; a missing user on a real protected route is 401.
    const routeExists = Boolean(request.routeOptions.url);
    if (!isPublic && routeExists && isProtectedPath(request.url)) throw unauthenticated();
  });
}

/** A preHandler that lets only the given roles through (403 for the rest, 401 when signed out). */
export function requireRole(...allowed: Role[]): preHandlerHookHandler {
  return async function checkRole(request: FastifyRequest) {
    if (!request.user) throw unauthenticated();
    if (!allowed.includes(request.user.role)) {
      throw new SteadfastError('forbidden', `This needs the role ${allowed.join(' or ')}; you are signed in as ${request.user.role}`, {
        hint: 'Ask a colleague with that role, or a practice administrator to change your role',
      });
    }
  };
}

/** The user of a request, or 401. For handlers on routes that may be public. */
export function userOf(request: FastifyRequest): SessionUser {
  if (!request.user) throw unauthenticated();
  return request.user;
}
