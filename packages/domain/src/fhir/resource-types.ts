/**
 * The FHIR R4 resource types a Steadfast practice record holds, and how sensitive each is.
 * `clinical` types hold clinical text or findings and are never shown to receptionists.
 */
export const resourceTypes = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'Encounter',
  'Condition',
  'Observation',
  'AllergyIntolerance',
  'MedicationRequest',
  'Appointment',
  'Schedule',
  'Slot',
  'ServiceRequest',
  'Specimen',
  'DiagnosticReport',
  'DocumentReference',
  'Binary',
  'Communication',
  'Task',
  'QuestionnaireResponse',
  'Flag',
  'Consent',
  'AuditEvent',
] as const;

export type SupportedResourceType = (typeof resourceTypes)[number];

export function isSupportedResourceType(type: string): type is SupportedResourceType {
  return (resourceTypes as readonly string[]).includes(type);
}

export type Sensitivity = 'demographic' | 'administrative' | 'clinical' | 'audit';

export const sensitivity: Record<SupportedResourceType, Sensitivity> = {
  Patient: 'demographic',
  Practitioner: 'administrative',
  PractitionerRole: 'administrative',
  Organization: 'administrative',
  Location: 'administrative',
  Appointment: 'administrative',
  Schedule: 'administrative',
  Slot: 'administrative',
  Task: 'administrative',
  Communication: 'administrative',
  // Alerts and allergies are shown on every screen, to receptionists too, because they affect how
  // the patient must be handled (e.g. "violent patient", "needs interpreter", "penicillin allergy").
  Flag: 'demographic',
  AllergyIntolerance: 'demographic',
  Encounter: 'clinical',
  Condition: 'clinical',
  Observation: 'clinical',
  MedicationRequest: 'clinical',
  ServiceRequest: 'clinical',
  Specimen: 'clinical',
  DiagnosticReport: 'clinical',
  DocumentReference: 'clinical',
  // The bytes of a filed document (its DocumentReference points at it): as sensitive as the letter.
  Binary: 'clinical',
  QuestionnaireResponse: 'clinical',
  // A decision to share a patient's record with another practice: made and read by clinicians.
  Consent: 'clinical',
  AuditEvent: 'audit',
};

/** Resource types whose instances belong to one patient (the compartment), via this search parameter. */
export const patientReferenceParam: Partial<Record<SupportedResourceType, string>> = {
  Encounter: 'patient',
  Condition: 'patient',
  Observation: 'patient',
  AllergyIntolerance: 'patient',
  MedicationRequest: 'patient',
  Appointment: 'patient',
  ServiceRequest: 'patient',
  Specimen: 'patient',
  DiagnosticReport: 'patient',
  DocumentReference: 'patient',
  Communication: 'patient',
  Task: 'patient',
  QuestionnaireResponse: 'patient',
  Flag: 'patient',
  Consent: 'patient',
};
