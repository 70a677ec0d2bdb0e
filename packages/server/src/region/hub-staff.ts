/**
 * Hub staff: accounts on the hub itself (never practice accounts) with the roles `region-lead` and
 * `service-desk` (@steadfast/domain/region), signed in, two-factor and audited by the very same code
 * as a practice node (auth/, audit/). Every hub account must use two-factor sign-in.
 *
 * Hub users see figures and incident text. The hub serves no record routes, and a hub session is
 * refused by `requireHubRole` on every region route unless its role allows the action, so there is
 * no route from a hub account to patient data (region/hub-staff.test.ts tries every route).
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { SteadfastError } from '@steadfast/domain';
import { hubMay, hubRoles, isHubRole, type HubAction } from '@steadfast/domain/region';
import type { KyselyStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { Accounts, installAuthHook, SESSION_COOKIE, unauthenticated } from '../auth/index.ts';
import { auth } from '../auth/routes.ts';
import { twoFactor } from '../auth/twofactor-routes.ts';
import { twoFactorOf } from '../auth/twofactor.ts';
import { authMigrations } from '../auth/tables.ts';
import { AuditLog } from '../audit/log.ts';
import { auditMigrations } from '../audit/tables.ts';
import { crossSiteReason } from '../http/security.ts';
import type { SignInRateLimit } from '../auth/sign-in.ts';

/** The tables hub staff need at the hub: the node's own auth and audit tables. */
export const hubStaffMigrations = [...authMigrations, ...auditMigrations];

export interface HubStaff {
  accounts: Accounts;
  audit: AuditLog;
  /** Every route the hub serves (method and URL as registered), so a test can try each one. */
  routes(): Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

export interface HubStaffOptions {
  signInRateLimit?: SignInRateLimit;
}

/**
 * Sign-in, sessions, two-factor and the audit trail on the hub app, for hub roles only. Two-factor
 * is required of every hub account (the hub-wide policy is set to `all` on start).
 */
export async function installHubStaff(app: FastifyInstance, store: KyselyStore, options: HubStaffOptions = {}): Promise<HubStaff> {
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  const accounts = new Accounts(store, { roles: hubRoles });
  const audit = new AuditLog(store);
  const deps: AppDeps = {
    store,
    config: { practice: store.practice, nodeId: store.nodeId, role: 'hub', auth: { ...(options.signInRateLimit ? { signInRateLimit: options.signInRateLimit } : {}) } },
    audit,
    accounts,
  };
  await (await twoFactorOf(deps)).setPolicy('all');
  await app.register(cookie);
  // A browser request carrying the hub session must come from the hub's own pages.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.cookies?.[SESSION_COOKIE]) return;
    const reason = crossSiteReason(request);
    if (reason) throw new SteadfastError('forbidden', `Refused a ${request.method} from another site: ${reason}`, { hint: 'Use the region pages served by the hub' });
  });
  installAuthHook(app, accounts);
  await auth.routes!(app, deps);
  await twoFactor.routes!(app, deps);
  return { accounts, audit, routes: () => [...routes], close: () => audit.close() };
}

/** Only a signed-in hub account whose role allows `action` (401 signed out, 403 otherwise). */
export function requireHubRole(action: HubAction): preHandlerHookHandler {
  return async function checkHubRole(request: FastifyRequest) {
    const user = request.user;
    if (!user) throw unauthenticated();
    const role: string = user.role;
    if (!isHubRole(role)) throw new SteadfastError('forbidden', `Only hub staff may use the region's pages; you are signed in as ${role}`, { hint: 'Sign in with a hub account' });
    if (!hubMay(role, action)) throw new SteadfastError('forbidden', `Your hub role (${role}) may not ${action.replace(/-/g, ' ')}`, { hint: 'Ask a region lead' });
  };
}
