/**
 * Hub staff accounts from outside the hub process: `addHubUser` writes the account into the hub's
 * PostgreSQL (what `steadfast hub add-user` does), and `firstSignIn` is a new account's first sign-in
 * over HTTP (password, then enrolling and confirming two-factor, which every hub account must use),
 * as the drill and the tests do it.
 */
import { generateSync } from 'otplib';
import { openStore } from '@steadfast/store';
import { hubRoles, type HubRole } from '@steadfast/domain/region';
import { Accounts } from '../auth/accounts.ts';
import { hubStaffMigrations } from './hub-staff.ts';

export async function addHubUser(databaseUrl: string, user: { username: string; role: string; password: string; name?: string }): Promise<{ username: string; role: string }> {
  const store = await openStore({ url: databaseUrl, nodeId: 'hub', practice: 'HUB', migrations: hubStaffMigrations });
  try {
    return await new Accounts(store, { roles: hubRoles }).addUser({ username: user.username, role: user.role as HubRole, password: user.password, ...(user.name ? { name: user.name } : {}) });
  } finally {
    await store.close();
  }
}

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });

/** Sign in a new hub account, enrol and confirm two-factor: the session token and the two-factor secret. */
export async function firstSignIn(hubUrl: string, username: string, password: string): Promise<{ token: string; secret: string }> {
  const login = await post(`${hubUrl}/api/auth/login`, { username, password });
  if (login.status !== 200) throw new Error(`hub login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const enrol = await post(`${hubUrl}/api/auth/2fa/enrol`, {}, token);
  const { secret } = (await enrol.json()) as { secret: string };
  const confirm = await post(`${hubUrl}/api/auth/2fa/confirm`, { code: generateSync({ secret, epoch: Math.floor(Date.now() / 1000) }) }, token);
  if (confirm.status !== 200) throw new Error(`hub 2FA confirm failed: ${confirm.status} ${await confirm.text()}`);
  return { token, secret };
}
