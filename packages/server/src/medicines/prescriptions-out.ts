/**
 * Which way each issue leaves the node, exactly once: to EPS through the one outbox, or on paper.
 *
 * - Queuing: every new issue (a MedicationRequest, intent 'order', status active, with a short-form
 *   prescription id) written on this node gets one 'eps' outbox message (`queueIssueForEps`), either
 *   in the issuing transaction (the prescribing route can call it) or, at the latest, when the queue
 *   catches up with the change log (`catchUpEpsQueue`, a background service; a crash between the issue
 *   and its queuing loses nothing, the cursor moves in the same transaction as the queuing). Only the
 *   node that wrote the issue queues it, so a synced copy on the hub or another node is never sent.
 * - Printing: `printIssue` marks the issue printed and, in the same transaction, cancels its EPS
 *   message if EPS does not have it yet. A prescription EPS already has (sent) or is receiving right
 *   now (sending) is not printed: one prescription must never be dispensable twice. A second print is
 *   a marked copy, not valid for dispensing.
 * - Lost answers: before every $process-message the channel records that EPS may hold the issue
 *   (`recordEpsProcess`); from then on it is not printed unless EPS definitely refused it.
 * - Stops: an issue EPS has or may have that is stopped/cancelled gets one EPS cancel message, queued
 *   by the same catch-up (`queueEpsCancel`).
 * - The outbox screen: retrying an EPS message of a printed prescription is refused (owners.ts hook).
 */
import type { MedicationRequest, Organization, Patient } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import type { PrescriptionOutStatus } from '@steadfast/domain/api/prescriptions';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain/nhs-number';
import type { RecordStore, StoreTransaction } from '@steadfast/store';
import type { AuditLog, AuditActor } from '../audit/index.ts';
import { enqueue } from '../outbox/queue.ts';
import { registerOutboxOwner } from '../outbox/owners.ts';
import { odb } from '../outbox/tables.ts';
import { buildEpsMessage, EPS_CHANNEL, EPS_SOURCE, epsMessageKey, prescriberOfIssue, prescriptionIdOfIssue, type EpsChannelOptions, type EpsPayload, type EpsProcessState, type PrescriberOrg } from './eps.ts';
import { ODS_SYSTEM } from './eps-contract.ts';
import { renderFp10, type Fp10Data } from './fp10.ts';
import { outdb, type PrescriptionsOutTable } from './out-tables.ts';

type Reader = Pick<StoreTransaction, 'read' | 'search'>;

/** An issue: a MedicationRequest order with a prescription id (what goes to EPS or on paper). */
export function isIssue(mr: MedicationRequest | undefined): mr is MedicationRequest & { id: string } {
  return Boolean(mr && mr.resourceType === 'MedicationRequest' && mr.id && mr.intent === 'order' && prescriptionIdOfIssue(mr));
}

/** The practice as it goes on the message and the form: its Organization in the record (by ODS code), else the ODS code alone. */
export async function practiceOrgOf(reader: Reader, practice: string, fallbackName?: string): Promise<PrescriberOrg> {
  const found = (await reader.search({ resourceType: 'Organization', params: [{ name: 'identifier', values: [`${ODS_SYSTEM}|${practice}`] }], count: 1, offset: 0 })).resources[0] as Organization | undefined;
  const a = found?.address?.[0];
  const phone = found?.telecom?.find((t) => t.system === 'phone')?.value;
  return {
    ods: practice,
    name: found?.name ?? fallbackName ?? `GP practice ${practice}`,
    address: [...(a?.line ?? []), ...(a?.city ? [a.city] : [])],
    ...(a?.postalCode ? { postcode: a.postalCode } : {}),
    ...(phone ? { phone } : {}),
  };
}

