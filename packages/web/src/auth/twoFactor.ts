/** Two-factor sign-in calls (server: packages/server/src/auth/twofactor-routes.ts). */
import { api, getWorkstation } from '../api.ts';
import type { User } from '../session.ts';
import type { TwoFactorStatus } from '@steadfast/domain/api';

export type { TwoFactorStatus };

export interface Enrolment {
  secret: string;
  otpauthUri: string;
  qrDataUrl: string;
}

/** The password step: a signed-in user, or a challenge that needs a code. */
export type PasswordStep = { user: User } | { challenge: string };

export async function passwordStep(username: string, password: string): Promise<PasswordStep> {
  const r = await api<{ token?: string; user?: User; twoFactorRequired?: boolean; challenge?: string }>('/api/auth/login', {
    method: 'POST',
    json: { username, password, workstation: getWorkstation() },
  });
  if (r.twoFactorRequired && r.challenge) return { challenge: r.challenge };
  return { user: r.user! };
}

export async function codeStep(challenge: string, proof: { code: string } | { recoveryCode: string }): Promise<{ user: User; recoveryCodesLeft?: number }> {
  return api('/api/auth/login/2fa', { method: 'POST', json: { challenge, ...proof } });
}

export const twoFactorStatus = () => api<TwoFactorStatus>('/api/auth/2fa');
export const beginEnrolment = () => api<Enrolment>('/api/auth/2fa/enrol', { method: 'POST', json: {} });
export const confirmEnrolment = (code: string) => api<{ recoveryCodes: string[] }>('/api/auth/2fa/confirm', { method: 'POST', json: { code } });

/** "JBSWY3DPEHPK3PXP…" → "JBSW Y3DP EHPK 3PXP …" for typing into an app by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}
