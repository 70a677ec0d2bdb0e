/**
 * Which patient a resource concerns, and the checks that keep one patient's record from pointing at
 * a patient who does not exist or two records from sharing one NHS number.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  NHS_NUMBER_SYSTEM,
  normaliseString,
  patientReferenceParam,
  searchParameters,
  SteadfastError,
  type SupportedResourceType,
} from '@steadfast/domain';
import type { StoreTransaction } from '@steadfast/store';

type AnyResource = Record<string, any>;

/** `Patient/id` of the patient a resource belongs to, if any. */
export function patientOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id ? `Patient/${resource.id}` : undefined;
  const param = patientReferenceParam[resource.resourceType as SupportedResourceType];
  if (!param) return undefined;
  const def = searchParameters[resource.resourceType as SupportedResourceType]?.[param];
  for (const raw of def?.extract(resource as AnyResource) ?? []) {
    const ref = (raw as AnyResource)?.reference;
    if (typeof ref === 'string' && ref.startsWith('Patient/')) return ref;
  }
  return undefined;
}

/** Where in a resource each patient reference sits, for error messages (`Observation.subject`). */
const patientFields = ['subject', 'patient', 'for', 'beneficiary'];

/** Every `Patient/...` reference in the resource's reference search parameters, with the element it came from. */
function patientReferences(resource: Resource): Array<{ reference: string; field: string }> {
  const type = resource.resourceType as SupportedResourceType;
  const defs = searchParameters[type] ?? {};
  const found = new Map<string, string>();
  for (const def of Object.values(defs)) {
    if (def.kind !== 'reference') continue;
    for (const raw of def.extract(resource as AnyResource)) {
      const ref = (raw as AnyResource)?.reference;
      if (typeof ref !== 'string' || !ref.startsWith('Patient')) continue;
      if (found.has(ref)) continue;
      const key = patientFields.find((k) => JSON.stringify((resource as AnyResource)[k] ?? null).includes(JSON.stringify(ref)));
      found.set(ref, key ? `${type}.${key}` : type === 'Appointment' ? 'Appointment.participant.actor' : `${type}`);
    }
  }
  return [...found].map(([reference, field]) => ({ reference, field }));
}

/** Throw 400 naming the field when a patient reference is malformed or the patient does not exist. */
export async function checkPatientReferences(
  tx: Pick<StoreTransaction, 'read'>,
  resource: Resource,
  known?: { has(ref: string): boolean; add(ref: string): unknown },
): Promise<void> {
  for (const { reference, field } of patientReferences(resource)) {
    if (known?.has(reference)) continue;
    const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
    if (!m) {
      throw new SteadfastError('invalid', `Reference "${reference}" is not of the form Patient/<id>`, { field, hint: 'Refer to the patient as "Patient/<id>"' });
    }
    const found = await tx.read('Patient', m[1]!);
    if (!found || found.deleted) {
      throw new SteadfastError('invalid', `${field} refers to ${reference}, which does not exist${found?.deleted ? ' (it was deleted)' : ''}`, {
        field,
        hint: 'Create the patient first, or check the id (search Patient by NHS number)',
      });
    }
    known?.add(reference);
  }
}

export function nhsNumberOf(resource: Resource): string | undefined {
  if (resource.resourceType !== 'Patient') return undefined;
  return resource.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
}

/**
 * Two Patient resources with one NHS number are the same person only when their details agree. We
 * compare family name and date of birth, the two other identifiers labs and letters rely on.
 */
export function patientDetailsClash(a: Resource, b: Resource): string | undefined {
  if (a.resourceType !== 'Patient' || b.resourceType !== 'Patient') return undefined;
  const family = (p: typeof a) => normaliseString((p.name ?? []).map((n) => n.family ?? '').find(Boolean) ?? '');
  if (a.birthDate && b.birthDate && a.birthDate !== b.birthDate) return `date of birth ${b.birthDate} differs from ${a.birthDate}`;
  if (family(a) && family(b) && family(a) !== family(b)) return `family name differs`;
  return undefined;
}

/** Throw 409 when another (live) Patient already has this resource's NHS number. */
export async function checkNhsNumberUnique(tx: Pick<StoreTransaction, 'search'>, resource: Resource): Promise<void> {
  const nhs = nhsNumberOf(resource);
  if (!nhs) return;
  const index = resource.resourceType === 'Patient' ? (resource.identifier ?? []).findIndex((i) => i.system === NHS_NUMBER_SYSTEM) : 0;
  const page = await tx.search({ resourceType: 'Patient', params: [{ name: 'identifier', values: [`${NHS_NUMBER_SYSTEM}|${nhs}`] }], count: 2, offset: 0 });
  const other = page.resources.find((r) => r.id !== resource.id);
  if (other) {
    throw new SteadfastError('conflict', `NHS number ${nhs} already belongs to Patient/${other.id}`, {
      field: `Patient.identifier[${index}].value`,
      hint: 'Open the existing patient instead of creating another, or correct the NHS number',
    });
  }
}
