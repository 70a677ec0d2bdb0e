/**
 * Filing a parsed message in one store transaction: the raw message, the patient match, each
 * report (created, updated in place, a duplicate or a stale version), its review Task, and the
 * de-duplication keys commit or roll back together. Never filed twice: each report version has a
 * fingerprint (order number, test, status, normalised content), and a report already held is updated
 * in place (same DiagnosticReport id, history kept), never duplicated.
 */
import type { DiagnosticReport, Patient, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { SteadfastError, labelLikePatient, normaliseString } from '@steadfast/domain';
import { deferWrites, isUniqueViolation, type StoreTransaction, type WriteRequest } from '@steadfast/store';
import { PATHOLOGY_TEST_SYSTEM, PLACER_ORDER_SYSTEM } from '@steadfast/domain/systems';
import { bundledCatalogue, findByLabCode, loadCatalogue, type Catalogue } from './catalogue.ts';
import { mapReport, type MappedReport } from './map.ts';
import { confirmedMatch, matchPatient, patientsByNhsNumber, type PatientsByNhsNumber } from './match.ts';
import { parseOru, reportFingerprint, reportKey, statusRank, type ResultMessage, type ResultPatient, type ResultReport } from './oru.ts';
import { ackFor, describe, sha256, type IngestDeps, type IngestOutcome, type InboxRowInput } from './outcome.ts';
import { OPEN_STATES, keepQuarantined, keepUnreadable, writeQuarantined } from './quarantine.ts';
import { ptx, type InboxState } from './tables.ts';
import { resultTask } from './tasks.ts';
import { prevalidate } from '../records/write-check.ts';

/** File an already-parsed message (HL7 v2 or a FHIR Bundle converted to the same model). */
export async function fileParsed(deps: IngestDeps, parsed: ResultMessage, row: InboxRowInput): Promise<IngestOutcome> {
  const { header } = parsed;
  const catalogue = await loadCatalogue(deps.store.db, deps.store.practice).catch(() => bundledCatalogue());
  await prevalidateReports(deps, [{ row, parsed }], catalogue);
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.store.transaction({ author: `system:pathology-${row.source}` }, (tx) => fileInTransaction(tx, deps, parsed, row, catalogue));
    } catch (err) {
      // Two copies of one report racing (PostgreSQL, several connections): the loser retries and
      // then sees the winner's fingerprint, so it becomes a duplicate rather than a second report.
      if (attempt < 3 && isUniqueViolation(err)) continue;
      const reason = describe(err);
      try {
        await keepQuarantined(deps, { ...row, reason, lab: header.lab, messageId: header.messageId });
      } catch {
        // The store itself failed: the sender keeps the message and resends (AE).
        return { inboxId: row.inboxId, state: 'quarantined', reason, ack: 'AE', reports: [], messageId: header.messageId };
      }
      return { inboxId: row.inboxId, state: 'quarantined', reason, ack: ackFor(err) === 'AR' ? 'AR' : 'AE', reports: [], messageId: header.messageId };
    }
  }
}

