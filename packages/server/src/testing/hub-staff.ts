/** Hub staff for tests: an account of a hub role, enrolled in two-factor sign-in, and its token. */
import { generateSync } from 'otplib';
import type { HubRole } from '@steadfast/domain/region';
import type { RunningHub } from '../hub/index.ts';

export const HUB_STAFF_PASSWORD = 'a long enough hub password';

const post = (url: string, body: unknown, token?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });

/** Create `username` with `role` at the hub, sign in, enrol and confirm two-factor; returns the session token. */
export async function hubStaffToken(hub: RunningHub, username: string, role: HubRole): Promise<string> {
  await hub.staff.accounts.addUser({ username, password: HUB_STAFF_PASSWORD, role, name: `Test ${role}` });
  const login = await post(`${hub.url}/api/auth/login`, { username, password: HUB_STAFF_PASSWORD });
  if (login.status !== 200) throw new Error(`hub login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const enrol = await post(`${hub.url}/api/auth/2fa/enrol`, {}, token);
  const { secret } = (await enrol.json()) as { secret: string };
  const confirm = await post(`${hub.url}/api/auth/2fa/confirm`, { code: generateSync({ secret, epoch: Math.floor(Date.now() / 1000) }) }, token);
  if (confirm.status !== 200) throw new Error(`hub 2FA confirm failed: ${confirm.status} ${await confirm.text()}`);
  return token;
}