async function issueAndPatient(reader: Reader, issueId: string): Promise<{ issue: MedicationRequest & { id: string }; patient: Patient & { id: string } }> {
  const stored = await reader.read('MedicationRequest', issueId);
  const issue = stored && !stored.deleted ? (stored.resource as MedicationRequest) : undefined;
  if (!isIssue(issue)) {
    throw new SteadfastError('not-found', `MedicationRequest/${issueId} is not an issued prescription`, { field: 'issueId', hint: 'Use the id of an issue (intent order, with a prescription id), not of a repeat template' });
  }
  const patientId = issue.subject?.reference?.startsWith('Patient/') ? issue.subject.reference.slice(8) : undefined;
  const p = patientId ? await reader.read('Patient', patientId) : undefined;
  if (!p || p.deleted) throw new SteadfastError('not-found', `The patient of MedicationRequest/${issueId} was not found`, { field: 'subject' });
  return { issue, patient: p.resource as Patient & { id: string } };
}

/**
 * Queue one issue for EPS in the caller's transaction (nothing when it is already queued or printed).
 * The message is built now, from the record as it is in this transaction: what was prescribed is what
 * is sent, however long EPS is away.
 */
export async function queueIssueForEps(tx: StoreTransaction, practice: string, issueId: string, now: Date = new Date()): Promise<{ queued: boolean; outboxId?: string }> {
  const o = outdb(tx.db);
  const existing = await o.selectFrom('prescriptions_out').select(['route', 'outbox_id']).where('practice', '=', practice).where('issue_id', '=', issueId).executeTakeFirst();
  if (existing) return { queued: false, ...(existing.outbox_id ? { outboxId: existing.outbox_id } : {}) };
  const { issue, patient } = await issueAndPatient(tx, issueId);
  if (issue.status !== 'active') return { queued: false };
  const prescriptionId = prescriptionIdOfIssue(issue)!;
  const org = await practiceOrgOf(tx, practice);
  const bundle = buildEpsMessage({ issue, patient, prescriber: prescriberOfIssue(issue), org });
  const payload: EpsPayload = { issueId, prescriptionId, event: 'prescription-order', bundle };
  const { id } = await enqueue(tx.db, practice, { channel: EPS_CHANNEL, key: epsMessageKey(prescriptionId), source: EPS_SOURCE, payload, about: `MedicationRequest/${issueId}` }, now);
  const at = now.toISOString();
  await o
    .insertInto('prescriptions_out')
    .values({ practice, issue_id: issueId, prescription_id: prescriptionId, patient_id: patient.id, route: 'eps', outbox_id: id, printed_at: null, printed_by: null, print_count: 0, eps_process: null, created_at: at, updated_at: at })
    .execute();
  return { queued: true, outboxId: id };
}

const WITHDRAWN = new Set(['stopped', 'cancelled', 'entered-in-error']);

/** Whether EPS has, may have, or is being given this issue's prescription-order (so a stop must cancel it there). */
async function epsMayHaveOrder(tx: StoreTransaction, practice: string, row: { route: string; outbox_id: string | null; eps_process: string | null }): Promise<boolean> {
  if (row.route !== 'eps') return false;
  if (epsMayHold(row.eps_process)) return true;
  const m = row.outbox_id ? await odb(tx.db).selectFrom('outbox_messages').select('state').where('practice', '=', practice).where('id', '=', row.outbox_id).executeTakeFirst() : undefined;
  return m?.state === 'sent' || m?.state === 'sending';
}

/**
 * Queue, in the caller's transaction, the EPS cancel (prescription-order-update, key `eps-cancel:<id>`)
 * of an issue that was stopped, cancelled or entered in error after EPS got (or may have got) it. Nothing
 * when this node never sent it, when EPS surely does not have it (the order message itself is then not
 * sent: `whyNotSent`), or when the cancel is already queued.
 */
