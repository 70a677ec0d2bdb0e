import { useEffect, useState } from 'react';
import { fhirRead, fhirSearch, load, type Loaded } from '../api.ts';
import type {
  AllergyIntolerance,
  Appointment,
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
import { seesClinical, type Role } from '../session.ts';

export interface PatientRecordData {
  patient: Loaded<Patient>;
  gp: Loaded<string>;
  allergies: Loaded<AllergyIntolerance[]>;
  flags: Loaded<Flag[]>;
  appointments: Loaded<Appointment[]>;
  conditions: Loaded<Condition[]>;
  medications: Loaded<MedicationRequest[]>;
  observations: Loaded<Observation[]>;
  encounters: Loaded<Encounter[]>;
  reports: Loaded<DiagnosticReport[]>;
  documents: Loaded<DocumentReference[]>;
}

const loading = { state: 'loading' } as const;
const forbidden = { state: 'forbidden' } as const;

const emptyRecord: PatientRecordData = {
  patient: loading,
  gp: loading,
  allergies: loading,
  flags: loading,
  appointments: loading,
  conditions: loading,
  medications: loading,
  observations: loading,
  encounters: loading,
  reports: loading,
  documents: loading,
};

async function registeredGp(p: Patient): Promise<string> {
  const ref = p.generalPractitioner?.[0];
  if (!ref) return 'Not recorded';
  if (ref.display) return ref.display;
  const [type, id] = (ref.reference ?? '').split('/');
  if (!type || !id) return 'Not recorded';
  const r = await fhirRead<Resource & { name?: unknown }>(type, id);
  if (r.resourceType === 'Organization') return (r as { name?: string }).name ?? 'Not recorded';
  const n = (r as { name?: Array<{ text?: string; prefix?: string[]; given?: string[]; family?: string }> }).name?.[0];
  return n ? (n.text ?? [n.prefix?.[0], ...(n.given ?? []), n.family].filter(Boolean).join(' ')) : 'Not recorded';
}

/**
 * Loads everything the record screens show, in parallel. Receptionists never ask for clinical types
 * (the node would refuse with 403, and an asked-and-refused read is noise in the audit trail); a 403
 * that arrives anyway is shown as "not available to your role", never as an error.
 */
export function usePatientRecord(patientId: string, role: Role, reloadKey = 0, emergency = false): PatientRecordData {
  const [data, setData] = useState<PatientRecordData>(emptyRecord);
  useEffect(() => {
    let stale = false;
    setData(emptyRecord);
    const put = <K extends keyof PatientRecordData>(key: K, value: PatientRecordData[K]) => {
      if (!stale) setData((d) => ({ ...d, [key]: value }));
    };
    const subject = `Patient/${patientId}`;
    const many = <T extends Resource>(type: string, params: Record<string, string>) => load(() => fhirSearch<T>(type, { ...params, _count: '200' }));
    void load(() => fhirRead<Patient>('Patient', patientId)).then((p) => {
      put('patient', p);
      if (p.state === 'ok') void load(() => registeredGp(p.value)).then((gp) => put('gp', gp));
      else put('gp', { state: 'error', message: 'patient not loaded' });
    });
    void many<AllergyIntolerance>('AllergyIntolerance', { patient: subject }).then((v) => put('allergies', v));
    void many<Flag>('Flag', { patient: subject }).then((v) => put('flags', v));
    void many<Appointment>('Appointment', { patient: subject }).then((v) => put('appointments', v));
    // Under emergency access (break-glass) the node lets this user read the clinical record too.
    if (seesClinical(role) || emergency) {
      void many<Condition>('Condition', { patient: subject }).then((v) => put('conditions', v));
      void many<MedicationRequest>('MedicationRequest', { patient: subject }).then((v) => put('medications', v));
      void many<Observation>('Observation', { patient: subject }).then((v) => put('observations', v));
      void many<Encounter>('Encounter', { patient: subject }).then((v) => put('encounters', v));
      void many<DiagnosticReport>('DiagnosticReport', { patient: subject }).then((v) => put('reports', v));
      void many<DocumentReference>('DocumentReference', { patient: subject }).then((v) => put('documents', v));
    } else {
      for (const key of ['conditions', 'medications', 'observations', 'encounters', 'reports', 'documents'] as const) put(key, forbidden);
    }
    return () => {
      stale = true;
    };
  }, [patientId, role, reloadKey, emergency]);
  return data;
}
