/**
 * Patients' repeat requests: the prescriber's queue of online consultations asking for a repeat
 * prescription (an admin request "A question about a repeat prescription", or any request triaged as
 * 'repeat-prescription'), oldest first, each with the patient's active repeat templates, those the
 * patient's words name first. From the queue the prescriber issues (through the medicines capability's
 * own issue route, so every safety check and idempotency rule of issuing applies) or rejects with a
 * reason. Every decision is audited; a request is decided once (a second decision is refused).
 *
 * A request not yet matched to a registered patient is still listed (patientId null) and counted in the
 * backlog, so it cannot go unseen; it cannot be issued until online consultations' triage matches it.
 */
import type { MedicationRequest, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deterministicUuid, SteadfastError } from '@steadfast/domain';
import type { BacklogFigure } from '@steadfast/domain/api';
import type { RepeatDecisionResponse, RepeatRequest, RepeatRequestItem, RepeatRequestState, RepeatRequestsResponse } from '@steadfast/domain/api/prescriptions';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { readSubmission } from '../online-consultations/records.ts';
import { ocdb, type OcRequestsTable } from '../online-consultations/tables.ts';
import { outdb, type RepeatRequestsTable } from './out-tables.ts';

/**
 * Issue one repeat from a template for the signed-in prescriber: answers the issue id and prescription
 * id, or throws the issue route's error (409 with alerts, no issues left, review passed...).
 */
export type IssueFromTemplate = (request: FastifyRequest, templateId: string, idempotencyKey: string) => Promise<{ issueId: string; prescriptionId: string }>;

const STATES: readonly RepeatRequestState[] = ['waiting', 'issued', 'rejected'];
const REASON_MIN = 5;
const REASON_MAX = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Words of a product name that say nothing about which medicine it is. */
const NOISE = new Set(['tablets', 'tablet', 'capsules', 'capsule', 'oral', 'solution', 'suspension', 'cream', 'ointment', 'inhaler', 'modified', 'release', 'gastro', 'resistant', 'micrograms', 'dose', 'sugar', 'free', 'with', 'and']);

function nameOfTemplate(mr: MedicationRequest): string {
  return mr.medicationCodeableConcept?.text ?? mr.medicationCodeableConcept?.coding?.[0]?.display ?? 'Unnamed medicine';
}

/** Whether the patient's words name this medicine (a word of 4+ letters of its name, ignoring forms and units). */
export function namesMedicine(patientText: string, productName: string): boolean {
  const said = new Set(patientText.toLowerCase().split(/[^a-z]+/).filter((w) => w.length >= 4));
  return productName
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length >= 4 && !NOISE.has(w))
    .some((w) => said.has(w) || [...said].some((s) => s.length >= 5 && (w.startsWith(s) || s.startsWith(w))));
}

/** The patient's active repeat templates, matched to their words first. */
async function itemsFor(store: RecordStore, patientId: string, text: string): Promise<RepeatRequestItem[]> {
  const page = await store.search({ resourceType: 'MedicationRequest', params: [{ name: 'patient', values: [`Patient/${patientId}`] }, { name: 'status', values: ['active'] }], count: 1000, offset: 0 });
  const templates = (page.resources as MedicationRequest[]).filter((mr) => mr.intent === 'plan' && mr.id);
  return templates
    .map((t) => {
      const name = nameOfTemplate(t);
      const reviewDate = t.dispenseRequest?.validityPeriod?.end?.slice(0, 10);
      return { templateId: t.id!, name, matched: namesMedicine(text, name), ...(reviewDate ? { reviewDate } : {}) };
    })
    .sort((a, b) => Number(b.matched) - Number(a.matched) || a.name.localeCompare(b.name));
}

function isRepeatRow(r: Pick<OcRequestsTable, 'admin_type' | 'category'>): boolean {
  return r.admin_type === 'repeat-prescription' || r.category === 'repeat-prescription';
}

async function requestOf(store: RecordStore, oc: OcRequestsTable, decision: RepeatRequestsTable | undefined): Promise<RepeatRequest> {
  const stored = await store.read('QuestionnaireResponse', oc.id);
  const s = stored ? readSubmission(stored.resource as QuestionnaireResponse) : undefined;
  const text = s?.answers.find((a) => a.linkId === 'medication')?.answer ?? s?.answers.find((a) => a.linkId === 'details')?.answer ?? oc.summary;
  const patientId = oc.matched_patient_id;
  const outcome = decision?.outcome ? (JSON.parse(decision.outcome) as { reason?: string }) : {};
  return {
    id: oc.id,
    reference: oc.reference,
    patientId,
    patientName: oc.matched_patient_name ?? oc.patient_name,
    requestedAt: oc.received_at,
    requestedText: text,
    items: patientId ? await itemsFor(store, patientId, text) : [],
    source: 'online-consultation',
    state: decision?.state ?? 'waiting',
    issueIds: decision ? (JSON.parse(decision.issue_ids) as string[]) : [],
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    ...(decision?.decided_at ? { decidedAt: decision.decided_at } : {}),
    ...(decision?.decided_by ? { decidedBy: decision.decided_by } : {}),
  };
}

