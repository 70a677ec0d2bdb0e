/**
 * What both sign-in steps (password, then a two-factor code when the user has one) share: the
 * per-client rate limit, and starting the session with its audit entry.
 */
import type { AppDeps } from '../capability.ts';

/** Sign-in attempts one client (IP address) may make per window, whoever it signs in as. */
export const DEFAULT_SIGN_IN_RATE_LIMIT = { max: 30, windowMs: 60_000 };

export interface SignInRateLimit {
  max: number;
  windowMs: number;
}

/** The auth capability's options (`deps.config.auth`). */
export interface AuthOptions {
  /** Sign-in attempts per client address and window (default 30 a minute). */
  signInRateLimit?: SignInRateLimit;
  /**
   * Practice administrators must enrol in two-factor sign-in before anything else (default true).
   * Only the test harness turns it off, for suites that drive the API as an administrator by password.
   */
  requireTwoFactorForAdmins?: boolean;
}

declare module '../capability.ts' {
  interface CapabilityOptions {
    auth?: AuthOptions;
  }
}

/**
 * Start a signed-in user's session. The session and its audit row commit together, in a transaction
 * of their own: no session without its entry, and no wait behind the queue of read entries.
 */
export async function startSession(
  deps: Pick<AppDeps, 'store' | 'accounts' | 'audit'>,
  user: { id: string; name: string; role: string },
  workstation: string,
  detail?: string,
): Promise<{ token: string; expiresAt: string }> {
  return deps.store.db.transaction().execute(async (trx) => {
    const session = await deps.accounts.createSession(user.id, workstation, 'session', Date.now(), trx);
    await deps.audit.appendInTransaction(trx, [{ actor: { id: user.id, name: user.name, role: user.role, workstation }, event: 'login', outcome: 'success', ...(detail ? { detail } : {}) }]);
    return session;
  });
}

/** The per-client limit of a sign-in route (password step and two-factor step alike). */
export function signInRateLimitOf(deps: Pick<AppDeps, 'config'>): { max: number; timeWindow: number } {
  const limit = deps.config.auth?.signInRateLimit ?? DEFAULT_SIGN_IN_RATE_LIMIT;
  return { max: limit.max, timeWindow: limit.windowMs };
}
