import { createContext, useContext } from 'react';

export type Role = 'receptionist' | 'clinician' | 'practice-admin';

export interface User {
  id: string;
  username: string;
  name: string;
  role: Role;
  workstation?: string;
}

export const roleLabel: Record<Role, string> = {
  receptionist: 'Receptionist',
  clinician: 'Clinician',
  'practice-admin': 'Practice administrator',
};

/** Receptionists see demographics, alerts, allergies and appointments only. */
export function seesClinical(role: Role): boolean {
  return role === 'clinician' || role === 'practice-admin';
}

export interface Session {
  user: User;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in screen');
  return s;
}