export async function queueEpsCancel(tx: StoreTransaction, practice: string, issueId: string, now: Date = new Date()): Promise<{ queued: boolean; outboxId?: string }> {
  const row = await outdb(tx.db).selectFrom('prescriptions_out').select(['route', 'outbox_id', 'eps_process']).where('practice', '=', practice).where('issue_id', '=', issueId).executeTakeFirst();
  if (!row || !(await epsMayHaveOrder(tx, practice, row))) return { queued: false };
  const { issue, patient } = await issueAndPatient(tx, issueId);
  if (!WITHDRAWN.has(issue.status ?? '')) return { queued: false };
  const prescriptionId = prescriptionIdOfIssue(issue)!;
  const reason = issue.statusReason?.text ?? issue.statusReason?.coding?.[0]?.display ?? `The prescription was ${issue.status} by the prescriber`;
  const bundle = buildEpsMessage({ issue, patient, prescriber: prescriberOfIssue(issue), org: await practiceOrgOf(tx, practice), cancel: { reason } });
  const payload: EpsPayload = { issueId, prescriptionId, event: 'prescription-order-update', bundle };
  const { id, created } = await enqueue(tx.db, practice, { channel: EPS_CHANNEL, key: epsMessageKey(prescriptionId, 'prescription-order-update'), source: EPS_SOURCE, payload, about: `MedicationRequest/${issueId}` }, now);
  return { queued: created, outboxId: id };
}

/**
 * Queue the issues written on this node since the last call, and the EPS cancels of issues stopped since
 * (wherever the stop was written: it may arrive by sync). Cheap when nothing new was written.
 */
export async function catchUpEpsQueue(store: RecordStore, now: () => Date = () => new Date()): Promise<number> {
  const o = outdb(store.db);
  const row = await o.selectFrom('prescriptions_out_cursor').select('seq').where('practice', '=', store.practice).executeTakeFirst();
  let seq = Number(row?.seq ?? 0);
  let queued = 0;
  for (;;) {
    const entries = await store.changesSince(seq, 500);
    if (!entries.length) break;
    const issues = entries.filter((e) => e.resourceType === 'MedicationRequest' && e.op === 'put' && e.baseVersionId === null && e.originNode === store.nodeId && isIssue(e.resource as MedicationRequest));
    const stops = entries.filter((e) => e.resourceType === 'MedicationRequest' && e.op === 'put' && e.baseVersionId !== null && isIssue(e.resource as MedicationRequest) && WITHDRAWN.has((e.resource as MedicationRequest).status ?? ''));
    seq = entries[entries.length - 1]!.seq;
    await store.transaction({ author: 'system:eps-queue' }, async (tx) => {
      for (const e of issues) {
        try {
          if ((await queueIssueForEps(tx, store.practice, e.resourceId, now())).queued) queued++;
        } catch (err) {
          // An issue whose patient is gone cannot be sent: it stays in the record for a person; never block the queue.
          if (!(err instanceof SteadfastError)) throw err;
        }
      }
      for (const e of stops) {
        try {
          if ((await queueEpsCancel(tx, store.practice, e.resourceId, now())).queued) queued++;
        } catch (err) {
          if (!(err instanceof SteadfastError)) throw err;
        }
      }
      await outdb(tx.db).insertInto('prescriptions_out_cursor').values({ practice: store.practice, seq }).onConflict((oc) => oc.column('practice').doUpdateSet({ seq })).execute();
    });
    if (entries.length < 500) break;
  }
  return queued;
}

function statusOf(r: PrescriptionsOutTable, outbox: { state: string; last_error: string; sent_at: string | null } | undefined): PrescriptionOutStatus {
  const base = { issueId: r.issue_id, prescriptionId: r.prescription_id, printCount: r.print_count, ...(r.printed_at ? { printedAt: r.printed_at } : {}) };
  if (r.route === 'printed') return { ...base, eps: 'printed' };
  const state = outbox?.state;
  if (state === 'sent') return { ...base, eps: 'sent', ...(outbox?.sent_at ? { sentAt: outbox.sent_at } : {}) };
  if (state === 'failed' || state === 'cancelled') return { ...base, eps: 'failed', lastError: outbox?.last_error || `The EPS message was ${state}` };
  return { ...base, eps: 'queued', ...(outbox?.last_error ? { lastError: outbox.last_error } : {}) };
}

