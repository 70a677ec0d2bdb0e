/**
 * The practice's triage of online consultations (staff session): list (red flags and urgent first,
 * then oldest; keyset-paged over the triage index), detail, match to a registered patient (proposed on
 * the NHS number plus one more identifier, confirmed by a person, never silently), categorise, set
 * urgency, assign, reply by SMS or email through the outbox, book through the appointments API, turn
 * into a consultation (Encounter), close with an outcome. Every action is audited and kept in the
 * request's history. Repeat prescription requests raise a Task for the prescriber.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DocumentReference, Encounter, Patient, QuestionnaireResponse, Task } from '@medplum/fhirtypes';
import type {
  MatchCandidate, TriageCategory, TriageDetail, TriageHistoryEntry, TriageListItem, TriageOutcome, TriageStatus, TriageUrgency,
} from '@steadfast/domain/api';
import { mayActOnConsultation, SteadfastError, type ConsultationAction } from '@steadfast/domain';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain/nhs-number';
import { CURRENT_QUESTIONNAIRE } from '@steadfast/domain/online-consultations';
import { staffReference, TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import { deterministicUuid } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import { checkFreeText } from '../messaging/templates.ts';
import { queueContactMessage } from '../messaging/send.ts';
import { catchUpIndex } from './index-rows.ts';
import { readSubmission } from './records.ts';
import { ocdb, type OcRequestsTable } from './tables.ts';

const CATEGORIES: TriageCategory[] = ['clinical', 'repeat-prescription', 'fit-note', 'letter', 'results', 'admin-other', 'signpost'];
const URGENCIES: TriageUrgency[] = ['routine', 'soon', 'urgent'];
const OUTCOMES: TriageOutcome[] = ['appointment-booked', 'consultation', 'advice-given', 'prescription-issued', 'signposted', 'no-action', 'duplicate'];
const OPEN_STATUSES: TriageStatus[] = ['new', 'in-progress', 'awaiting-patient'];
/** The reply templates (messaging's templates) a request may be answered with, besides free text. */
export const REPLY_TEMPLATES = ['oc-self-care', 'oc-please-book', 'oc-will-call'] as const;

const ACTION_WORDS: Record<ConsultationAction, string> = {
  view: 'open', match: 'match', assign: 'assign', triage: 'set the urgency or category of', reply: 'reply to', book: 'book from', close: 'close', consult: 'start a consultation from',
};

/** The care-navigator rule (domain access.ts), with an error that says who can do it instead. */
function allow(request: FastifyRequest, action: ConsultationAction, r: OcRequestsTable): void {
  const redFlags = JSON.parse(r.red_flags) as string[];
  if (mayActOnConsultation(request.user.role, action, { kind: r.kind as 'medical' | 'admin', category: r.category, redFlags })) return;
  const why = action === 'consult' ? 'A consultation is started by a clinician' : `Receptionists may not ${ACTION_WORDS[action]} a clinical request${redFlags.length ? ' (it has red flags)' : ''}`;
  throw new SteadfastError('forbidden', why, { hint: 'Assign it to a clinician, who will triage it' });
}

function listItem(r: OcRequestsTable, now: number): TriageListItem {
  return {
    id: r.id,
    reference: r.reference,
    kind: r.kind as TriageListItem['kind'],
    ...(r.admin_type ? { adminType: r.admin_type as TriageListItem['adminType'] } : {}),
    receivedAt: r.received_at,
    ageMinutes: Math.max(0, Math.floor((now - Date.parse(r.received_at)) / 60_000)),
    redFlags: JSON.parse(r.red_flags) as string[],
    status: r.status as TriageStatus,
    ...(r.urgency ? { urgency: r.urgency as TriageUrgency } : {}),
    ...(r.category ? { category: r.category as TriageCategory } : {}),
    ...(r.assignee_id ? { assignee: { id: r.assignee_id, name: r.assignee_name ?? '', role: r.assignee_role ?? '' } } : {}),
    patientName: r.patient_name,
    birthDate: r.birth_date,
    ...(r.matched_patient_id ? { matchedPatient: { id: r.matched_patient_id, name: r.matched_patient_name ?? '' } } : {}),
    summary: r.summary,
    receivedVia: r.received_via as 'node' | 'hub',
  };
}

