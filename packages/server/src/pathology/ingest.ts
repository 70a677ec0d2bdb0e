/**
 * Results in: every raw message is stored in `pathology_inbox`, then mapped and filed in the same
 * store transaction, so a message is either filed whole with its raw text, or kept whole in the
 * quarantine / unmatched list for a person. Never filed twice: each report version has a
 * fingerprint (order number, test, status, normalised content), and a report that is already held
 * is updated in place (same DiagnosticReport id, history kept), never duplicated.
 *
 * Two ways in:
 * - `ingestHl7` / `ingestHl7Batch` store and file at once (drop folder, FHIR API, re-processing);
 * - `receiveHl7Batch` + `ResultFiler` (the MLLP listener): the message is stored raw and checked
 *   against every delivery already filed, and that commit is what the laboratory's ACK confirms; a
 *   new report is filed moments later by the filer, in arrival order, from the stored row (after a
 *   crash, from the rows still `received`). A flood of resends is absorbed at the first step.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DiagnosticReport, Patient, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError, isSteadfastError, labelLikePatient, normaliseString } from '@steadfast/domain';
import { deferWrites, statement, type RecordStore, type StoreTransaction, type WriteRequest } from '@steadfast/store';
import { bundledCatalogue, findByLabCode, loadCatalogue, type Catalogue } from './catalogue.ts';
import { mapReport, type MappedReport } from './map.ts';
import { parseOru, reportFingerprint, reportKey, statusRank, type ResultHeader, type ResultMessage, type ResultPatient, type ResultReport } from './oru.ts';
import { pdb, ptx, type InboxSource, type InboxState } from './schema.ts';
import { PATHOLOGY_TEST_SYSTEM, PLACER_ORDER_SYSTEM, TASK_CODE_SYSTEM } from '@steadfast/domain/systems';

export const RESULT_TASK_CODE = 'pathology-result';

export type AckCode = 'AA' | 'AE' | 'AR';

export interface IngestOutcome {
  inboxId: string;
  state: InboxState;
  reason: string;
  ack: AckCode;
  /** What happened to each report in the message (empty when quarantined or unmatched). */
  reports: Array<{ reportId: string; outcome: 'created' | 'updated' | 'duplicate' | 'stale'; flags: string[] }>;
  messageId: string;
}

