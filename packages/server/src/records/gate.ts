/**
 * The access decision for one patient's record: the role (domain `canAccess`), whether the patient is
 * marked sensitive (Confidentiality R/V on the Patient) and whether the user holds an active
 * break-glass grant for that patient in this session (domain `recordAccess`). A refusal that
 * emergency access could lift says so: 403 with the header `x-steadfast-break-glass: Patient/<id>`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Patient, Resource, Task } from '@medplum/fhirtypes';
import { checkTaskChange } from '@steadfast/domain/tasks';
import {
  canAccess,
  isRestrictedPatient,
  mayChangeConfidentiality,
  patientReferenceParam,
  recordAccess,
  SteadfastError,
  type Access,
  type Role,
  type SupportedResourceType,
} from '@steadfast/domain';
import type { SearchRequest } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { breakGlassOf, type BreakGlassGrant } from '../breakglass/grants.ts';
import { assertAccess } from './access.ts';

export const BREAK_GLASS_HEADER = 'x-steadfast-break-glass';

/** A 403 that emergency access could lift; the web app offers "Emergency access" on it. */
export class BreakGlassNeeded extends SteadfastError {
  readonly patient: string;
  constructor(patient: string, why: string) {
    super('forbidden', `${why}; emergency access (break-glass) is available for ${patient}`, {
      hint: `POST /api/break-glass {"patientId": "${patient.slice('Patient/'.length)}", "reason": "..."} for time-limited, audited access`,
    });
    this.patient = patient;
  }
}

/** Is the Patient `Patient/id` marked sensitive? (`known` when the caller already holds it.) */
export async function patientRestricted(deps: AppDeps, patient: string, known?: Resource): Promise<boolean> {
  if (known?.resourceType === 'Patient') return isRestrictedPatient(known as Patient);
  const stored = await deps.store.read('Patient', patient.slice('Patient/'.length));
  return Boolean(stored && !stored.deleted && isRestrictedPatient(stored.resource as Patient));
}

/**
 * Decide one access. Returns the grant used when the access needed one (undefined when the role alone
 * allows it); throws 403 otherwise (a BreakGlassNeeded when a grant would lift the refusal).
 */
export async function gateRecord(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  type: SupportedResourceType,
  access: Access,
  patient: string | undefined,
  known?: Resource,
): Promise<BreakGlassGrant | undefined> {
  const user = request.user;
  if (!patient) {
    assertAccess(user, type, access);
    return undefined;
  }
  const restricted = await patientRestricted(deps, patient, known);
  const byRole = canAccess(user.role, type, access);
  if (byRole && !restricted) return undefined;
  const grant = await breakGlassOf(deps).active(user, request.authToken, patient);
  const decision = recordAccess({ role: user.role, type, access, restricted, granted: Boolean(grant) });
  if (decision === 'allowed') return grant;
  if (decision === 'refused') {
    assertAccess(user, type, access);
    throw new SteadfastError('forbidden', `Your role (${user.role}) may not ${access === 'read' ? 'see' : 'change'} ${type} records`);
  }
  void reply.header(BREAK_GLASS_HEADER, patient);
  throw new BreakGlassNeeded(patient, restricted ? `${patient} is a sensitive record` : `${type} records are clinical; your role (${user.role}) may not see them`);
}

/** The one patient a search is limited to (`patient=<id>` or `subject=Patient/<id>`), if any. */
export function searchedPatient(type: SupportedResourceType, search: SearchRequest): string | undefined {
  const names = new Set([patientReferenceParam[type], 'subject'].filter(Boolean));
  if (type === 'Patient') names.add('_id');
  const found = search.params.filter((p) => names.has(p.name) && !p.modifier);
  const values = [...new Set(found.flatMap((p) => p.values))];
  if (found.length === 0 || values.length !== 1) return undefined;
  const v = values[0]!;
  const id = v.startsWith('Patient/') ? v.slice('Patient/'.length) : v;
  return /^[A-Za-z0-9\-.]{1,64}$/.test(id) ? `Patient/${id}` : undefined;
}

/** A sensitive Patient as a search shows it without a grant: enough to pick the right person, nothing more. */
export function subsettedPatient(p: Patient): Patient {
  return {
    resourceType: 'Patient',
    ...(p.id ? { id: p.id } : {}),
    meta: {
      ...(p.meta?.versionId ? { versionId: p.meta.versionId } : {}),
      ...(p.meta?.lastUpdated ? { lastUpdated: p.meta.lastUpdated } : {}),
      ...(p.meta?.security ? { security: p.meta.security } : {}),
      tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'Sensitive record: open with emergency access' }],
    },
    ...(p.identifier ? { identifier: p.identifier } : {}),
    ...(p.name ? { name: p.name } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.gender ? { gender: p.gender } : {}),
  };
}

/** 403 when a receptionist adds or removes the sensitive mark of a Patient. */
/** A Task change through the FHIR API must not take a clinician's review off their list (domain tasks.ts). */
export function checkTaskChangeOf(role: Role, before: Resource | undefined, after: Resource | undefined, type: string): void {
  if (type !== 'Task') return;
  checkTaskChange(role, before as Task | undefined, after as Task | undefined);
}

export function checkConfidentialityChange(role: Parameters<typeof mayChangeConfidentiality>[0], before: Resource | undefined, after: Resource): void {
  if (after.resourceType !== 'Patient') return;
  const was = before?.resourceType === 'Patient' && isRestrictedPatient(before as Patient);
  const now = isRestrictedPatient(after as Patient);
  if (was === now || mayChangeConfidentiality(role)) return;
  throw new SteadfastError('forbidden', `Only a clinician or practice administrator may ${now ? 'mark this record sensitive' : 'remove the sensitive mark from this record'}`, {
    field: 'Patient.meta.security',
    hint: was ? 'Keep Patient.meta.security as you read it' : 'Ask a clinician to mark the record sensitive',
  });
}