export async function fileInTransaction(
  tx: StoreTransaction,
  deps: IngestDeps,
  parsed: ResultMessage,
  row: InboxRowInput,
  catalogue: Catalogue,
  prefetched?: PatientsByNhsNumber,
): Promise<IngestOutcome> {
  const db = ptx(tx);
  const practice = deps.store.practice;
  const { header, patient: pid } = parsed;
  // The raw message first: whatever happens next in this transaction happens with it. A row that is
  // already stored (received, or re-processed) gets its final state below, in this same transaction.
  if (!row.reprocess) {
    await db
      .insertInto('pathology_inbox')
      .values({
        id: row.inboxId, practice, received_at: row.receivedAt, source: row.source, lab: header.lab, message_id: header.messageId, format: row.format,
        raw: row.raw, sha256: sha256(row.raw), state: 'accepted', reason: '', patient_id: null, reports_filed: 0, reports_duplicate: 0, updated_at: row.receivedAt,
      })
      .execute();
  }
  const setState = async (state: InboxState, reason: string, extra: Partial<{ patient_id: string; reports_filed: number; reports_duplicate: number }> = {}) => {
    const done = await db
      .updateTable('pathology_inbox')
      .set({ state, reason, updated_at: row.reprocess ? new Date().toISOString() : row.receivedAt, ...extra })
      .where('practice', '=', practice)
      .where('id', '=', row.inboxId)
      .where('state', 'in', OPEN_STATES)
      .executeTakeFirst();
    // Someone else filed or re-processed this message meanwhile: roll this filing back.
    if (Number(done.numUpdatedRows) !== 1) {
      throw new SteadfastError('conflict', `Inbox message ${row.inboxId} was filed or re-processed meanwhile`, { field: 'id', hint: 'Reload the quarantine list' });
    }
  };
  const delivered = (report: ResultReport, key: string) =>
    db
      .insertInto('pathology_deliveries')
      .values({ practice, delivery_key: deliveryKey(report, pid), report_key: key, inbox_id: row.inboxId })
      .onConflict((oc) => oc.columns(['practice', 'delivery_key']).doNothing())
      .execute();

  const match = row.confirmedPatientId ? await confirmedMatch(tx, row.confirmedPatientId) : await matchPatient(tx, pid, prefetched);
  if (!match.patient) {
    await setState('unmatched', match.reason);
    return { inboxId: row.inboxId, state: 'unmatched', reason: match.reason, ack: 'AA', reports: [], messageId: header.messageId };
  }
  const patient = match.patient;
  const patientRef: Reference<Patient> = { reference: `Patient/${patient.id}` };
  const outcomes: IngestOutcome['reports'] = [];
  const day = row.receivedAt.slice(0, 10);
  for (const report of parsed.reports) {
    const key = reportKey(report);
    const fingerprint = reportFingerprint(report);
    const seen = await db.selectFrom('pathology_fingerprints').select(['report_key']).where('practice', '=', practice).where('fingerprint', '=', fingerprint).executeTakeFirst();
    const held = await db.selectFrom('pathology_reports').selectAll().where('practice', '=', practice).where('report_key', '=', key).executeTakeFirst();
    if (held) {
      // An order number already filed for someone else is never merged into their record.
      const existing = (await tx.read('DiagnosticReport', held.report_id))?.resource as DiagnosticReport | undefined;
      if (existing && existing.subject?.reference !== patientRef.reference) {
        throw new SteadfastError('conflict', `Order ${report.fillerOrderNumber || report.placerOrderNumber} (${report.testDisplay}) is already filed for a different patient`, {
          field: 'OBR-3',
          hint: 'Check the patient identity with the laboratory before filing this report',
        });
      }
    }
    if (seen) {
      await countDuplicate(db, practice, header.lab, day);
      // The same report, the same patient (a different one would have stopped above): a resend.
      await delivered(report, key);
      outcomes.push({ reportId: held?.report_id ?? '', outcome: 'duplicate', flags: [] });
      continue;
    }
    if (held && statusRank(report.status) < statusRank(held.status)) {
      // A late preliminary (or a final after a correction) must not overwrite what is already held.
      await db.insertInto('pathology_fingerprints').values({ practice, fingerprint, report_key: key, inbox_id: row.inboxId, first_seen: row.receivedAt }).execute();
      await countDuplicate(db, practice, header.lab, day);
      await delivered(report, key);
      outcomes.push({ reportId: held.report_id, outcome: 'stale', flags: [] });
      continue;
    }
    const catalogueTest = findByLabCode(catalogue, report.testCode, report.testSystem);
    const serviceRequest = await findServiceRequest(tx, report, patientRef, catalogueTest?.code);
    const flags: Array<'unmapped-test' | 'correction' | 'amended'> = [];
    if (!catalogueTest) flags.push('unmapped-test');
    // A correction is flagged even when the original never reached us: it may have been seen on paper or by phone.
    if (report.status === 'C') flags.push('correction');
    else if (held && statusRank(report.status) === statusRank(held.status)) flags.push('amended');
    const mapped = mapReport(header, report, {
      practice,
      reportKey: key,
      patient: patientRef,
      ...(serviceRequest ? { basedOn: { reference: `ServiceRequest/${serviceRequest.id}` } } : {}),
      ...(catalogueTest ? { catalogueTest } : {}),
      flags,
    });
    const writes: WriteRequest[] = [...mapped.observations, mapped.report].map((resource) => ({ kind: 'update', resource: labelLikePatient(patient, resource) }));
    if (held) writes.unshift(...(await retiredObservations(tx, held.report_id, mapped)));
    // A final (or corrected) result completes the request it answers.
    if (serviceRequest && serviceRequest.status === 'active' && (report.status === 'F' || report.status === 'C')) {
      writes.push({ kind: 'update', resource: { ...serviceRequest, status: 'completed' } });
    }
    writes.push(...(await resultTask(tx, mapped, report, patientRef, serviceRequest, flags, row.receivedAt, !!held)).map((w) => (w.kind === 'delete' ? w : { ...w, resource: labelLikePatient(patient, w.resource) })));
    await tx.write(writes);
    await db.insertInto('pathology_fingerprints').values({ practice, fingerprint, report_key: key, inbox_id: row.inboxId, first_seen: row.receivedAt }).execute();
    await delivered(report, key);
    if (held) {
      await db
        .updateTable('pathology_reports')
        .set({ status: report.status, fingerprint, inbox_id: row.inboxId, updated_at: row.receivedAt })
        .where('practice', '=', practice)
        .where('report_key', '=', key)
        .execute();
    } else {
      await db
        .insertInto('pathology_reports')
        .values({ practice, report_key: key, report_id: mapped.report.id!, status: report.status, fingerprint, inbox_id: row.inboxId, updated_at: row.receivedAt })
        .execute();
    }
    outcomes.push({ reportId: mapped.report.id!, outcome: held ? 'updated' : 'created', flags });
  }
  const filed = outcomes.filter((o) => o.outcome === 'created' || o.outcome === 'updated').length;
  const dup = outcomes.length - filed;
  const state: InboxState = filed ? 'filed' : 'duplicate';
  const confirmed = row.confirmedPatientId ? ` (patient chosen by user ${row.confirmedBy})` : '';
  const reason = filed
    ? `${filed} report(s) filed${dup ? `, ${dup} already held` : ''}${confirmed}`
    : outcomes.some((o) => o.outcome === 'stale')
      ? 'Already held at a later status; nothing changed'
      : 'Duplicate of a report already filed; nothing changed';
  await setState(state, reason, { patient_id: patient.id!, reports_filed: filed, reports_duplicate: dup });
  return { inboxId: row.inboxId, state, reason, ack: 'AA', reports: outcomes, messageId: header.messageId };
}

