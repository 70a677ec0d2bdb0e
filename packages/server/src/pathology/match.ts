/**
 * Patient matching for a result: NHS number, confirmed by family name and date of birth; or the
 * patient a person chose for an unmatched result. Ingest never writes a Patient.
 */
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError, normaliseString } from '@steadfast/domain';
import type { StoreTransaction } from '@steadfast/store';
import type { ResultPatient } from './oru.ts';

/** Patients by NHS number, fetched for a whole batch at once (ingest never writes a Patient). */
export type PatientsByNhsNumber = Map<string, Patient[]>;

/**
 * Match by NHS number, confirmed by family name and date of birth. Anything short of all three
 * agreeing leaves the message for a person: a result filed to the wrong record is the worst outcome.
 */
export async function matchPatient(tx: Pick<StoreTransaction, 'search'>, pid: ResultPatient, prefetched?: PatientsByNhsNumber): Promise<{ patient?: Patient; reason: string }> {
  if (!pid.nhsNumber) {
    return { reason: pid.invalidNhsNumber ? `NHS number "${pid.invalidNhsNumber}" in PID-3 fails the Modulus 11 check` : 'No NHS number in PID-3 (^^^NHS^NH)' };
  }
  const candidates = prefetched?.get(pid.nhsNumber) ?? (await patientsByNhsNumber(tx, [pid.nhsNumber])).get(pid.nhsNumber) ?? [];
  if (candidates.length === 0) return { reason: `No patient registered with NHS number ${pid.nhsNumber}` };
  if (candidates.length > 1) return { reason: `More than one record has NHS number ${pid.nhsNumber}` };
  const patient = candidates[0]!;
  const families = (patient.name ?? []).map((n) => normaliseString(n.family ?? '')).filter(Boolean);
  if (!pid.family || !families.includes(normaliseString(pid.family))) {
    return { reason: `NHS number ${pid.nhsNumber} matches a patient whose family name differs from "${pid.family}"` };
  }
  if (!pid.birthDate || patient.birthDate !== pid.birthDate) {
    return { reason: `NHS number ${pid.nhsNumber} matches a patient whose date of birth differs from ${pid.birthDate ?? '(none sent)'}` };
  }
  return { patient, reason: '' };
}

/** Every record holding each of these NHS numbers, in one search (up to 2 per number: more is already a problem). */
export async function patientsByNhsNumber(tx: Pick<StoreTransaction, 'search'>, nhsNumbers: string[]): Promise<PatientsByNhsNumber> {
  const wanted = [...new Set(nhsNumbers)];
  const found: PatientsByNhsNumber = new Map(wanted.map((n) => [n, []]));
  if (!wanted.length) return found;
  const page = await tx.search({
    resourceType: 'Patient',
    params: [{ name: 'identifier', values: wanted.map((n) => `${NHS_NUMBER_SYSTEM}|${n}`) }],
    count: Math.min(1000, wanted.length * 2),
    offset: 0,
  });
  if (page.hasMore) {
    // Some number has many records (already a problem for a person): look each number up on its own.
    for (const n of wanted) found.set(n, (await tx.search({ resourceType: 'Patient', params: [{ name: 'identifier', values: [`${NHS_NUMBER_SYSTEM}|${n}`] }], count: 2, offset: 0 })).resources as Patient[]);
    return found;
  }
  for (const patient of page.resources as Patient[]) {
    for (const id of patient.identifier ?? []) {
      if (id.system === NHS_NUMBER_SYSTEM && id.value && found.has(id.value)) found.get(id.value)!.push(patient);
    }
  }
  return found;
}

export async function confirmedMatch(tx: Pick<StoreTransaction, 'read'>, patientId: string): Promise<{ patient?: Patient; reason: string }> {
  const stored = await tx.read('Patient', patientId);
  if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${patientId} was not found`, { field: 'patientId' });
  return { patient: stored.resource as Patient, reason: '' };
}