/** Where an issue stands: queued for EPS, sent, failed (for a person), or printed. */
export async function prescriptionOutStatus(store: RecordStore, issueId: string): Promise<PrescriptionOutStatus> {
  const r = await outdb(store.db).selectFrom('prescriptions_out').selectAll().where('practice', '=', store.practice).where('issue_id', '=', issueId).executeTakeFirst();
  if (!r) {
    // Not queued yet (the queue catches up within seconds), or issued on another node.
    const { issue } = await issueAndPatient(store, issueId);
    return { issueId, prescriptionId: prescriptionIdOfIssue(issue)!, eps: 'queued', printCount: 0 };
  }
  const outbox = r.outbox_id ? await odb(store.db).selectFrom('outbox_messages').select(['state', 'last_error', 'sent_at']).where('practice', '=', store.practice).where('id', '=', r.outbox_id).executeTakeFirst() : undefined;
  return statusOf(r, outbox);
}

/** The deliver-time check: why an issue must not go to EPS now (printed instead, stopped...), or undefined. */
export async function whyNotSent(store: RecordStore, issueId: string): Promise<string | undefined> {
  const r = await outdb(store.db).selectFrom('prescriptions_out').select('route').where('practice', '=', store.practice).where('issue_id', '=', issueId).executeTakeFirst();
  if (r?.route === 'printed') return 'the prescription was printed instead';
  if (r?.route !== 'eps') return 'the prescription was not queued for EPS on this node';
  const stored = await store.read('MedicationRequest', issueId);
  if (!stored || stored.deleted) return 'the prescription was deleted';
  const status = (stored.resource as MedicationRequest).status;
  return status === 'active' ? undefined : `the prescription is ${status}`;
}

/**
 * Record, durably and before the request, that a $process-message of this issue is being made; and then
 * what its answer means. An 'in-flight' found at the start of an attempt is an earlier attempt whose
 * answer was never recorded (a crash): EPS may hold it ('maybe'). A definite refusal clears only a
 * marker of this very attempt; once uncertain, only a confirmed cancel at EPS lets the issue be printed.
 */
export async function recordEpsProcess(store: RecordStore, issueId: string, step: 'attempted' | 'held' | 'refused' | 'unknown' | 'cancelled', now: Date = new Date()): Promise<void> {
  const o = outdb(store.db);
  const r = await o.selectFrom('prescriptions_out').select('eps_process').where('practice', '=', store.practice).where('issue_id', '=', issueId).executeTakeFirst();
  if (!r) throw new Error(`MedicationRequest/${issueId} has no prescriptions_out row: not sent to EPS unrecorded`);
  const was = r.eps_process as EpsProcessState | null;
  const next: EpsProcessState =
    step === 'cancelled' ? 'cancelled'
    : step === 'attempted' ? (was === null || was === 'refused' ? 'in-flight' : was === 'held' ? 'held' : 'maybe')
    : step === 'held' ? 'held'
    : step === 'refused' ? (was === 'in-flight' ? 'refused' : (was ?? 'maybe') as EpsProcessState)
    : was === 'held' ? 'held' : 'maybe';
  await o.updateTable('prescriptions_out').set({ eps_process: next, updated_at: now.toISOString() }).where('practice', '=', store.practice).where('issue_id', '=', issueId).execute();
}

/** What the 'eps' channel needs from the record: the deliver-time check and the $process-message markers. */
export function epsChannelHooks(store: RecordStore, now: () => Date = () => new Date()): Pick<EpsChannelOptions, 'whyNotWanted' | 'processAttempted' | 'processAnswered'> {
  return {
    whyNotWanted: (_m, payload) => whyNotSent(store, payload.issueId),
    processAttempted: (payload) => recordEpsProcess(store, payload.issueId, 'attempted', now()),
    processAnswered: (payload, answer) => recordEpsProcess(store, payload.issueId, answer, now()),
  };
}

/** Whether EPS may hold the issue from a $process-message attempt (so it must not be printed). */
export function epsMayHold(epsProcess: string | null): boolean {
  return epsProcess !== null && epsProcess !== 'refused' && epsProcess !== 'cancelled';
}

