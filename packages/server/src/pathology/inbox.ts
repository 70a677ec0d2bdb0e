/**
 * The results inbox: every new, final or corrected result leaves an open review Task for the
 * requesting clinician (or the unassigned pool). A clinician views the result beside earlier
 * values of the same tests, then files it with one of four outcomes; each action is audited, and
 * the follow-up (appointment, urgent contact) becomes a Task of its own, and the results message the
 * clinician chose ("normal, no action", "please book a routine appointment") is queued to the patient
 * through messaging in the same transaction, or becomes a task for reception when they cannot be texted.
 */
import type { FastifyInstance } from 'fastify';
import type { DiagnosticReport, Observation, Patient, Task } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore, StoreTransaction } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { requireRole, type SessionUser } from '../auth/index.ts';
import { actorOf } from '../audit/index.ts';
import { ABNORMAL_VALUES_INPUT, abnormalValuesOf, RESULT_TASK_CODE } from './tasks.ts';
import { pathologyInbox } from './receive.ts';
import { NHS_NUMBER_SYSTEM } from '@steadfast/domain/nhs-number';
import { displayQuantity } from '@steadfast/domain/units';
import { PATHOLOGY_FLAG_SYSTEM, staffIdOf, staffReference, TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import type { ResultMessageOutcome, ResultMessageTemplate, ResultsInbox, ResultsInboxItem } from '@steadfast/domain/api';
import { isResultMessageTemplate, queueResultMessage, RESULT_MESSAGE_TEMPLATES } from '../messaging/results.ts';

export const FILE_ACTIONS = {
  normal: 'Normal, no action',
  'routine-appointment': 'Needs a routine appointment',
  'urgent-contact': 'Needs urgent contact',
  'message-patient': 'Send the patient a message',
} as const;
export type FileAction = keyof typeof FILE_ACTIONS;

/**
 * Which results messages go with which filing: a "normal" text never follows a result filed as
 * needing a routine appointment, and an urgent result is told by phone, never by text.
 */
export const MESSAGES_FOR_ACTION: Record<FileAction, readonly ResultMessageTemplate[]> = {
  normal: ['result-normal'],
  'routine-appointment': ['result-book-routine'],
  'urgent-contact': [],
  'message-patient': RESULT_MESSAGE_TEMPLATES,
};


async function openResultTasks(store: RecordStore): Promise<Task[]> {
  const out: Task[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.search({
      resourceType: 'Task',
      params: [
        { name: 'code', values: [`${TASK_CODE_SYSTEM}|${RESULT_TASK_CODE}`] },
        { name: 'status', values: ['requested', 'in-progress'] },
      ],
      count: 1000,
      offset,
    });
    out.push(...(page.resources as Task[]));
    if (!page.hasMore) return out;
  }
}

const CRITICAL_FLAGS = new Set(['HH', 'LL', 'AA']);

/** The values of a report outside their range, read from its observations. */
async function abnormalValues(store: Pick<RecordStore, 'read'> | Pick<StoreTransaction, 'read'>, reportId: string): Promise<Array<{ test: string; flag: string }>> {
  if (!reportId) return [];
  const report = (await store.read('DiagnosticReport', reportId))?.resource as DiagnosticReport | undefined;
  const observations: Observation[] = [];
  for (const ref of report?.result ?? []) {
    const id = ref.reference?.split('/')[1];
    const o = id ? ((await store.read('Observation', id))?.resource as Observation | undefined) : undefined;
    if (o) observations.push(o);
  }
  return abnormalValuesOf(observations);
}

/** The abnormal values the task was raised with; a task from before they were kept is read from its report. */
async function abnormalValuesForList(store: RecordStore, task: Task, reportId: string): Promise<Array<{ test: string; flag: string }>> {
  const kept = task.input?.find((i) => i.type?.text === ABNORMAL_VALUES_INPUT)?.valueString;
  if (kept) {
    try {
      return JSON.parse(kept) as Array<{ test: string; flag: string }>;
    } catch {
      // fall through to the report
    }
  }
  return abnormalValues(store, reportId);
}

/** Name, NHS number and birth date of a patient: what a row needs so it is never read as someone else's. */
async function patientDetailsOf(store: RecordStore, reference: string | undefined): Promise<ResultsInboxItem['patientDetails']> {
  const id = reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined;
  if (!id) return null;
  const p = (await store.read('Patient', id))?.resource as Patient | undefined;
  if (!p) return null;
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const nhsNumber = p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  return { ...(name ? { name } : {}), ...(nhsNumber ? { nhsNumber } : {}), ...(p.birthDate ? { birthDate: p.birthDate } : {}) };
}

// One reading of an owner for the results inbox and the Tasks list (a result's owner is its requester).
const ownerId = (t: Task) => staffIdOf(t.owner) ?? null;

export async function listInbox(store: RecordStore, user: Pick<SessionUser, 'id'>, scope: 'mine' | 'pool' | 'all', now = new Date()): Promise<ResultsInbox> {
  const tasks = await openResultTasks(store);
  const visible = tasks.filter((t) => (scope === 'all' ? true : scope === 'pool' ? !ownerId(t) : ownerId(t) === user.id));
  const patients = new Map<string, Promise<ResultsInboxItem['patientDetails']>>();
  const items: ResultsInboxItem[] = (
    await Promise.all(
      visible.map(async (t) => {
        const reportId = t.focus?.reference?.split('/')[1] ?? '';
        const patient = t.for?.reference ?? '';
        if (!patients.has(patient)) patients.set(patient, patientDetailsOf(store, patient));
        return {
          taskId: t.id!,
          reportId,
          patient,
          description: t.description ?? '',
          priority: t.priority ?? 'routine',
          owner: ownerId(t),
          authoredOn: t.authoredOn ?? '',
          flags: (t.businessStatus?.text ?? '').split(', ').filter(Boolean),
          patientDetails: await patients.get(patient)!,
          abnormal: await abnormalValuesForList(store, t, reportId),
        };
      }),
    )
  )
    // urgent first, then oldest first: the backlog is worked from the riskiest end
    .sort((a, b) => (a.priority === b.priority ? a.authoredOn.localeCompare(b.authoredOn) : a.priority === 'urgent' ? -1 : b.priority === 'urgent' ? 1 : 0));
  const oldest = visible.map((t) => t.authoredOn ?? '').filter(Boolean).sort()[0];
  // Results received from the laboratory but not filed yet (normally for well under a second; a
  // growing number means the filer is behind or failing).
  const waiting = (await pathologyInbox({ store }).backlog(['received'])).received;
  return {
    items,
    backlog: {
      count: visible.length,
      urgent: visible.filter((t) => t.priority === 'urgent').length,
      oldestAuthoredOn: oldest ?? null,
      oldestAgeHours: oldest ? Math.max(0, Math.round(((now.getTime() - new Date(oldest).getTime()) / 3_600_000) * 10) / 10) : 0,
      waitingToFile: waiting?.count ?? 0,
      oldestWaitingToFile: waiting?.oldest ?? null,
    },
  };
}

async function readTask(store: RecordStore, taskId: string): Promise<Task> {
  const task = (await store.read('Task', taskId))?.resource as Task | undefined;
  if (!task || task.code?.coding?.[0]?.code !== RESULT_TASK_CODE) throw new SteadfastError('not-found', `Result task ${taskId} was not found`, { field: 'id' });
  return task;
}

/** The report, its observations, and for each test earlier values for this patient (newest first). */
export async function viewResult(store: RecordStore, taskId: string) {
  const task = await readTask(store, taskId);
  const reportId = task.focus?.reference?.split('/')[1] ?? '';
  const report = (await store.read('DiagnosticReport', reportId))?.resource as DiagnosticReport | undefined;
  if (!report) throw new SteadfastError('not-found', `Report ${reportId} was not found`);
  const observations: Observation[] = [];
  for (const ref of report.result ?? []) {
    const o = (await store.read('Observation', ref.reference!.split('/')[1]!))?.resource as Observation | undefined;
    if (o) observations.push(o);
  }
  const patient = (await store.read('Patient', report.subject!.reference!.split('/')[1]!))?.resource as Patient | undefined;
  const ownIds = new Set(observations.map((o) => o.id));
  const previous: Record<string, Array<{ date: string; value: string; interpretation: string; status: string }>> = {};
  for (const o of observations) {
    const coding = o.code.coding?.[0];
    if (!coding?.code) continue;
    const page = await store.search({
      resourceType: 'Observation',
      params: [
        { name: 'patient', values: [report.subject!.reference!] },
        { name: 'code', values: [`${coding.system ?? ''}|${coding.code}`] },
      ],
      sort: [{ param: 'date', descending: true }],
      count: 20,
      offset: 0,
    });
    previous[coding.code] = (page.resources as Observation[])
      .filter((p) => !ownIds.has(p.id) && p.status !== 'cancelled' && p.status !== 'entered-in-error')
      .map((p) => ({
        date: p.effectiveDateTime ?? '',
        value: p.valueQuantity ? displayQuantity(p.valueQuantity) : (p.valueString ?? p.valueCodeableConcept?.text ?? ''),
        interpretation: p.interpretation?.[0]?.coding?.[0]?.code ?? '',
        status: p.status,
      }));
  }
  return {
    task,
    report,
    observations,
    previous,
    patient: patient
      ? { id: patient.id, name: patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0], birthDate: patient.birthDate, nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value }
      : undefined,
    flags: (report.meta?.tag ?? []).filter((t) => t.system === PATHOLOGY_FLAG_SYSTEM).map((t) => t.code),
  };
}