const cursorOf = (r: OcRequestsTable) => Buffer.from(JSON.stringify([r.priority_rank, r.received_at, r.id])).toString('base64url');

function parseCursor(cursor: string): [number, string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string' && typeof v[2] === 'string') return v as [number, string, string];
  } catch { /* fall through */ }
  throw new SteadfastError('invalid', 'cursor is not one this list gave', { field: 'cursor', hint: 'Pass nextCursor from the previous page, or no cursor for the first page' });
}

export async function registerTriage(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit, accounts } = deps;
  const staff = { preHandler: requireRole('receptionist', 'clinician', 'practice-admin') };
  const practice = store.practice;
  const db = () => ocdb(store.db);

  async function row(id: string): Promise<OcRequestsTable> {
    await catchUpIndex(store);
    const r = await db().selectFrom('oc_requests').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
    if (!r) throw new SteadfastError('not-found', `Online consultation ${id} was not found`, { field: 'id', hint: 'Pick a request from the list' });
    return r;
  }

  async function submissionOf(id: string) {
    const stored = await store.read('QuestionnaireResponse', id);
    if (!stored) throw new SteadfastError('not-found', `QuestionnaireResponse/${id} was not found`, { field: 'id' });
    return { qr: stored.resource as QuestionnaireResponse, versionId: stored.versionId, s: readSubmission(stored.resource as QuestionnaireResponse) };
  }

  async function detail(id: string): Promise<TriageDetail> {
    const r = await row(id);
    const { s } = await submissionOf(id);
    const photos = [];
    for (const pid of s.photoIds) {
      const d = (await store.read('DocumentReference', pid))?.resource as DocumentReference | undefined;
      const a = d?.content?.[0]?.attachment;
      if (a) photos.push({ id: pid, contentType: a.contentType ?? '', size: Buffer.from(a.data ?? '', 'base64').length, ...(a.title ? { filename: a.title } : {}) });
    }
    const advice = new Map(CURRENT_QUESTIONNAIRE.redFlags.map((q) => [q.linkId, q.advice]));
    return {
      ...listItem(r, Date.now()),
      questionnaireVersion: s.version,
      identity: s.identity,
      contactPreference: s.contactPreference,
      answers: s.answers,
      redFlagAnswers: s.redFlags.map((f) => ({ linkId: f.linkId, question: f.text, answer: f.yes, advice: advice.get(f.linkId) ?? 'call-111' })),
      photos,
      ...(r.outcome ? { outcome: r.outcome as TriageOutcome } : {}),
      history: JSON.parse(r.history) as TriageHistoryEntry[],
      ...(r.task_id ? { prescriptionTaskId: r.task_id } : {}),
      ...(r.appointment_id ? { appointmentId: r.appointment_id } : {}),
      ...(r.encounter_id ? { encounterId: r.encounter_id } : {}),
    };
  }

  /** One audited change to a request: its row, its history and any record writes, in one transaction. */
  async function act(request: FastifyRequest, id: string, action: TriageHistoryEntry['action'], rights: ConsultationAction[], describe: string, change: (r: OcRequestsTable, tx: Parameters<Parameters<typeof store.transaction>[1]>[0]) => Promise<Partial<OcRequestsTable>>) {
    const r = await row(id);
    const user = request.user;
    await store.transaction({ author: user.id }, async (tx) => {
      const current = (await ocdb(tx.db).selectFrom('oc_requests').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirst()) ?? r;
      // Checked against the row as it is inside the transaction (a category changed meanwhile counts).
      for (const right of rights) allow(request, right, current);
      const patch = await change(current, tx);
      const history = [...(JSON.parse(current.history) as TriageHistoryEntry[]), { at: new Date().toISOString(), by: user.name, action, detail: describe }];
      await ocdb(tx.db).updateTable('oc_requests').set({ ...patch, history: JSON.stringify(history), updated_at: new Date().toISOString() }).where('practice', '=', practice).where('id', '=', id).execute();
      await audit.appendInTransaction(tx.db, [{
        actor: actorOf(user), event: 'update', resource: `QuestionnaireResponse/${id}`,
        patient: (patch.matched_patient_id ?? current.matched_patient_id) ? `Patient/${patch.matched_patient_id ?? current.matched_patient_id}` : undefined,
        outcome: 'success', detail: `online consultation ${action}: ${describe}`,
      }]);
    });
    return detail(id);
  }

  app.get<{ Querystring: { status?: string; cursor?: string; limit?: string } }>('/api/online-consultations', staff, async (request) => {
    await catchUpIndex(store);
    const which = request.query.status ?? 'open';
    const statuses = which === 'open' ? OPEN_STATUSES : which === 'closed' ? ['closed'] : (OPEN_STATUSES as string[]).includes(which) ? [which] : undefined;
    if (!statuses) throw new SteadfastError('invalid', 'status must be open, closed, new, in-progress or awaiting-patient', { field: 'status' });
    const limit = Math.min(200, Math.max(1, Number(request.query.limit ?? 50) || 50));
    let q = db().selectFrom('oc_requests').selectAll().where('practice', '=', practice).where('status', 'in', statuses);
    if (request.query.cursor) {
      const [rank, at, id] = parseCursor(request.query.cursor);
      q = q.where((eb) => eb.or([eb('priority_rank', '>', rank), eb.and([eb('priority_rank', '=', rank), eb.or([eb('received_at', '>', at), eb.and([eb('received_at', '=', at), eb('id', '>', id)])])])]));
    }
    const rows = await q.orderBy('priority_rank').orderBy('received_at').orderBy('id').limit(limit + 1).execute();
    const total = await db().selectFrom('oc_requests').select((eb) => eb.fn.countAll().as('n')).where('practice', '=', practice).where('status', 'in', statuses).executeTakeFirst();
    const now = Date.now();
    const page = rows.slice(0, limit);
    void audit.append([{ actor: actorOf(request.user), event: 'search', resource: 'QuestionnaireResponse', outcome: 'success', detail: `online consultations ${which}` }]).catch(() => undefined);
    return { items: page.map((r) => listItem(r, now)), total: Number((total as { n?: unknown } | undefined)?.n ?? 0), ...(rows.length > limit ? { nextCursor: cursorOf(page[page.length - 1]!) } : {}) };
  });

  app.get('/api/online-consultations/backlog', staff, async () => triageBacklog(deps));

  app.get<{ Params: { id: string } }>('/api/online-consultations/:id', staff, async (request) => {
    const d = await detail(request.params.id);
    await audit.append([{ actor: actorOf(request.user), event: 'read', resource: `QuestionnaireResponse/${d.id}`, patient: d.matchedPatient ? `Patient/${d.matchedPatient.id}` : undefined, outcome: 'success' }]);
    return d;
  });

  app.get<{ Params: { id: string; photoId: string } }>('/api/online-consultations/:id/photos/:photoId', staff, async (request, reply) => {
    const { s } = await submissionOf(request.params.id);
    if (!s.photoIds.includes(request.params.photoId)) throw new SteadfastError('not-found', 'No such photo on this request', { field: 'photoId' });
    const a = ((await store.read('DocumentReference', request.params.photoId))?.resource as DocumentReference).content[0]!.attachment;
    await audit.append([{ actor: actorOf(request.user), event: 'read', resource: `DocumentReference/${request.params.photoId}`, outcome: 'success' }]);
    // Served as a download with its checked image type and no sniffing, never as a page.
    return reply.header('content-type', a.contentType ?? 'application/octet-stream').header('content-disposition', 'attachment').header('x-content-type-options', 'nosniff').send(Buffer.from(a.data ?? '', 'base64'));
  });

  app.get<{ Params: { id: string } }>('/api/online-consultations/:id/match-candidates', staff, async (request) => {
    const { s } = await submissionOf(request.params.id);
    const found = new Map<string, Patient>();
    if (s.identity.nhsNumber) {
      for (const p of (await store.search({ resourceType: 'Patient', params: [{ name: 'identifier', values: [`${NHS_NUMBER_SYSTEM}|${s.identity.nhsNumber}`] }], count: 10, offset: 0 })).resources) found.set(p.id!, p as Patient);
    }
    if (s.identity.birthDate && s.identity.familyName) {
      const page = await store.search({ resourceType: 'Patient', params: [{ name: 'birthdate', values: [s.identity.birthDate] }, { name: 'family', values: [s.identity.familyName] }], count: 10, offset: 0 });
      for (const p of page.resources) found.set(p.id!, p as Patient);
    }
    const candidates: MatchCandidate[] = [...found.values()].map((p) => {
      const nhs = p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
      const postcode = p.address?.[0]?.postalCode;
      const agreed = [
        ...(nhs && nhs === s.identity.nhsNumber ? ['nhs-number'] : []),
        ...(p.birthDate === s.identity.birthDate ? ['birth-date'] : []),
        ...(p.name?.some((n) => n.family?.toLowerCase() === s.identity.familyName.toLowerCase()) ? ['family-name'] : []),
        ...(postcode && postcode.replace(/\s/g, '').toUpperCase() === s.identity.postcode.replace(/\s/g, '') ? ['postcode'] : []),
      ];
      const name = p.name?.[0];
      return {
        patientId: p.id!, name: `${(name?.given ?? []).join(' ')} ${(name?.family ?? '').toUpperCase()}`.trim(),
        ...(p.birthDate ? { birthDate: p.birthDate } : {}), ...(nhs ? { nhsNumber: nhs } : {}), ...(postcode ? { postcode } : {}),
        agreed, proposed: agreed.includes('nhs-number') && agreed.length >= 2,
      };
    });
    candidates.sort((a, b) => Number(b.proposed) - Number(a.proposed) || b.agreed.length - a.agreed.length);
    await audit.append([{ actor: actorOf(request.user), event: 'search', resource: 'Patient', outcome: 'success', detail: `match candidates for QuestionnaireResponse/${request.params.id}` }]);
    return { candidates };
  });

  app.post<{ Params: { id: string }; Body: { patientId?: unknown } }>('/api/online-consultations/:id/match', staff, async (request) => {
    const patientId = request.body?.patientId;
    if (patientId !== null && (typeof patientId !== 'string' || !patientId)) throw new SteadfastError('required', 'patientId is required (null removes a match)', { field: 'patientId', hint: 'Pick a patient from match-candidates' });
    return act(request, request.params.id, 'matched', ['match'], patientId ? `Matched to Patient/${patientId}` : 'Match removed', async (_r, tx) => {
      const stored = await tx.read('QuestionnaireResponse', request.params.id);
      if (!stored) throw new SteadfastError('not-found', `QuestionnaireResponse/${request.params.id} was not found`, { field: 'id' });
      const qr = stored.resource as QuestionnaireResponse;
      const versionId = stored.versionId;
      let name: string | null = null;
      if (patientId) {
        const p = await tx.read('Patient', patientId);
        if (!p || p.deleted) throw new SteadfastError('not-found', `Patient/${patientId} was not found`, { field: 'patientId' });
        const n = (p.resource as Patient).name?.[0];
        name = `${(n?.given ?? []).join(' ')} ${(n?.family ?? '').toUpperCase()}`.trim();
      }
      const next: QuestionnaireResponse = { ...qr };
      if (patientId) next.subject = { reference: `Patient/${patientId}` };
      else delete next.subject;
      await tx.write([{ kind: 'update', resource: next, ifMatch: versionId }]);
      return { matched_patient_id: patientId ?? null, matched_patient_name: name };
    });
  });

  app.post<{ Params: { id: string }; Body: { category?: unknown; urgency?: unknown; assigneeId?: unknown; status?: unknown } }>('/api/online-consultations/:id/triage', staff, async (request) => {
    const b = request.body ?? {};
    if (b.category !== undefined && !CATEGORIES.includes(b.category as TriageCategory)) throw new SteadfastError('invalid', `category must be one of ${CATEGORIES.join(', ')}`, { field: 'category' });
    if (b.urgency !== undefined && !URGENCIES.includes(b.urgency as TriageUrgency)) throw new SteadfastError('invalid', `urgency must be one of ${URGENCIES.join(', ')}`, { field: 'urgency' });
    if (b.status !== undefined && !OPEN_STATUSES.includes(b.status as TriageStatus)) throw new SteadfastError('invalid', `status must be one of ${OPEN_STATUSES.join(', ')} (close with /close)`, { field: 'status' });
    let assignee: { id: string; name: string; role: string } | null | undefined;
    if (b.assigneeId === null) assignee = null;
    else if (b.assigneeId !== undefined) {
      const u = typeof b.assigneeId === 'string' ? await accounts.getUser(b.assigneeId) : undefined;
      if (!u || u.disabled) throw new SteadfastError('invalid', `No active staff account ${String(b.assigneeId)}`, { field: 'assigneeId', hint: 'Pick an assignee from /api/tasks/assignees' });
      assignee = { id: u.id, name: u.name, role: u.role };
    }
    const parts = [b.category && `category ${b.category}`, b.urgency && `urgency ${b.urgency}`, assignee !== undefined && (assignee ? `assigned to ${assignee.name}` : 'unassigned'), b.status && `status ${b.status}`].filter(Boolean).join(', ');
    const rights: ConsultationAction[] = [...(b.category !== undefined || b.urgency !== undefined || b.status !== undefined ? ['triage' as const] : []), ...(assignee !== undefined ? ['assign' as const] : [])];
    return act(request, request.params.id, 'triaged', rights, parts || 'no change', async (r, tx) => {
      const patch: Partial<OcRequestsTable> = { status: (b.status as string | undefined) ?? (r.status === 'new' ? 'in-progress' : r.status) };
      if (b.category) patch.category = b.category as string;
      if (b.urgency) {
        patch.urgency = b.urgency as string;
        patch.priority_rank = b.urgency === 'urgent' || JSON.parse(r.red_flags).length ? 0 : 1;
      }
      if (assignee !== undefined) Object.assign(patch, { assignee_id: assignee?.id ?? null, assignee_name: assignee?.name ?? null, assignee_role: assignee?.role ?? null });
      // A repeat prescription request goes to the prescriber's queue as a Task, once.
      if ((b.category === 'repeat-prescription') && !r.task_id) {
        const task: Task = {
          resourceType: 'Task', id: deterministicUuid(`oc-prescription|${practice}|${r.id}`), status: 'requested', intent: 'order',
          priority: b.urgency === 'urgent' ? 'urgent' : 'routine',
          code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'repeat-prescription-request', display: 'Repeat prescription request' }] },
          description: `Repeat prescription request ${r.reference}: ${r.summary}`.slice(0, 1000),
          authoredOn: new Date().toISOString(), requester: staffReference(request.user), focus: { reference: `QuestionnaireResponse/${r.id}` },
          ...(r.matched_patient_id ? { for: { reference: `Patient/${r.matched_patient_id}` } } : {}),
          ...(assignee ? { owner: staffReference(assignee) } : {}),
        };
        await tx.write([{ kind: 'update', resource: task }]);
        patch.task_id = task.id!;
      }
      return patch;
    });
  });

  app.post<{ Params: { id: string }; Body: { channel?: unknown; template?: unknown; text?: unknown } }>('/api/online-consultations/:id/respond', staff, async (request) => {
    const b = request.body ?? {};
    if (b.channel !== 'sms' && b.channel !== 'email') throw new SteadfastError('invalid', 'channel must be sms or email', { field: 'channel' });
    const template = b.template === undefined || b.template === 'free-text' ? 'free-text' : b.template;
    if (template !== 'free-text' && !(REPLY_TEMPLATES as readonly unknown[]).includes(template)) throw new SteadfastError('invalid', `template must be free-text or one of ${REPLY_TEMPLATES.join(', ')}`, { field: 'template' });
    const text = template === 'free-text' ? checkFreeText(b.text) : undefined;
    const { s } = await submissionOf(request.params.id);
    // The reply goes to the contact details of this request as the patient gave them, never to a
    // matched record's details: a wrong match must not send one patient's reply to another.
    const to = b.channel === 'sms' ? s.identity.mobile : s.identity.email;
    if (!to) throw new SteadfastError('invalid', `This request has no ${b.channel === 'sms' ? 'mobile number' : 'email address'}`, { field: 'channel', hint: 'Reply by the other channel, or phone the patient' });
    const channel = b.channel === 'sms' ? 'notify-sms' : 'notify-email';
    const masked = b.channel === 'sms' ? `${to.slice(0, 5)}*****${to.slice(-3)}` : `${to[0]}***@${to.split('@')[1]}`;
    let messageId = '';
    const d = await act(request, request.params.id, 'responded', ['reply'], `Reply (${template}) by ${b.channel} to ${masked}`, async (r, tx) => {
      if (r.status === 'closed') throw new SteadfastError('conflict', 'This request is closed', { hint: 'Message the patient from their record instead' });
      // Recorded in the patient's record (a Communication about this request), so the patient must
      // have been matched by a person first.
      if (!r.matched_patient_id) throw new SteadfastError('invalid', 'Match the request to a registered patient before replying', { field: 'patientId', hint: 'Use match-candidates, then match; if the patient is not registered here, phone them' });
      const n = (JSON.parse(r.history) as TriageHistoryEntry[]).filter((h) => h.action === 'responded').length;
      const queued = await queueContactMessage(tx, practice, {
        patientId: r.matched_patient_id, channel: b.channel as 'sms' | 'email', to, firstName: s.identity.givenName,
        template: template as string, values: { reference: r.reference, ...(text ? { text } : {}) },
        key: `online-consultation:${r.id}:reply-${n + 1}`, category: 'online-consultation-reply', about: `QuestionnaireResponse/${r.id}`,
        sender: { id: request.user.id, name: request.user.name }, practiceName: deps.config.messaging?.practiceName ?? deps.config.onlineConsultations?.practiceName ?? 'Your GP surgery',
      });
      messageId = queued.outboxId;
      return { status: r.status === 'new' ? 'awaiting-patient' : r.status };
    });
    return { messageId, channel, toMasked: masked, request: d };
  });

  app.post<{ Params: { id: string }; Body: { slotId?: unknown } }>('/api/online-consultations/:id/book', staff, async (request) => {
    const r = await row(request.params.id);
    allow(request, 'book', r);
    if (r.status === 'closed') throw new SteadfastError('conflict', 'This request is closed', { hint: 'Book from the patient record instead' });
    if (!r.matched_patient_id) throw new SteadfastError('invalid', 'Match the request to a registered patient before booking', { field: 'patientId', hint: 'Use match-candidates, then match' });
    if (typeof request.body?.slotId !== 'string') throw new SteadfastError('required', 'slotId is required', { field: 'slotId', hint: 'Pick a free slot from /api/appointments/diary' });
    // Through the appointments capability's own API, as the same signed-in person.
    const res = await app.inject({
      method: 'POST', url: '/api/appointments/book',
      headers: { authorization: request.headers.authorization ?? '', cookie: request.headers.cookie ?? '', 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      payload: JSON.stringify({ slot: request.body.slotId, patient: r.matched_patient_id, description: `Online consultation ${r.reference}` }),
    });
    if (res.statusCode >= 300) {
      const oo = res.json() as { issue?: Array<{ diagnostics?: string }> };
      throw new SteadfastError(res.statusCode === 409 ? 'conflict' : 'invalid', `The appointment could not be booked: ${oo.issue?.[0]?.diagnostics ?? res.statusCode}`, { field: 'slotId' });
    }
    const appointmentId = (res.json() as { id: string }).id;
    await act(request, r.id, 'booked', ['book'], `Appointment/${appointmentId} booked`, async () => ({ appointment_id: appointmentId, status: 'in-progress' }));
    return { appointmentId };
  });

  app.post<{ Params: { id: string } }>('/api/online-consultations/:id/consult', { preHandler: requireRole('clinician', 'practice-admin') }, async (request) => {
    let encounterId = '';
    await act(request, request.params.id, 'consultation', ['consult'], 'Consultation started', async (r, tx) => {
      if (!r.matched_patient_id) throw new SteadfastError('invalid', 'Match the request to a registered patient before starting a consultation', { field: 'patientId', hint: 'Use match-candidates, then match' });
      const enc: Encounter = {
        resourceType: 'Encounter', status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
        subject: { reference: `Patient/${r.matched_patient_id}` },
        period: { start: new Date().toISOString() },
        // reasonReference cannot point at a QuestionnaireResponse in R4; the request is named in text
        // and linked from the triage index (encounter_id).
        reasonCode: [{ text: `Online consultation ${r.reference}: ${r.summary}`.slice(0, 500) }],
        participant: [{ individual: { display: request.user.name } }],
      };
      const [out] = await tx.write([{ kind: 'create', resource: enc }]);
      encounterId = out!.resource!.id!;
      return { encounter_id: encounterId, status: 'in-progress' };
    });
    return { encounterId };
  });

  app.post<{ Params: { id: string }; Body: { outcome?: unknown; note?: unknown } }>('/api/online-consultations/:id/close', staff, async (request) => {
    const outcome = request.body?.outcome;
    if (!OUTCOMES.includes(outcome as TriageOutcome)) throw new SteadfastError('required', `outcome must be one of ${OUTCOMES.join(', ')}`, { field: 'outcome' });
    const note = typeof request.body?.note === 'string' ? `: ${request.body.note.slice(0, 500)}` : '';
    return act(request, request.params.id, 'closed', ['close'], `Closed (${String(outcome)})${note}`, async () => ({ status: 'closed', outcome: outcome as string }));
  });
}