export async function countDuplicate(db: ReturnType<typeof ptx>, practice: string, lab: string, day: string): Promise<void> {
  await db
    .insertInto('pathology_duplicate_counts')
    .values({ practice, lab, day, count: 1 })
    .onConflict((oc) => oc.columns(['practice', 'lab', 'day']).doUpdateSet((eb) => ({ count: eb('pathology_duplicate_counts.count', '+', 1) })))
    .execute();
}

async function findServiceRequest(tx: Pick<StoreTransaction, 'search'>, report: ResultReport, patient: Reference<Patient>, testCode: string | undefined): Promise<ServiceRequest | undefined> {
  if (!report.placerOrderNumber) return undefined;
  const page = await tx.search({ resourceType: 'ServiceRequest', params: [{ name: 'identifier', values: [`${PLACER_ORDER_SYSTEM}|${report.placerOrderNumber}`] }], count: 50, offset: 0 });
  const requests = page.resources as ServiceRequest[];
  if (!requests.length) return undefined;
  if (requests.some((sr) => sr.subject?.reference !== patient.reference)) {
    throw new SteadfastError('conflict', `Placer order ${report.placerOrderNumber} belongs to a different patient than the result`, {
      field: 'OBR-2',
      hint: 'The request and the result disagree on the patient; check with the laboratory before filing',
    });
  }
  // One ServiceRequest per test shares the order number: link the one for this test when we know it.
  return requests.find((sr) => sr.code?.coding?.some((c) => c.system === PATHOLOGY_TEST_SYSTEM && c.code === testCode)) ?? requests[0];
}

/** Observations the previous version had that the new one does not: marked cancelled, not left dangling. */
async function retiredObservations(tx: StoreTransaction, reportId: string, mapped: MappedReport): Promise<WriteRequest[]> {
  const previous = (await tx.read('DiagnosticReport', reportId))?.resource as DiagnosticReport | undefined;
  const keep = new Set(mapped.observations.map((o) => `Observation/${o.id}`));
  const out: WriteRequest[] = [];
  for (const ref of previous?.result ?? []) {
    if (!ref.reference || keep.has(ref.reference)) continue;
    const old = await tx.read('Observation', ref.reference.split('/')[1]!);
    if (old && !old.deleted) out.push({ kind: 'update', resource: { ...old.resource, status: 'cancelled' } as never });
  }
  return out;
}

export interface Prepared {
  row: InboxRowInput;
  parsed?: ResultMessage;
  err?: unknown;
}

export function prepare(row: InboxRowInput, parsed?: ResultMessage): Prepared {
  if (parsed) return { row, parsed };
  try {
    return { row, parsed: parseOru(row.raw) };
  } catch (err) {
    return { row, err };
  }
}