export async function fileResult(deps: Pick<AppDeps, 'store' | 'audit' | 'config'>, user: SessionUser, taskId: string, body: unknown) {
  const { action, comment, confirmAbnormal, message } = (body ?? {}) as { action?: string; comment?: string; confirmAbnormal?: unknown; message?: unknown };
  if (!action || !(action in FILE_ACTIONS)) {
    throw new SteadfastError('invalid', `Unknown filing action "${action ?? ''}"`, { field: 'action', hint: `Use one of ${Object.keys(FILE_ACTIONS).join(', ')}` });
  }
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > 2000)) throw new SteadfastError('invalid', 'comment must be text of up to 2000 characters', { field: 'comment' });
  const a = action as FileAction;
  const template = checkResultMessage(a, message);
  const now = new Date().toISOString();
  return deps.store.transaction({ author: user.id }, async (tx) => {
    const task = (await tx.read('Task', taskId))?.resource as Task | undefined;
    if (!task || task.code?.coding?.[0]?.code !== RESULT_TASK_CODE) throw new SteadfastError('not-found', `Result task ${taskId} was not found`, { field: 'id' });
    if (task.status === 'completed') throw new SteadfastError('conflict', 'This result has already been filed', { field: 'id', hint: 'Reload the inbox' });
    if (a === 'normal' && confirmAbnormal !== true) {
      const abnormal = await abnormalValues(tx, task.focus?.reference?.split('/')[1] ?? '');
      if (abnormal.length) {
        const critical = abnormal.some((v) => CRITICAL_FLAGS.has(v.flag));
        throw new SteadfastError('conflict', `This result has ${critical ? 'critical' : 'abnormal'} values (${abnormal.map((v) => `${v.test} ${v.flag}`).join(', ')}) and was chosen as normal, no action`, {
          field: 'confirmAbnormal',
          hint: 'Check the values; to file it as normal anyway, confirm (confirmAbnormal: true), or choose another action',
        });
      }
    }
    const done: Task = {
      ...task,
      status: 'completed',
      lastModified: now,
      businessStatus: { text: FILE_ACTIONS[a] },
      output: [{ type: { text: 'filed-as' }, valueString: a }],
      ...(comment ? { note: [...(task.note ?? []), { text: comment, time: now, authorString: user.name }] } : {}),
    };
    const writes: Parameters<typeof tx.write>[0] = [{ kind: 'update', resource: done, ...(task.meta?.versionId ? { ifMatch: task.meta.versionId } : {}) }];
    if (a === 'routine-appointment' || a === 'urgent-contact') {
      const followUp: Task = {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        priority: a === 'urgent-contact' ? 'urgent' : 'routine',
        code: { coding: [{ system: TASK_CODE_SYSTEM, code: a === 'urgent-contact' ? 'contact-patient-urgently' : 'book-routine-appointment', display: FILE_ACTIONS[a] }] },
        ...(task.for ? { for: task.for } : {}),
        ...(task.focus ? { focus: task.focus } : {}),
        authoredOn: now,
        requester: staffReference(user),
        description: `${FILE_ACTIONS[a]}: ${task.description ?? 'pathology result'}${comment ? ` (${comment})` : ''}`,
      };
      writes.push({ kind: 'create', resource: followUp });
    }
    const outcomes = await tx.write(writes);
    const patientId = task.for?.reference?.startsWith('Patient/') ? task.for.reference.slice('Patient/'.length) : undefined;
    let sent: ResultMessageOutcome | null = null;
    if (template) {
      if (!patientId) throw new SteadfastError('invalid', 'This result is not matched to a patient, so no message can be sent', { field: 'message', hint: 'File it without a message and match the result first' });
      sent = await queueResultMessage(tx, deps.store.practice, deps.config, { patientId, template, reviewTaskId: taskId, ...(task.focus?.reference ? { report: task.focus.reference } : {}), sender: { id: user.id, name: user.name } });
    }
    await deps.audit.appendInTransaction(tx.db, [
      { actor: actorOf(user), event: 'update', resource: `Task/${taskId}`, patient: task.for?.reference, outcome: 'success', detail: `pathology result filed: ${a}${a === 'normal' && confirmAbnormal === true ? ' (abnormal values confirmed as normal)' : ''}${sent ? `; results message ${sent.template} ${sent.outcome === 'queued' ? `queued by ${sent.channel}` : 'given to reception to tell the patient'}` : ''}` },
    ]);
    return { task: outcomes[0]!.resource as Task, followUp: outcomes[1]?.resource ?? null, message: sent };
  });
}

