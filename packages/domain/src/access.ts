import { sensitivity, type SupportedResourceType } from './fhir/resource-types.ts';

export const roles = ['receptionist', 'clinician', 'practice-admin'] as const;
export type Role = (typeof roles)[number];

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export type Access = 'read' | 'write';

/**
 * Least privilege by role. Receptionists work with demographics, alerts, allergies, appointments and
 * tasks; clinicians with the whole record; practice-admins with everything including the audit trail.
 * Audit events are written by the system only, never through the API.
 */
export function canAccess(role: Role, type: SupportedResourceType, access: Access): boolean {
  const s = sensitivity[type];
  if (s === 'audit') return role === 'practice-admin' && access === 'read';
  if (s === 'clinical') return role === 'clinician' || role === 'practice-admin';
  return true;
}

export const roleDescriptions: Record<Role, string> = {
  receptionist: 'Demographics, alerts, allergies, appointments and tasks; no clinical record',
  clinician: 'The whole clinical record',
  'practice-admin': 'The whole record, staff accounts and the audit trail',
};