/** File prepared messages in one transaction; on any failure, each on its own (see ingestHl7Batch). */
export async function fileBatch(deps: IngestDeps, prepared: Prepared[], author: string): Promise<IngestOutcome[]> {
  const catalogue = await loadCatalogue(deps.store.db, deps.store.practice).catch(() => bundledCatalogue());
  await prevalidateReports(deps, prepared, catalogue);
  try {
    return await deps.store.transaction({ author }, async (storeTx) => {
      // The batch's records go in as one set write at the end (or earlier, when a later message must
      // read a resource type that is still queued): most of a report's cost is per statement.
      const tx = deferWrites(storeTx);
      const nhsNumbers = prepared.flatMap((p) => (p.parsed?.patient.nhsNumber ? [p.parsed.patient.nhsNumber] : []));
      const patients = await patientsByNhsNumber(tx, nhsNumbers.slice(0, 500));
      const out: IngestOutcome[] = [];
      for (const p of prepared) {
        if (p.parsed) {
          out.push(await fileInTransaction(tx, deps, p.parsed, p.row, catalogue, patients));
          continue;
        }
        out.push(await keepUnreadable((q) => writeQuarantined(tx, deps.store.practice, q), p.row, p.err));
      }
      await tx.flush();
      return out;
    });
  } catch {
    const out: IngestOutcome[] = [];
    for (const p of prepared) {
      if (p.parsed) {
        out.push(await fileParsed(deps, p.parsed, p.row));
        continue;
      }
      out.push(await keepUnreadable((q) => keepQuarantined(deps, q), p.row, p.err));
    }
    return out;
  }
}

/** A report with fewer results than this is validated in its transaction (a few milliseconds). */
export const PREVALIDATE_FROM_OBSERVATIONS = 50;

/**
 * Before the filing transaction: map each big report's Observations as filing will (same patient
 * match, same request link, same labels) and validate them in slices that give way to the event loop
 * (records/write-check.ts `prevalidate`). The transaction then skips only the structural validation
 * of exactly these contents, so it holds the node's database connection for a fraction of the time
 * (a 5,000-OBX report blocked sign-in for the whole of its validation). Nothing is written here and
 * nothing is decided: if anything changed meanwhile (a request completed, the patient's details
 * edited), the contents differ and the transaction validates them itself, as before. Best effort: a
 * store read that fails here only means the transaction does all the work.
 */
async function prevalidateReports(deps: IngestDeps, prepared: Array<Pick<Prepared, 'row' | 'parsed'>>, catalogue: Catalogue): Promise<void> {
  const big = prepared.filter((p) => p.parsed?.reports.some((r) => r.observations.length >= PREVALIDATE_FROM_OBSERVATIONS));
  if (!big.length) return;
  try {
    const practice = deps.store.practice;
    const patients = await patientsByNhsNumber(deps.store, big.flatMap((p) => (p.parsed!.patient.nhsNumber ? [p.parsed!.patient.nhsNumber] : [])).slice(0, 500));
    for (const { row, parsed } of big) {
      const match = row.confirmedPatientId ? await confirmedMatch(deps.store, row.confirmedPatientId) : await matchPatient(deps.store, parsed!.patient, patients);
      const patient = match.patient;
      if (!patient) continue;
      const patientRef: Reference<Patient> = { reference: `Patient/${patient.id}` };
      for (const report of parsed!.reports) {
        if (report.observations.length < PREVALIDATE_FROM_OBSERVATIONS) continue;
        const catalogueTest = findByLabCode(catalogue, report.testCode, report.testSystem);
        const serviceRequest = await findServiceRequest(deps.store, report, patientRef, catalogueTest?.code);
        const mapped = mapReport(parsed!.header, report, {
          practice,
          reportKey: reportKey(report),
          patient: patientRef,
          ...(serviceRequest ? { basedOn: { reference: `ServiceRequest/${serviceRequest.id}` } } : {}),
          ...(catalogueTest ? { catalogueTest } : {}),
          flags: [],
        });
        await prevalidate(mapped.observations.map((o) => labelLikePatient(patient, o)));
      }
    }
  } catch {
    // The filing transaction reads, decides and validates everything itself.
  }
}

/**
 * One report version delivered for one patient identity. Recorded when the filer files it or finds it
 * already held; a message whose every report carries a recorded key is a resend.
 */
export function deliveryKey(report: ResultReport, pid: ResultPatient): string {
  return sha256(JSON.stringify(['delivery', reportFingerprint(report), pid.nhsNumber ?? pid.invalidNhsNumber ?? '', normaliseString(pid.family ?? ''), pid.birthDate ?? '']));
}