/** The results message asked for, checked against the filing (undefined: none). */
function checkResultMessage(action: FileAction, message: unknown): ResultMessageTemplate | undefined {
  if (message === undefined || message === null || message === 'none') {
    if (action === 'message-patient') throw new SteadfastError('invalid', 'Choose the message to send the patient', { field: 'message', hint: `Use ${RESULT_MESSAGE_TEMPLATES.join(' or ')}` });
    return undefined;
  }
  if (!isResultMessageTemplate(message)) throw new SteadfastError('invalid', `"${String(message)}" is not a results message`, { field: 'message', hint: `Use ${RESULT_MESSAGE_TEMPLATES.join(', ')} or none` });
  if (!MESSAGES_FOR_ACTION[action].includes(message)) {
    throw new SteadfastError('invalid', action === 'urgent-contact' ? 'An urgent result is told to the patient by phone, not by text message' : `The message "${message}" does not match filing the result as "${FILE_ACTIONS[action]}"`, {
      field: 'message',
      hint: action === 'urgent-contact' ? 'File it as needing urgent contact with no message; the urgent task asks for a call' : `With "${FILE_ACTIONS[action]}" send ${MESSAGES_FOR_ACTION[action].join(' or ') || 'no message'}`,
    });
  }
  return message;
}

export async function registerInboxRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const clinician = requireRole('clinician');
  app.get<{ Querystring: { scope?: string } }>('/api/pathology/inbox', { preHandler: requireRole('clinician', 'practice-admin') }, async (request) => {
    const scope = request.query.scope ?? (request.user.role === 'clinician' ? 'mine' : 'all');
    if (!['mine', 'pool', 'all'].includes(scope)) throw new SteadfastError('invalid', `scope must be mine, pool or all`, { field: 'scope' });
    const result = await listInbox(deps.store, request.user, scope as 'mine' | 'pool' | 'all');
    // Practice administrators see the list too (to reassign a result whose clinician is away); only a
    // clinician opens and files a result.
    return result;
  });
  app.get<{ Params: { id: string } }>('/api/pathology/inbox/:id', { preHandler: clinician }, async (request) => {
    const view = await viewResult(deps.store, request.params.id);
    await deps.audit.append([
      { actor: actorOf(request.user), event: 'read', resource: `DiagnosticReport/${view.report.id}`, patient: view.report.subject?.reference, outcome: 'success', detail: 'pathology result viewed in inbox' },
    ]);
    return view;
  });
  app.post<{ Params: { id: string } }>('/api/pathology/inbox/:id/file', { preHandler: clinician }, async (request) => fileResult(deps, request.user, request.params.id, request.body));
}