export interface IngestDeps {
  store: RecordStore;
  now?: () => Date;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Parse failures get AR (resending the same bytes cannot help); anything else unexpected gets AE. */
function ackFor(err: unknown): AckCode {
  return isSteadfastError(err) && (err.code === 'invalid' || err.code === 'not-supported' || err.code === 'required' || err.code === 'too-large') ? 'AR' : 'AE';
}

function describe(err: unknown): string {
  if (isSteadfastError(err)) return [err.field ? `${err.field}: ` : '', err.message, err.hint ? `. ${err.hint}` : ''].join('');
  return `Internal error while filing: ${(err as Error)?.message ?? String(err)}`;
}

/** Ingest one HL7 v2 ORU^R01. Never throws for bad input: the outcome says what became of it. */
export interface ReprocessOptions {
  reprocessId?: string;
  /** A person chose the patient for an unmatched message (user id in confirmedBy). */
  confirmedPatientId?: string;
  confirmedBy?: string;
}

export async function ingestHl7(deps: IngestDeps, raw: string, source: InboxSource, options: ReprocessOptions = {}): Promise<IngestOutcome> {
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const inboxId = options.reprocessId ?? randomUUID();
  let parsed: ResultMessage;
  try {
    parsed = parseOru(raw);
  } catch (err) {
    return keepUnreadable((q) => keepQuarantined(deps, q), { inboxId, raw, source, receivedAt, format: 'hl7v2', reprocess: !!options.reprocessId }, err);
  }
  return fileParsed(deps, parsed, {
    inboxId, raw, source, receivedAt, format: 'hl7v2', reprocess: !!options.reprocessId,
    ...(options.confirmedPatientId ? { confirmedPatientId: options.confirmedPatientId, confirmedBy: options.confirmedBy ?? '' } : {}),
  });
}

export interface InboxRowInput {
  inboxId: string;
  raw: string;
  source: InboxSource;
  receivedAt: string;
  format: 'hl7v2' | 'fhir';
  reprocess: boolean;
  confirmedPatientId?: string;
  confirmedBy?: string;
}

/** File an already-parsed message (HL7 v2 or a FHIR Bundle converted to the same model). */
export async function fileParsed(deps: IngestDeps, parsed: ResultMessage, row: InboxRowInput): Promise<IngestOutcome> {
  const { header } = parsed;
  const catalogue = await loadCatalogue(deps.store.db, deps.store.practice).catch(() => bundledCatalogue());
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

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/** States a message can be filed from: being filed now, waiting for the filer, or waiting for a person. */
const OPEN_STATES: InboxState[] = ['accepted', 'received', 'unmatched', 'quarantined'];

/** Patients by NHS number, fetched for a whole batch at once (ingest never writes a Patient). */
type PatientsByNhsNumber = Map<string, Patient[]>;

async function fileInTransaction(
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

async function countDuplicate(db: ReturnType<typeof ptx>, practice: string, lab: string, day: string): Promise<void> {
  await db
    .insertInto('pathology_duplicate_counts')
    .values({ practice, lab, day, count: 1 })
    .onConflict((oc) => oc.columns(['practice', 'lab', 'day']).doUpdateSet((eb) => ({ count: eb('pathology_duplicate_counts.count', '+', 1) })))
    .execute();
}

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
async function patientsByNhsNumber(tx: Pick<StoreTransaction, 'search'>, nhsNumbers: string[]): Promise<PatientsByNhsNumber> {
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

async function confirmedMatch(tx: StoreTransaction, patientId: string): Promise<{ patient?: Patient; reason: string }> {
  const stored = await tx.read('Patient', patientId);
  if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${patientId} was not found`, { field: 'patientId' });
  return { patient: stored.resource as Patient, reason: '' };
}

async function findServiceRequest(tx: StoreTransaction, report: ResultReport, patient: Reference<Patient>, testCode: string | undefined): Promise<ServiceRequest | undefined> {
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

/** A review Task for the requester (or the unassigned pool), one open Task per report at a time. */
async function resultTask(
  tx: StoreTransaction,
  mapped: MappedReport,
  report: ResultReport,
  patient: Reference<Patient>,
  serviceRequest: ServiceRequest | undefined,
  flags: string[],
  now: string,
  reportExisted: boolean,
): Promise<WriteRequest[]> {
  const focus = `DiagnosticReport/${mapped.report.id}`;
  const abnormal = mapped.observations.some((o) => o.interpretation?.some((i) => ['HH', 'LL', 'AA'].includes(i.coding?.[0]?.code ?? '')));
  const label = [
    `${report.testDisplay} result`,
    mapped.report.status === 'preliminary' ? '(preliminary)' : '',
    flags.includes('correction') ? '(CORRECTED by the laboratory)' : flags.includes('amended') ? '(amended)' : '',
    flags.includes('unmapped-test') ? '[unmapped test code]' : '',
  ]
    .filter(Boolean)
    .join(' ');
  // A report seen for the first time cannot have a task yet: skip the search.
  const open = !reportExisted ? { resources: [] } : await tx.search({
    resourceType: 'Task',
    params: [
      { name: 'focus', values: [focus] },
      { name: 'status', values: ['requested'] },
    ],
    count: 1,
    offset: 0,
  });
  const existing = open.resources[0] as Task | undefined;
  const task: Task = {
    ...(existing ?? {}),
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: abnormal || flags.includes('correction') ? 'urgent' : 'routine',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: RESULT_TASK_CODE, display: 'Review pathology result' }] },
    focus: { reference: focus },
    for: patient,
    authoredOn: existing?.authoredOn ?? now,
    lastModified: now,
    description: label,
    // The requesting clinician's inbox; without a request the task sits in the unassigned pool.
    ...(serviceRequest?.requester ? { owner: serviceRequest.requester as Task['owner'] } : {}),
    ...(serviceRequest ? { basedOn: [{ reference: `ServiceRequest/${serviceRequest.id}` }] } : {}),
    ...(flags.length ? { businessStatus: { text: flags.join(', ') } } : {}),
  };
  return [existing ? { kind: 'update', resource: task } : { kind: 'create', resource: task }];
}

/** A message that could not be parsed: kept whole in quarantine with the reason, answered AR (or AE). */
async function keepUnreadable(keep: (q: QuarantineInput) => Promise<void>, row: InboxRowInput, err: unknown): Promise<IngestOutcome> {
  const reason = describe(err);
  const messageId = guessMessageId(row.raw);
  await keep({ ...row, reason, lab: '', messageId });
  return { inboxId: row.inboxId, state: 'quarantined', reason, ack: ackFor(err), reports: [], messageId };
}

interface QuarantineInput extends InboxRowInput {
  reason: string;
  lab: string;
  messageId: string;
}

async function keepQuarantined(deps: IngestDeps, q: QuarantineInput): Promise<void> {
  await deps.store.transaction({ author: `system:pathology-${q.source}` }, (tx) => writeQuarantined(tx, deps.store.practice, q));
}

async function writeQuarantined(tx: StoreTransaction, practice: string, q: QuarantineInput): Promise<void> {
  const db = ptx(tx);
  if (q.reprocess) {
    // Never over a message that was filed meanwhile.
    await db
      .updateTable('pathology_inbox')
      .set({ state: 'quarantined', reason: q.reason, updated_at: q.receivedAt })
      .where('practice', '=', practice)
      .where('id', '=', q.inboxId)
      .where('state', 'in', OPEN_STATES)
      .execute();
    return;
  }
  await db
    .insertInto('pathology_inbox')
    .values({
      id: q.inboxId,
      practice,
      received_at: q.receivedAt,
      source: q.source,
      lab: q.lab,
      message_id: q.messageId.slice(0, 250),
      format: q.format,
      raw: q.raw,
      sha256: sha256(q.raw),
      state: 'quarantined',
      reason: q.reason,
      patient_id: null,
      reports_filed: 0,
      reports_duplicate: 0,
      updated_at: q.receivedAt,
    })
    .execute();
}

/**
 * Several HL7 messages in one store transaction (group commit): under a flood the cost of each
 * commit's disk sync is shared. Each message is still stored raw and filed or quarantined exactly as
 * `ingestHl7` would; if anything fails inside the shared transaction, it rolls back and every message
 * is ingested on its own, so one bad message never holds up or half-files the others.
 */
export async function ingestHl7Batch(deps: IngestDeps, items: Array<{ raw: string; source: InboxSource }>): Promise<IngestOutcome[]> {
  if (items.length === 1) return [await ingestHl7(deps, items[0]!.raw, items[0]!.source)];
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  return fileBatch(
    deps,
    items.map(({ raw, source }) => prepare({ inboxId: randomUUID(), raw, source, receivedAt, format: 'hl7v2', reprocess: false })),
    `system:pathology-${items[0]?.source ?? 'mllp'}`,
  );
}

interface Prepared {
  row: InboxRowInput;
  parsed?: ResultMessage;
  err?: unknown;
}

function prepare(row: InboxRowInput, parsed?: ResultMessage): Prepared {
  if (parsed) return { row, parsed };
  try {
    return { row, parsed: parseOru(row.raw) };
  } catch (err) {
    return { row, err };
  }
}

/** File prepared messages in one transaction; on any failure, each on its own (see ingestHl7Batch). */
async function fileBatch(deps: IngestDeps, prepared: Prepared[], author: string): Promise<IngestOutcome[]> {
  const catalogue = await loadCatalogue(deps.store.db, deps.store.practice).catch(() => bundledCatalogue());
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

// ---- receive now, file next (the MLLP listener) ------------------------------------------------

/**
 * One report version delivered for one patient identity. Recorded when the filer files it or finds it
 * already held; a message whose every report carries a recorded key is a resend.
 */
export function deliveryKey(report: ResultReport, pid: ResultPatient): string {
  return sha256(JSON.stringify(['delivery', reportFingerprint(report), pid.nhsNumber ?? pid.invalidNhsNumber ?? '', normaliseString(pid.family ?? ''), pid.birthDate ?? '']));
}

/** Arrival order within this process; with received_at it orders every message the filer takes. */
let arrivals = 0;

/** A filer keeps at most this many parses; beyond it, it parses again from the stored message. */
const MAX_CACHED_PARSES = 2000;

export interface ReceiveOutcome {
  inboxId: string;
  /** `received`: new, the filer files it next; `duplicate`: every report already held for this patient. */
  state: 'received' | 'duplicate' | 'quarantined';
  reason: string;
  ack: AckCode;
  messageId: string;
}

/**
 * Store each message raw and recognise resends, in one transaction per batch; this commit is what
 * the ACK confirms. Nothing is mapped or filed here: new messages wait as `received` for the
 * `ResultFiler`; a message whose reports are all already held (same content, same patient identity)
 * is a duplicate and counted; one that cannot be parsed is quarantined and answered AR.
 * `parsed` (optional) keeps each received message's parse for the filer, which re-parses otherwise.
 */
export async function receiveHl7Batch(deps: IngestDeps, items: Array<{ raw: string; source: InboxSource }>, parsed?: Map<string, ResultMessage>): Promise<ReceiveOutcome[]> {
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const practice = deps.store.practice;
  const prepared = items.map(({ raw, source }) => {
    const p = prepare({ inboxId: randomUUID(), raw, source, receivedAt, format: 'hl7v2', reprocess: false });
    return { ...p, keys: p.parsed ? p.parsed.reports.map((r) => deliveryKey(r, p.parsed!.patient)) : [] };
  });
  const run = (batch: typeof prepared) =>
    deps.store.transaction({ author: `system:pathology-${batch[0]?.row.source ?? 'mllp'}` }, async (tx) => {
      const db = ptx(tx);
      const dialect = deps.store.dialect;
      // Written once as SQL: this is the whole cost of acknowledging a message besides parsing it and
      // the commit, and building the same two statements afresh for every message cost more than
      // running them.
      const wanted = [...new Set(batch.flatMap((p) => p.keys))];
      const known = new Set<string>();
      for (let i = 0; i < wanted.length; i += 500) {
        const part = wanted.slice(i, i + 500);
        const rows = await db.executeQuery<{ delivery_key: string }>(
          statement(dialect, `SELECT delivery_key FROM pathology_deliveries WHERE practice = ? AND delivery_key IN (${part.map(() => '?').join(', ')})`, [practice, ...part]),
        );
        for (const r of rows.rows) known.add(r.delivery_key);
      }
      const inboxRows: unknown[][] = [];
      const toCache: Array<[string, ResultMessage]> = [];
      const out: ReceiveOutcome[] = [];
      for (const p of batch) {
        if (!p.parsed) {
          const { reports: _none, ...kept } = await keepUnreadable((q) => writeQuarantined(tx, practice, q), p.row, p.err);
          out.push({ ...kept, state: 'quarantined' });
          continue;
        }
        const messageId = p.parsed.header.messageId;
        const resend = p.keys.length > 0 && p.keys.every((k) => known.has(k));
        const state = resend ? 'duplicate' : 'received';
        const reason = resend ? 'Duplicate of a report already filed; nothing changed' : 'Received; waiting to be filed';
        inboxRows.push([p.row.inboxId, practice, receivedAt, p.row.source, p.parsed.header.lab.slice(0, 250), messageId.slice(0, 250), 'hl7v2', p.row.raw, sha256(p.row.raw), state, reason, null, 0, resend ? p.keys.length : 0, receivedAt, ++arrivals]);
        if (resend) {
          for (let i = 0; i < p.keys.length; i++) await countDuplicate(db, practice, p.parsed.header.lab, receivedAt.slice(0, 10));
        } else {
          // A second copy later in this batch is still received (and found held by the filer): the
          // first copy may yet fail to file, and then the second must not have been dropped.
          toCache.push([p.row.inboxId, p.parsed]);
        }
        out.push({ inboxId: p.row.inboxId, state, reason, ack: 'AA', messageId });
      }
      if (inboxRows.length) {
        const tuple = `(${inboxRows[0]!.map(() => '?').join(', ')})`;
        await db.executeQuery(
          statement(
            dialect,
            `INSERT INTO pathology_inbox (id, practice, received_at, source, lab, message_id, format, raw, sha256, state, reason, patient_id, reports_filed, reports_duplicate, updated_at, arrival) VALUES ${inboxRows.map(() => tuple).join(', ')}`,
            inboxRows.flat(),
          ),
        );
      }
      return { out, toCache };
    }).then(({ out, toCache }) => {
      // Only what committed is cached for the filer, and only so much.
      for (const [id, message] of toCache) if (parsed && parsed.size < MAX_CACHED_PARSES) parsed.set(id, message);
      return out;
    });
  try {
    return await run(prepared);
  } catch (err) {
    if (prepared.length === 1) {
      // The store itself failed: the sender keeps the message and resends.
      return [{ inboxId: prepared[0]!.row.inboxId, state: 'quarantined', reason: describe(err), ack: 'AE', messageId: guessMessageId(prepared[0]!.row.raw) }];
    }
    const out: ReceiveOutcome[] = [];
    for (const p of prepared) out.push(...(await run([p]).catch((e) => [{ inboxId: p.row.inboxId, state: 'quarantined' as const, reason: describe(e), ack: 'AE' as const, messageId: guessMessageId(p.row.raw) }])));
    return out;
  }
}

/** File up to `limit` received messages, oldest first, in one batch; returns how many were taken. */
export async function fileReceived(deps: IngestDeps, options: { limit?: number; parsed?: Map<string, ResultMessage> } = {}): Promise<number> {
  const rows = await pdb(deps.store.db)
    .selectFrom('pathology_inbox')
    .select(['id', 'raw', 'source', 'received_at'])
    .where('practice', '=', deps.store.practice)
    .where('state', '=', 'received')
    .orderBy('received_at')
    .orderBy('arrival')
    .orderBy('id')
    .limit(options.limit ?? 50)
    .execute();
  if (!rows.length) return 0;
  const prepared = rows.map((r) => {
    const cached = options.parsed?.get(r.id);
    options.parsed?.delete(r.id);
    return prepare({ inboxId: r.id, raw: r.raw, source: r.source, receivedAt: r.received_at, format: 'hl7v2', reprocess: true }, cached);
  });
  await fileBatch(deps, prepared, `system:pathology-${rows[0]!.source}`);
  // Every message taken is filed, duplicate, unmatched or quarantined now, unless the store itself
  // failed (even the quarantine write): then say so, rather than take the same rows again at once.
  const left = await pdb(deps.store.db)
    .selectFrom('pathology_inbox')
    .select('id')
    .where('practice', '=', deps.store.practice)
    .where('state', '=', 'received')
    .where('id', 'in', rows.map((r) => r.id))
    .execute();
  if (left.length) {
    throw new SteadfastError('internal', `${left.length} received result(s) could not be filed or quarantined: the store refused the writes`, {
      hint: 'They stay received (nothing is lost) and the filer tries again; check the disk and the database',
    });
  }
  return rows.length;
}

/**
 * Files what `receiveHl7Batch` stored, one batch at a time, in arrival order, behind the listener:
 * `nudge()` after a receive; `settled()` resolves once nothing is being filed. Started, it first
 * files anything still `received` from before a restart. A store failure is retried after a pause.
 */
export class ResultFiler {
  /** Parses of received messages, so the filer need not parse them again. */
  readonly parsed = new Map<string, ResultMessage>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: IngestDeps,
    private readonly options: { batchSize?: number; retryMs?: number; onError?: (err: unknown) => void } = {},
  ) {}

  nudge(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && (await fileReceived(this.deps, { limit: this.options.batchSize ?? 50, parsed: this.parsed })) > 0);
    } catch (err) {
      this.options.onError?.(err);
      if (!this.closed && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.nudge();
        }, this.options.retryMs ?? 2000);
      }
    }
  }

  /** Resolves when the filer is idle (everything received so far is filed, or waiting for a retry). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.settled();
  }
}

/**
 * Collects messages arriving at the same time (several MLLP connections, a drop folder) into batches
 * for `run`; each caller still gets its own outcome, after its batch committed.
 */
export function createBatcher<T>(run: (items: Array<{ raw: string; source: InboxSource }>) => Promise<T[]>, maxBatch = 50): (raw: string, source: InboxSource) => Promise<T> {
  let queue: Array<{ raw: string; source: InboxSource; resolve: (o: T) => void; reject: (e: unknown) => void }> = [];
  let running = false;
  const flush = async () => {
    running = true;
    try {
      while (queue.length) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        try {
          const outcomes = await run(batch);
          batch.forEach((b, i) => b.resolve(outcomes[i]!));
        } catch (err) {
          batch.forEach((b) => b.reject(err));
        }
      }
    } finally {
      running = false;
    }
  };
  return (raw, source) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ raw, source, resolve, reject });
      if (!running) setImmediate(() => void (running ? undefined : flush()));
    });
}

/** `createBatcher` over `ingestHl7Batch`: store and file at once. */
export function createIngestBatcher(deps: IngestDeps, maxBatch = 50): (raw: string, source: InboxSource) => Promise<IngestOutcome> {
  return createBatcher((items) => ingestHl7Batch(deps, items), maxBatch);
}

/** MSH-10 from text too broken to parse, so the negative ACK can still name the message. */
export function guessMessageId(raw: string): string {
  const msh = /MSH(.)/.exec(raw);
  if (!msh) return '';
  const sep = msh[1]!;
  const line = raw.slice(msh.index).split(/[\r\n]/)[0] ?? '';
  return (line.split(sep)[9] ?? '').split(line.charAt(4) || '^')[0]!.slice(0, 199);
}

/** Re-run a quarantined or unmatched message after a fix (patient record corrected, catalogue edited, ...). */
export async function reprocessInbox(deps: IngestDeps, inboxId: string, options: Omit<ReprocessOptions, 'reprocessId'> = {}): Promise<IngestOutcome> {
  const row = await ptx({ db: deps.store.db })
    .selectFrom('pathology_inbox')
    .selectAll()
    .where('practice', '=', deps.store.practice)
    .where('id', '=', inboxId)
    .executeTakeFirst();
  if (!row) throw new SteadfastError('not-found', `Inbox message ${inboxId} was not found`, { field: 'id' });
  if (row.state !== 'quarantined' && row.state !== 'unmatched') {
    throw new SteadfastError('conflict', `Inbox message ${inboxId} is ${row.state}; only quarantined or unmatched messages can be re-processed`, { field: 'id' });
  }
  if (options.confirmedPatientId) {
    if (row.state !== 'unmatched') throw new SteadfastError('conflict', `Inbox message ${inboxId} is ${row.state}; a patient can be chosen only for an unmatched message`, { field: 'id' });
    const patient = await deps.store.read('Patient', options.confirmedPatientId);
    if (!patient || patient.deleted) throw new SteadfastError('not-found', `Patient ${options.confirmedPatientId} was not found`, { field: 'patientId' });
  }
  if (row.format === 'fhir') {
    const { ingestFhirBundle } = await import('./fhir-ingest.ts');
    return ingestFhirBundle(deps, row.raw, { ...options, reprocessId: inboxId });
  }
  return ingestHl7(deps, row.raw, row.source, { ...options, reprocessId: inboxId });
}

export type { ResultHeader };

/** Keep raw bytes that never became a message (an oversized or truncated MLLP frame). */
export async function quarantineRaw(deps: IngestDeps, raw: string, source: InboxSource, reason: string): Promise<string> {
  const inboxId = randomUUID();
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  await keepQuarantined(deps, { inboxId, raw, source, receivedAt, reason, lab: '', messageId: guessMessageId(raw), format: 'hl7v2', reprocess: false });
  return inboxId;
}