/** Untriaged count and oldest age, and urgent requests still open (counts only). */
export async function triageBacklog(deps: AppDeps) {
  await catchUpIndex(deps.store);
  const threshold = deps.config.onlineConsultations?.urgentThresholdMinutes ?? 30;
  const db = ocdb(deps.store.db);
  const p = deps.store.practice;
  const untriaged = await db.selectFrom('oc_requests').select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('received_at').as('oldest')]).where('practice', '=', p).where('status', '=', 'new').executeTakeFirst();
  const cutoff = new Date(Date.now() - threshold * 60_000).toISOString();
  const urgent = await db.selectFrom('oc_requests').select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('received_at').as('oldest')]).where('practice', '=', p).where('status', '!=', 'closed').where('priority_rank', '=', 0).executeTakeFirst();
  const over = await db.selectFrom('oc_requests').select((eb) => eb.fn.countAll().as('n')).where('practice', '=', p).where('status', '!=', 'closed').where('priority_rank', '=', 0).where('received_at', '<', cutoff).executeTakeFirst();
  const oldest = (untriaged as { oldest?: string | null } | undefined)?.oldest ?? undefined;
  return {
    untriaged: Number((untriaged as { n?: unknown } | undefined)?.n ?? 0),
    ...(oldest ? { oldestUntriaged: oldest } : {}),
    oldestAgeMinutes: oldest ? Math.max(0, Math.floor((Date.now() - Date.parse(oldest)) / 60_000)) : 0,
    urgentOpen: Number((urgent as { n?: unknown } | undefined)?.n ?? 0),
    ...((urgent as { oldest?: string | null } | undefined)?.oldest ? { oldestUrgent: (urgent as { oldest: string }).oldest } : {}),
    urgentOverThreshold: Number((over as { n?: unknown } | undefined)?.n ?? 0),
    urgentThresholdMinutes: threshold,
  };
}