async function rowsOf(store: RecordStore): Promise<Array<{ oc: OcRequestsTable; decision: RepeatRequestsTable | undefined }>> {
  const ocs = await ocdb(store.db)
    .selectFrom('oc_requests')
    .selectAll()
    .where('practice', '=', store.practice)
    .where((eb) => eb.or([eb('admin_type', '=', 'repeat-prescription'), eb('category', '=', 'repeat-prescription')]))
    .orderBy('received_at')
    .orderBy('id')
    .execute();
  const decisions = new Map((await outdb(store.db).selectFrom('repeat_requests').selectAll().where('practice', '=', store.practice).execute()).map((d) => [d.id, d]));
  return ocs.map((oc) => ({ oc, decision: decisions.get(oc.id) }));
}

/** Waiting repeat requests (and those still needing a patient match): for the status bar and the hub. */
export async function repeatRequestBacklog(store: RecordStore): Promise<BacklogFigure[]> {
  const waiting = (await rowsOf(store)).filter((r) => (r.decision?.state ?? 'waiting') === 'waiting');
  const oldest = waiting[0]?.oc.received_at;
  const unmatched = waiting.filter((r) => !r.oc.matched_patient_id);
  return [
    { kind: 'repeat-requests-waiting', label: 'Repeat prescription requests waiting for a prescriber', count: waiting.length, ...(oldest ? { oldest } : {}) },
    { kind: 'repeat-requests-unmatched', label: 'Repeat prescription requests waiting for a patient match', count: unmatched.length, ...(unmatched[0] ? { oldest: unmatched[0].oc.received_at } : {}) },
  ];
}

