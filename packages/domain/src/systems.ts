/**
 * Every identifier system, code system and extension URL that Steadfast itself mints, in one place,
 * under one base. A system written by one capability and read by another must be the same string:
 * three spellings of the staff-user system once made a pathology result Task owned by its requester
 * look unassigned. National systems (NHS number, SNOMED CT, ODS) live in `./nhs-number` and `./codes`.
 *
 * Browser-safe (no I/O): the web app imports it as `@steadfast/domain/systems`.
 */
export const STEADFAST_FHIR_BASE = 'https://fhir.steadfast.health';

// ---- identifier systems ---------------------------------------------------------------------------
/** A staff account's id: Task.owner / requester, ServiceRequest.requester, AuditEvent.agent. */
export const STAFF_USER_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/user`;
/** Placer order number (the practice's pathology request number, OBR-2 / ORC-2). */
export const PLACER_ORDER_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/placer-order-number`;
/** Filler order number (the laboratory's accession number, OBR-3). */
export const FILLER_ORDER_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/filler-order-number`;
/** Records written by `steadfast drill`, so the drill's checks can find exactly its own records. */
export const DRILL_IDENTIFIER_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/drill`;
/** The diary session (appointments/sessions.ts) a Slot was made by, on Slot.identifier. */
export const DIARY_SESSION_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/diary-session`;

// ---- code systems -----------------------------------------------------------------------------------
/** The practice's pathology test catalogue codes (FBC, UE...). */
export const PATHOLOGY_TEST_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/pathology-test`;
/** HL7 v2 OBX-8 abnormal flags as the laboratory sent them. */
export const PATHOLOGY_FLAG_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/pathology-flag`;
/** A laboratory's own analyte codes (OBX-3) when they are not SNOMED CT. */
export const LAB_CODE_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/lab-code`;
/** Kinds of work Task (result review, sync conflict review...). */
export const TASK_CODE_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/task-code`;
/** Consent categories for sharing a record with another practice. */
export const SHARING_CATEGORY_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/consent-category`;
/** Audit event kinds (read, search, login...) as AuditEvent.subtype. */
export const AUDIT_EVENT_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/audit-event`;

// ---- extensions -------------------------------------------------------------------------------------
/** The free-text sections of a consultation (history, examination, plan) on an Encounter. */
export const CONSULTATION_NOTE_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/consultation-note`;
/** The date a patient registered with the practice. */
export const REGISTRATION_DATE_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/registration-date`;
export const AUDIT_SEQUENCE_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/audit-sequence`;
export const AUDIT_PREV_HASH_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/audit-prev-hash`;
export const AUDIT_HASH_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/audit-hash`;

/** A Steadfast reference to a staff account, as Task.owner or a requester. */
export function staffReference(user: { id: string; name: string }): { identifier: { system: string; value: string }; display: string } {
  return { identifier: { system: STAFF_USER_SYSTEM, value: user.id }, display: user.name };
}

/** The staff account id of a reference written by staffReference, or undefined. */
export function staffIdOf(ref: { identifier?: { system?: string; value?: string } } | undefined): string | undefined {
  return ref?.identifier?.system === STAFF_USER_SYSTEM ? ref.identifier.value : undefined;
}

// ---- online consultations -----------------------------------------------------------------------------
/** The id the patient's device made for an online consultation submission (QuestionnaireResponse.identifier). */
export const OC_SUBMISSION_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/online-consultation-submission`;
/** The reference number given to the patient ("OC-7K3M-Q9TD"). */
export const OC_REFERENCE_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/online-consultation-reference`;
/** Where a submission was taken: the practice's node or the regional hub. */
export const OC_RECEIVED_VIA_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/online-consultation-received-via`;
// ---- messaging (GOV.UK Notify) -----------------------------------------------------------------------
/** On a Patient: consent to be sent text messages (valueBoolean). Absent = not asked, treated as no. */
export const SMS_CONSENT_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/sms-consent`;
/** On a Patient: the practice must not message this patient at all (valueBoolean). */
export const DO_NOT_CONTACT_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/do-not-contact`;
/** On a Patient: a reasonable adjustment for communication, e.g. "large print letters" (valueString, repeated). */
export const REASONABLE_ADJUSTMENT_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/reasonable-adjustment`;
/** On a Communication: GOV.UK Notify's delivery status (valueCode: queued, sending, delivered, permanent-failure, ...). */
export const DELIVERY_STATUS_EXTENSION = `${STEADFAST_FHIR_BASE}/StructureDefinition/delivery-status`;
/** Communication.category: what the message was for (appointment-reminder, result-normal, broadcast, ...). */
export const MESSAGE_CATEGORY_SYSTEM = `${STEADFAST_FHIR_BASE}/CodeSystem/message-category`;
/** Communication.identifier: the outbox message that carries it (also Notify's `reference`). */
export const OUTBOX_MESSAGE_SYSTEM = `${STEADFAST_FHIR_BASE}/Id/outbox-message`;
