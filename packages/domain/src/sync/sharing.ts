/**
 * Sharing one patient's record with another practice (for example the PCN's extended-access hub, or a
 * neighbouring practice covering during an outage). The decision is a FHIR Consent in the owning
 * practice's record, so it is written, audited, replicated and withdrawn like any other entry; the hub
 * reads the current version of each such Consent to decide what another practice may pull, and that
 * practice's node keeps a read-only copy of the patient's compartment.
 */
import type { Consent, Resource } from '@medplum/fhirtypes';
import { ODS_SYSTEM } from '../fhir/validate.ts';
import { patientReferenceParam, type SupportedResourceType } from '../fhir/resource-types.ts';
import { searchParameters } from '../search/parameters.ts';
import { SHARING_CATEGORY_SYSTEM } from '../systems.ts';

/** Marks a Consent as a Steadfast record-sharing decision (its category). */
export const SHARING_CATEGORY_CODE = 'record-sharing';

export interface ShareGrant {
  patientId: string;
  /** ODS code of the practice the record is shared with. */
  withPractice: string;
  /** Why (shown to both practices), e.g. "Extended access appointments". */
  reason: string;
  /** When the sharing starts (ISO instant). */
  start: string;
}

/** The Consent that records a decision to share a patient's record with another practice. */
export function shareConsent(grant: ShareGrant): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] },
    category: [{ coding: [{ system: SHARING_CATEGORY_SYSTEM, code: SHARING_CATEGORY_CODE, display: 'Share the record with another practice' }], text: grant.reason }],
    patient: { reference: `Patient/${grant.patientId}` },
    dateTime: grant.start,
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN', display: 'opt-in' }] },
    provision: {
      type: 'permit',
      period: { start: grant.start },
      actor: [
        {
          role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
          reference: { identifier: { system: ODS_SYSTEM, value: grant.withPractice }, display: grant.withPractice },
        },
      ],
      action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access', display: 'Access' }] }],
    },
  };
}

export interface ShareState {
  consentId: string;
  patientId: string;
  withPractice: string;
  /** Permitting now: status active, a permit provision, and not past its end. */
  active: boolean;
  /** When the permission ends, if it does (provision.period.end). */
  endsAt?: string;
  reason: string;
}

/** A sharing decision read from a Consent, or undefined when the Consent is not one. */
export function readShareConsent(resource: Resource | null | undefined, now = new Date()): ShareState | undefined {
  if (!resource || resource.resourceType !== 'Consent' || !resource.id) return undefined;
  const consent = resource as Consent;
  const category = consent.category?.find((c) => c.coding?.some((k) => k.system === SHARING_CATEGORY_SYSTEM && k.code === SHARING_CATEGORY_CODE));
  const patientId = consent.patient?.reference?.startsWith('Patient/') ? consent.patient.reference.slice('Patient/'.length) : undefined;
  const withPractice = consent.provision?.actor?.find((a) => a.reference?.identifier?.system === ODS_SYSTEM)?.reference?.identifier?.value;
  if (!category || !patientId || !withPractice) return undefined;
  const end = consent.provision?.period?.end;
  const active = consent.status === 'active' && consent.provision?.type === 'permit' && (!end || Date.parse(end) > now.getTime());
  return { consentId: consent.id!, patientId, withPractice, active, ...(end && !Number.isNaN(Date.parse(end)) ? { endsAt: new Date(end).toISOString() } : {}), reason: category.text ?? '' };
}

/**
 * The patients whose compartment a resource belongs to (ids): a Patient itself, or whatever its
 * patient search parameter points at. Shared with another practice means all of these travel.
 */
export function patientsOf(resource: Resource): string[] {
  if (resource.resourceType === 'Patient') return resource.id ? [resource.id] : [];
  const param = patientReferenceParam[resource.resourceType as SupportedResourceType];
  const def = param ? searchParameters[resource.resourceType as SupportedResourceType]?.[param] : undefined;
  if (!def) return [];
  const ids = new Set<string>();
  for (const ref of def.extract(resource as unknown as Record<string, unknown>)) {
    const reference = (ref as { reference?: unknown })?.reference;
    if (typeof reference === 'string' && reference.startsWith('Patient/')) ids.add(reference.slice('Patient/'.length));
  }
  return [...ids];
}
