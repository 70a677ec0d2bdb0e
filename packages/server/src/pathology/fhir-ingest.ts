/**
 * FHIR R4 result Bundles (DiagnosticReport + Observations + Patient) in: converted to the same result
 * model as HL7 v2 so that matching, de-duplication and filing are one code path, and the same report
 * arriving by MLLP and by the API is still filed once.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, DiagnosticReport, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError, isSteadfastError, isValidNhsNumber, normaliseNhsNumber } from '@steadfast/domain';
import { fileParsed } from './file.ts';
import type { IngestDeps, IngestOutcome, ReprocessOptions } from './outcome.ts';
import type { ResultMessage, ResultObservation, ResultPatient, ResultReport } from './oru.ts';
import { ptx } from './tables.ts';
import { createHash } from 'node:crypto';
import { FILLER_ORDER_SYSTEM, PLACER_ORDER_SYSTEM } from '@steadfast/domain/systems';

const bad = (message: string, field: string, hint: string) => new SteadfastError('invalid', message, { field, hint });

const statusCode: Record<string, string> = { final: 'F', corrected: 'C', amended: 'C', appended: 'C', preliminary: 'P', partial: 'P', registered: 'I', cancelled: 'X' };

export function bundleToResultMessage(input: unknown): ResultMessage {
  const bundle = input as Bundle;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle' || !Array.isArray(bundle.entry)) {
    throw bad('The body is not a FHIR Bundle with entries', 'Bundle', 'Send a Bundle (collection, message or transaction) holding a DiagnosticReport, its Observations and the Patient');
  }
  const resources = bundle.entry.map((e) => e?.resource).filter((r): r is Resource => !!r && typeof r === 'object');
  const byRef = new Map<string, Resource>();
  bundle.entry.forEach((e) => {
    const r = e?.resource;
    if (!r) return;
    if (e.fullUrl) byRef.set(e.fullUrl, r);
    if (r.id) byRef.set(`${r.resourceType}/${r.id}`, r);
  });
  const reports = resources.filter((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport');
  if (!reports.length) throw bad('The Bundle has no DiagnosticReport', 'Bundle.entry', 'Include one DiagnosticReport per report');
  const patients = resources.filter((r): r is Patient => r.resourceType === 'Patient');
  if (patients.length > 1) throw new SteadfastError('not-supported', 'The Bundle carries more than one Patient', { field: 'Bundle.entry', hint: 'Send one patient per Bundle' });
  const patient = patients[0];
  const subjectIdentifier = reports[0]!.subject?.identifier;
  const nhsRaw = patient?.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? (subjectIdentifier?.system === NHS_NUMBER_SYSTEM ? subjectIdentifier.value : undefined);
  const nhs = nhsRaw ? normaliseNhsNumber(nhsRaw) : undefined;
  const name = patient?.name?.[0];
  const pid: ResultPatient = {
    ...(nhs && isValidNhsNumber(nhs) ? { nhsNumber: nhs } : nhs ? { invalidNhsNumber: nhs } : {}),
    otherIds: [],
    family: name?.family ?? '',
    given: name?.given ?? [],
    ...(patient?.birthDate ? { birthDate: patient.birthDate } : {}),
  };
  const lab = reports[0]!.performer?.[0]?.display ?? reports[0]!.performer?.[0]?.identifier?.value ?? '';
  const out: ResultReport[] = reports.map((dr, i) => {
    const where = `DiagnosticReport[${i}]`;
    const filler = dr.identifier?.find((x) => x.system !== PLACER_ORDER_SYSTEM)?.value ?? '';
    const placer = dr.identifier?.find((x) => x.system === PLACER_ORDER_SYSTEM)?.value ?? dr.basedOn?.[0]?.identifier?.value ?? '';
    if (!filler && !placer) throw bad(`${where} has no identifier`, `${where}.identifier`, 'Give the laboratory accession number as DiagnosticReport.identifier');
    const coding = dr.code?.coding?.[0];
    if (!coding?.code && !dr.code?.text) throw bad(`${where} has no code`, `${where}.code`, 'Code the test in DiagnosticReport.code');
    if (!dr.status || !(dr.status in statusCode)) throw bad(`${where} status "${dr.status}" is not a result status`, `${where}.status`, 'Use preliminary, final, amended, corrected or cancelled');
    const observations = (dr.result ?? []).map((ref, j) => {
      const o = (ref.reference ? byRef.get(ref.reference) : undefined) as Observation | undefined;
      if (!o || o.resourceType !== 'Observation') throw bad(`${where}.result[${j}] (${ref.reference}) is not in the Bundle`, `${where}.result[${j}]`, 'Include every referenced Observation in the Bundle');
      return toObservation(o, `${where}.result[${j}]`, statusCode[dr.status] ?? 'F');
    });
    return {
      placerOrderNumber: placer,
      fillerOrderNumber: filler,
      testCode: coding?.code ?? dr.code!.text!,
      testDisplay: coding?.display ?? dr.code?.text ?? coding?.code ?? '',
      testSystem: coding?.system ?? '',
      status: statusCode[dr.status]!,
      ...(dr.effectiveDateTime ? { observedAt: dr.effectiveDateTime } : {}),
      ...(dr.issued ? { reportedAt: dr.issued } : {}),
      orderingProvider: '',
      notes: dr.conclusion ? [dr.conclusion] : [],
      observations,
      attachments: (dr.presentedForm ?? []).filter((a) => a.data).map((a) => ({ contentType: a.contentType ?? 'application/octet-stream', data: a.data!, title: a.title ?? '' })),
    };
  });
  return { header: { lab, sendingApplication: 'fhir-api', messageId: bundle.id ?? '', version: 'R4' }, patient: pid, reports: out };
}

function toObservation(o: Observation, where: string, reportStatus: string): ResultObservation {
  const coding = o.code?.coding?.[0];
  if (!coding?.code && !o.code?.text) throw bad(`${where} has no code`, `${where}.code`, 'Code each Observation');
  let valueType = 'ST';
  let value = '';
  let units = '';
  if (o.valueQuantity) {
    valueType = 'NM';
    value = `${o.valueQuantity.comparator ?? ''}${o.valueQuantity.value ?? ''}`;
    units = o.valueQuantity.unit ?? o.valueQuantity.code ?? '';
  } else if (o.valueCodeableConcept) {
    valueType = 'CE';
    value = [o.valueCodeableConcept.coding?.[0]?.code ?? '', o.valueCodeableConcept.coding?.[0]?.display ?? o.valueCodeableConcept.text ?? ''].join('^');
  } else if (o.valueString !== undefined) value = o.valueString;
  const rr = o.referenceRange?.[0];
  const range = rr?.text ?? (rr?.low?.value !== undefined && rr?.high?.value !== undefined ? `${rr.low.value}-${rr.high.value}` : rr?.high?.value !== undefined ? `<${rr.high.value}` : rr?.low?.value !== undefined ? `>${rr.low.value}` : '');
  return {
    setId: '',
    valueType,
    code: coding?.code ?? o.code!.text!,
    display: coding?.display ?? o.code?.text ?? '',
    codeSystem: coding?.system ?? '',
    value,
    units,
    range,
    flags: (o.interpretation ?? []).map((i) => (i.coding?.[0]?.code ?? i.text ?? '').toUpperCase()).filter(Boolean),
    status: statusCode[o.status] ?? reportStatus,
    ...(o.effectiveDateTime ? { observedAt: o.effectiveDateTime } : {}),
    notes: (o.note ?? []).map((n) => n.text ?? ''),
  };
}

/** Ingest a FHIR Bundle (raw JSON text, so it is kept exactly as received). */
export async function ingestFhirBundle(deps: IngestDeps, raw: string, options: ReprocessOptions = {}): Promise<IngestOutcome> {
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const inboxId = options.reprocessId ?? randomUUID();
  const row = {
    inboxId, raw, source: 'api' as const, receivedAt, format: 'fhir' as const, reprocess: !!options.reprocessId,
    ...(options.confirmedPatientId ? { confirmedPatientId: options.confirmedPatientId, confirmedBy: options.confirmedBy ?? '' } : {}),
  };
  let parsed: ResultMessage;
  try {
    parsed = bundleToResultMessage(JSON.parse(raw));
  } catch (err) {
    const reason = isSteadfastError(err) ? `${err.field ? `${err.field}: ` : ''}${err.message}. ${err.hint ?? ''}` : `The body is not valid JSON: ${(err as Error).message}`;
    const practice = deps.store.practice;
    await deps.store.transaction({ author: 'system:pathology-api' }, async (tx) => {
      const db = ptx(tx);
      if (row.reprocess) {
        await db.updateTable('pathology_inbox').set({ state: 'quarantined', reason, updated_at: receivedAt }).where('practice', '=', practice).where('id', '=', inboxId).execute();
      } else {
        await db
          .insertInto('pathology_inbox')
          .values({
            id: inboxId, practice, received_at: receivedAt, source: 'api', lab: '', message_id: '', format: 'fhir', raw,
            sha256: createHash('sha256').update(raw).digest('hex'), state: 'quarantined', reason, patient_id: null, reports_filed: 0, reports_duplicate: 0, updated_at: receivedAt,
          })
          .execute();
      }
    });
    return { inboxId, state: 'quarantined', reason, ack: 'AR', reports: [], messageId: '' };
  }
  return fileParsed(deps, parsed, row);
}

export { FILLER_ORDER_SYSTEM };