export async function registerRepeatRequestRoutes(app: FastifyInstance, deps: AppDeps, issueFromTemplate: IssueFromTemplate | undefined): Promise<void> {
  const { store, audit } = deps;
  const practice = store.practice;
  const clinician = requireRole('clinician');

  async function load(id: string): Promise<{ oc: OcRequestsTable; decision: RepeatRequestsTable | undefined }> {
    const oc = await ocdb(store.db).selectFrom('oc_requests').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
    if (!oc || !isRepeatRow(oc)) throw new SteadfastError('not-found', `Repeat request ${id} was not found`, { field: 'id', hint: 'Use an id from GET /api/medicines/repeat-requests' });
    const decision = await outdb(store.db).selectFrom('repeat_requests').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
    return { oc, decision };
  }

  /** Record a decision once: a request already decided (by anyone, on this node) is refused. */
  async function decide(request: FastifyRequest, id: string, state: 'issued' | 'rejected', outcome: unknown, issueIds: string[], idempotencyKey: string | null, detail: string): Promise<void> {
    const at = new Date().toISOString();
    await store.transaction({ author: request.user.id }, async (tx) => {
      const o = outdb(tx.db);
      const current = await o.selectFrom('repeat_requests').select(['state', 'idempotency_key']).where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
      if (current && current.state !== 'waiting') {
        if (state === 'issued' && current.state === 'issued' && current.idempotency_key === idempotencyKey) return;
        throw new SteadfastError('conflict', `This repeat request was already ${current.state}`, { field: 'id', hint: 'Reload the queue' });
      }
      const row: RepeatRequestsTable = { practice, id, state, outcome: JSON.stringify(outcome), decided_by: request.user.name, decided_at: at, issue_ids: JSON.stringify(issueIds), idempotency_key: idempotencyKey, updated_at: at };
      if (current) await o.updateTable('repeat_requests').set(row).where('practice', '=', practice).where('id', '=', id).execute();
      else await o.insertInto('repeat_requests').values(row).execute();
      const oc = await ocdb(tx.db).selectFrom('oc_requests').select('matched_patient_id').where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
      await audit.appendInTransaction(tx.db, [
        { actor: actorOf(request.user), event: 'update', resource: `QuestionnaireResponse/${id}`, ...(oc?.matched_patient_id ? { patient: `Patient/${oc.matched_patient_id}` } : {}), outcome: 'success', detail },
      ]);
    });
  }

  app.get<{ Querystring: { state?: string } }>('/api/medicines/repeat-requests', { preHandler: clinician }, async (request): Promise<RepeatRequestsResponse> => {
    const want = request.query?.state ?? 'waiting';
    if (want !== 'all' && !STATES.includes(want as RepeatRequestState)) throw new SteadfastError('invalid', `state "${want}" is not waiting, issued, rejected or all`, { field: 'state', hint: 'e.g. state=waiting' });
    const rows = await rowsOf(store);
    const waitingRows = rows.filter((r) => (r.decision?.state ?? 'waiting') === 'waiting');
    const chosen = want === 'all' ? rows : rows.filter((r) => (r.decision?.state ?? 'waiting') === want);
    const requests = await Promise.all(chosen.slice(0, 200).map((r) => requestOf(store, r.oc, r.decision)));
    await audit.append([{ actor: actorOf(request.user), event: 'search', resource: 'QuestionnaireResponse', outcome: 'success', detail: `repeat prescription requests (${want})` }]);
    return { requests, waiting: waitingRows.length, waitingUnmatched: waitingRows.filter((r) => !r.oc.matched_patient_id).length };
  });

  app.post<{ Params: { id: string }; Body: { templateIds?: unknown; idempotencyKey?: unknown } }>('/api/medicines/repeat-requests/:id/issue', { preHandler: clinician }, async (request): Promise<RepeatDecisionResponse> => {
    const b = request.body ?? {};
    if (!Array.isArray(b.templateIds) || !b.templateIds.length || !b.templateIds.every((t) => typeof t === 'string' && t)) {
      throw new SteadfastError('required', 'templateIds must list the repeat templates to issue', { field: 'templateIds', hint: 'Tick at least one medicine of the request' });
    }
    if (typeof b.idempotencyKey !== 'string' || !UUID.test(b.idempotencyKey)) throw new SteadfastError('required', 'idempotencyKey must be a UUID made by the client for this decision', { field: 'idempotencyKey', hint: 'crypto.randomUUID(), kept across retries' });
    const key = b.idempotencyKey;
    const templateIds = [...new Set(b.templateIds as string[])];
    const { oc, decision } = await load(request.params.id);
    if (decision && decision.state !== 'waiting' && !(decision.state === 'issued' && decision.idempotency_key === key)) {
      throw new SteadfastError('conflict', `This repeat request was already ${decision.state}`, { field: 'id', hint: 'Reload the queue' });
    }
    if (!oc.matched_patient_id) throw new SteadfastError('invalid', 'Match the request to a registered patient before issuing', { field: 'patientId', hint: 'Online consultations: match-candidates, then match' });
    const current = await requestOf(store, oc, decision);
    const offered = new Set(current.items.map((i) => i.templateId));
    const foreign = templateIds.filter((t) => !offered.has(t));
    if (foreign.length) throw new SteadfastError('invalid', `Not an active repeat template of this patient: ${foreign.join(', ')}`, { field: 'templateIds', hint: "Pick from the request's items (the patient's active repeats)" });
    if (!issueFromTemplate) throw new SteadfastError('unavailable', 'Issuing is not available on this node', { hint: 'The medicines capability provides the issue function' });
    const issued: NonNullable<RepeatDecisionResponse['issued']> = [];
    // One idempotency key per template, derived from the decision's: a retried decision issues nothing twice.
    for (const templateId of templateIds) {
      const made = await issueFromTemplate(request, templateId, deterministicUuid(`repeat-request|${key}|${templateId}`));
      issued.push({ templateId, ...made });
    }
    await decide(request, oc.id, 'issued', { templateIds }, issued.map((i) => i.issueId), key, `repeat request ${oc.reference} issued: ${issued.map((i) => i.prescriptionId).join(', ')}`);
    const after = await load(oc.id);
    return { request: await requestOf(store, after.oc, after.decision), issued };
  });

  app.post<{ Params: { id: string }; Body: { reason?: unknown } }>('/api/medicines/repeat-requests/:id/reject', { preHandler: clinician }, async (request): Promise<RepeatDecisionResponse> => {
    const reason = typeof request.body?.reason === 'string' ? request.body.reason.trim() : '';
    if (reason.length < REASON_MIN || reason.length > REASON_MAX) {
      throw new SteadfastError('required', `A reason of ${REASON_MIN} to ${REASON_MAX} characters is needed to reject a repeat request`, { field: 'reason', hint: 'e.g. "Review due: please book a medication review"' });
    }
    const { oc } = await load(request.params.id);
    await decide(request, oc.id, 'rejected', { reason }, [], null, `repeat request ${oc.reference} rejected: ${reason.slice(0, 200)}`);
    const after = await load(oc.id);
    return { request: await requestOf(store, after.oc, after.decision) };
  });
}
