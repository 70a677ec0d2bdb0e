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

/** HL7 v3 Confidentiality codes; `R` (restricted) or `V` (very restricted) on a Patient makes the whole record sensitive. */
export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const restrictedCodes = new Set(['R', 'V']);

/** Is this Patient marked sensitive (a staff member's or VIP's record, or a patient-requested restriction)? */
export function isRestrictedPatient(patient: { meta?: { security?: Array<{ system?: string; code?: string }> } } | undefined): boolean {
  return Boolean(patient?.meta?.security?.some((s) => s.system === CONFIDENTIALITY_SYSTEM && restrictedCodes.has(s.code ?? '')));
}

/** Only clinicians and practice-admins may mark a record sensitive or lift the mark. */
export function mayChangeConfidentiality(role: Role): boolean {
  return role === 'clinician' || role === 'practice-admin';
}

/**
 * The answer for one access to one patient's record:
 * - `allowed`: the role allows it and the record is not sensitive, or an active break-glass grant covers it;
 * - `break-glass`: refused now, but the user may ask for emergency access (a reason, time-limited, audited);
 * - `refused`: not even with break-glass (writes beyond the role, the audit trail).
 *
 * Break-glass widens reads only: a receptionist with a grant may read the clinical record of that one
 * patient; writes stay limited to the role. On a sensitive record every access, even within the role,
 * needs a grant; no user is exempt (users are not linked to the patient's registered GP).
 */
export type RecordDecision = 'allowed' | 'break-glass' | 'refused';

export function recordAccess(input: { role: Role; type: SupportedResourceType; access: Access; restricted: boolean; granted: boolean }): RecordDecision {
  const { role, type, access, restricted, granted } = input;
  if (sensitivity[type] === 'audit') return canAccess(role, type, access) ? 'allowed' : 'refused';
  const byRole = canAccess(role, type, access);
  if (access === 'write') {
    if (!byRole) return 'refused';
    return !restricted || granted ? 'allowed' : 'break-glass';
  }
  if (byRole && !restricted) return 'allowed';
  return granted ? 'allowed' : 'break-glass';
}

/**
 * Online consultation triage, action by action. Receptionists work as care navigators: they may
 * match, assign and route every request, and deal with admin requests end to end, but they must not
 * triage a clinical request (set its urgency or category, reply, book from it or close it): that needs
 * a clinician (or a practice-admin). Starting a consultation is clinical whatever the request.
 */
export const consultationActions = ['view', 'match', 'assign', 'triage', 'reply', 'book', 'close', 'consult'] as const;
export type ConsultationAction = (typeof consultationActions)[number];

/** Care-navigator actions on a clinical request: identifying the patient and routing it to a clinician. */
const NAVIGATOR_CLINICAL: ReadonlySet<ConsultationAction> = new Set(['view', 'match', 'assign']);

/**
 * A request is clinical when any red flag was raised, when it was categorised clinical, or (until a
 * clinician re-categorises it) when the patient sent it as a medical request.
 */
export function isClinicalRequest(r: { kind: 'medical' | 'admin'; category?: string | null; redFlags: readonly string[] }): boolean {
  if (r.redFlags.length) return true;
  if (r.category) return r.category === 'clinical';
  return r.kind === 'medical';
}

export function mayActOnConsultation(role: Role, action: ConsultationAction, request: { kind: 'medical' | 'admin'; category?: string | null; redFlags: readonly string[] }): boolean {
  if (role === 'clinician' || role === 'practice-admin') return true;
  if (action === 'consult') return false;
  return !isClinicalRequest(request) || NAVIGATOR_CLINICAL.has(action);
}