/**
 * The nodes that created an issue (only the creating node sends or prints it). Usually one; two when
 * the same prescribe was retried at two nodes during a partition (the same id, made at both).
 */
async function originsOf(tx: StoreTransaction, practice: string, issueId: string): Promise<string[]> {
  const rows = await tx.db
    .selectFrom('change_log')
    .select('origin_node')
    .distinct()
    .where('practice', '=', practice)
    .where('resource_type', '=', 'MedicationRequest')
    .where('resource_id', '=', issueId)
    .where('base_version_id', 'is', null)
    .execute();
  return rows.map((r) => r.origin_node);
}

function nameOf(p: Patient): string {
  const n = p.name?.[0];
  return [...(n?.prefix ?? []), ...(n?.given ?? []), (n?.family ?? '').toUpperCase()].filter(Boolean).join(' ');
}

function itemOf(mr: MedicationRequest): Fp10Data['items'][number] {
  const name = mr.medicationCodeableConcept?.text ?? mr.medicationCodeableConcept?.coding?.[0]?.display ?? 'Unnamed medicine';
  const q = mr.dispenseRequest?.quantity;
  return { name, dose: mr.dosageInstruction?.map((d) => d.text).filter(Boolean).join('; ') || 'As directed', quantity: q ? `${q.value} ${q.unit ?? ''}`.trim() : 'not stated' };
}

/**
 * Print an issue (GET .../print.pdf): in one transaction, mark it printed, cancel its EPS message if
 * EPS does not have it yet, count the print and audit it; then render the form from the record.
 */
