/**
 * A shared record arrives as one Bundle of the patient's resources (GET /api/shared/:owner/:patientId);
 * the record screens take the same shape as for the practice's own patients, so a shared record is
 * shown with the same banner, summary, timeline and documents.
 */
import type {
  AllergyIntolerance,
  Appointment,
  Bundle,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Flag,
  MedicationRequest,
  Observation,
  Patient,
  Resource,
} from '../fhirTypes.ts';
import type { PatientRecordData } from '../record/usePatientRecord.ts';

export function recordFromBundle(bundle: Bundle): PatientRecordData | undefined {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => Boolean(r));
  const of = <T extends Resource>(type: string) => ({ state: 'ok' as const, value: resources.filter((r) => r.resourceType === type) as T[] });
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
  if (!patient) return undefined;
  return {
    patient: { state: 'ok', value: patient },
    gp: { state: 'ok', value: patient.generalPractitioner?.[0]?.display ?? 'Not recorded' },
    allergies: of<AllergyIntolerance>('AllergyIntolerance'),
    flags: of<Flag>('Flag'),
    appointments: of<Appointment>('Appointment'),
    conditions: of<Condition>('Condition'),
    medications: of<MedicationRequest>('MedicationRequest'),
    observations: of<Observation>('Observation'),
    encounters: of<Encounter>('Encounter'),
    reports: of<DiagnosticReport>('DiagnosticReport'),
    documents: of<DocumentReference>('DocumentReference'),
  };
}