export async function printIssue(store: RecordStore, audit: AuditLog, actor: AuditActor, issueId: string, now: Date = new Date()): Promise<{ pdf: Uint8Array; copy: boolean; prescriptionId: string }> {
  const practice = store.practice;
  const result = await store.transaction({ author: actor.id }, async (tx) => {
    const { issue, patient } = await issueAndPatient(tx, issueId);
    if (issue.status !== 'active' && issue.status !== 'completed') {
      throw new SteadfastError('conflict', `This prescription is ${issue.status}: it cannot be printed`, { field: 'status', hint: 'Issue it again from the repeat template, or prescribe it again, if it is still needed' });
    }
    const origins = await originsOf(tx, practice, issueId);
    if (origins.some((o) => o !== store.nodeId)) {
      const both = origins.includes(store.nodeId);
      throw new SteadfastError('conflict', both ? 'This prescription was also issued on another node of the practice (during a partition), which may have sent it to EPS: it is not printed' : 'This prescription was issued on another node of the practice: print it there', {
        field: 'issueId',
        hint: both
          ? 'Check its EPS state on the other node. Stopping this issue cancels it at EPS from the node that sent it (when the stop reaches that node); prescribe again only once that cancel is confirmed there'
          : 'Only the node that issued a prescription sends or prints it, so it can never be both. Stopping it cancels it at EPS from that node, but only once the stop reaches that node: until the cancel is confirmed there, issuing again could leave two live prescriptions',
      });
    }
    const o = outdb(tx.db);
    const at = now.toISOString();
    let row = await o.selectFrom('prescriptions_out').selectAll().where('practice', '=', practice).where('issue_id', '=', issueId).executeTakeFirst();
    if (!row) {
      row = { practice, issue_id: issueId, prescription_id: prescriptionIdOfIssue(issue)!, patient_id: patient.id, route: 'printed', outbox_id: null, printed_at: null, printed_by: null, print_count: 0, eps_process: null, created_at: at, updated_at: at };
      await o.insertInto('prescriptions_out').values(row).execute();
    } else if (row.route === 'eps') {
      const m = row.outbox_id ? await odb(tx.db).selectFrom('outbox_messages').select(['state', 'sent_at']).where('practice', '=', practice).where('id', '=', row.outbox_id).executeTakeFirst() : undefined;
      if (m?.state === 'sent') {
        throw new SteadfastError('conflict', `This prescription was sent to EPS${m.sent_at ? ` at ${m.sent_at}` : ''}: the pharmacy dispenses it from there, so it is not printed as well`, {
          field: 'issueId',
          hint: 'A prescription must never be dispensable twice. Give the patient the prescription id to quote at the pharmacy',
        });
      }
      if (epsMayHold(row.eps_process)) {
        // A $process-message was attempted and EPS did not definitely refuse it: its answer may have been
        // lost after EPS took it. Printing now could make one prescription dispensable twice.
        throw new SteadfastError('conflict', 'This prescription may already be held by EPS (an attempt to send it got no definite answer): it is not printed', {
          field: 'issueId',
          hint: 'A prescription must never be dispensable twice. Wait for its EPS state to become sent (the send is retried), or have the prescriber cancel it at EPS and see the cancel confirmed before printing',
        });
      }
      if (row.outbox_id) {
        // Withdraw the EPS message, only if EPS does not have it (the update fails if it is sending or sent).
        const withdrawn = await odb(tx.db)
          .updateTable('outbox_messages')
          .set({ state: 'cancelled', last_error: 'Printed instead: not sent to EPS', updated_at: at })
          .where('practice', '=', practice)
          .where('id', '=', row.outbox_id)
          .where('state', 'in', ['pending', 'failed', 'cancelled'])
          .executeTakeFirst();
        if (Number(withdrawn.numUpdatedRows) !== 1) {
          throw new SteadfastError('conflict', 'This prescription is being sent to EPS right now', { field: 'issueId', hint: 'Wait a few seconds and look at its EPS state again; print only if EPS could not take it' });
        }
      }
    }
    const count = row.print_count + 1;
    await o
      .updateTable('prescriptions_out')
      .set({ route: 'printed', print_count: count, printed_at: row.printed_at ?? at, printed_by: row.printed_by ?? actor.id, updated_at: at })
      .where('practice', '=', practice)
      .where('issue_id', '=', issueId)
      .execute();
    await audit.appendInTransaction(tx.db, [
      { actor, event: 'export', resource: `MedicationRequest/${issueId}`, patient: `Patient/${patient.id}`, outcome: 'success', detail: `prescription ${row.prescription_id} printed (${count === 1 ? 'original' : `copy ${count - 1}, not valid for dispensing`})` },
    ]);
    return { issue, patient, copy: count > 1, prescriptionId: row.prescription_id, org: await practiceOrgOf(tx, practice) };
  });
  const { issue, patient, org } = result;
  const a = patient.address?.[0];
  const days = issue.dispenseRequest?.expectedSupplyDuration?.value;
  const data: Fp10Data = {
    prescriptionId: result.prescriptionId,
    patient: {
      name: nameOf(patient),
      address: [...(a?.line ?? []), ...(a?.city ? [a.city] : []), ...(a?.postalCode ? [a.postalCode] : [])],
      birthDate: patient.birthDate ?? '',
      nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? '',
    },
    items: [itemOf(issue)],
    ...(days ? { days } : {}),
    prescriber: prescriberOfIssue(issue).name,
    practice: { name: org.name, ods: org.ods, address: [...org.address, ...(org.postcode ? [org.postcode] : [])], ...(org.phone ? { phone: org.phone } : {}) },
    authoredOn: issue.authoredOn ?? now.toISOString(),
    copy: result.copy,
  };
  return { pdf: await renderFp10(data), copy: result.copy, prescriptionId: result.prescriptionId };
}


// The outbox screen: a person may not put a printed prescription's EPS message back in the queue.
registerOutboxOwner(EPS_SOURCE, {
  async retried(tx, practice, outboxId) {
    const r = await outdb(tx.db).selectFrom('prescriptions_out').select(['route', 'prescription_id']).where('practice', '=', practice).where('outbox_id', '=', outboxId).executeTakeFirst();
    if (r?.route === 'printed') {
      throw new SteadfastError('conflict', `Prescription ${r.prescription_id} was printed: it is not sent to EPS as well`, { hint: 'A prescription must never be dispensable twice; issue a new one if the printed form was lost' });
    }
  },
});
