/**
 * The practice task list on FHIR Task, used by results, documents and sync conflicts to ask a person
 * to act. Owners are staff accounts (Task.owner.identifier in the Steadfast user system).
 *
 *   GET  /api/tasks?status=open|closed|all&owner=me|<user id>|unassigned&patient=<id>
 *        → { tasks, summary: { open, overdue, byStatus, oldestOpen } }
 *   GET  /api/tasks/assignees
 *   POST /api/tasks        { description, patient?, owner?, due?: YYYY-MM-DD, priority?, focus? }
 *   POST /api/tasks/:id    { status?, owner?: user id | null, due?: YYYY-MM-DD | null, note? }
 */
import type { FastifyInstance } from 'fastify';
import type { Task } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { staffIdOf, staffReference } from '@steadfast/domain/systems';
import type { TaskSummary } from '@steadfast/domain/api';
import { taskForRole } from './view.ts';
import { checkTaskChange } from '@steadfast/domain/tasks';
import type { BacklogFigure } from '@steadfast/domain/api';
import type { Capability } from '../capability.ts';

const OPEN_STATUSES = ['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'] as const;
const CLOSED_STATUSES = ['completed', 'cancelled', 'rejected', 'failed'] as const;
const ALL_STATUSES: readonly string[] = [...OPEN_STATUSES, ...CLOSED_STATUSES];
const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'];

export type { TaskSummary };

/** Due before `today` (YYYY-MM-DD): the one rule the list's summary and the backlog figure share. */
function isOverdue(t: Task, today: string): boolean {
  const due = dueOf(t);
  return due !== undefined && due.slice(0, 10) < today;
}

function dueOf(t: Task): string | undefined {
  return t.restriction?.period?.end;
}

function ownerIdOf(t: Task): string | undefined {
  return staffIdOf(t.owner);
}

/** Counts and oldest age of a set of tasks (pure, for the list header and the status of backlogs). */
export function summarise(tasks: Task[], now: Date): TaskSummary {
  const byStatus: Record<string, number> = {};
  let open = 0;
  let overdue = 0;
  let oldest: Task | undefined;
  const today = now.toISOString().slice(0, 10);
  for (const t of tasks) {
    byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
    if (!(OPEN_STATUSES as readonly string[]).includes(t.status)) continue;
    open++;
    if (isOverdue(t, today)) overdue++;
    if (t.authoredOn && (!oldest?.authoredOn || t.authoredOn < oldest.authoredOn)) oldest = t;
  }
  const summary: TaskSummary = { open, overdue, byStatus };
  if (oldest?.authoredOn && oldest.id) {
    summary.oldestOpen = {
      id: oldest.id,
      authoredOn: oldest.authoredOn,
      ageDays: Math.max(0, Math.floor((now.getTime() - Date.parse(oldest.authoredOn)) / 86_400_000)),
      ...(oldest.description ? { description: oldest.description } : {}),
    };
  }
  return summary;
}

function dateOrNull(v: unknown, field: string): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null || v === '') return null;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new SteadfastError('invalid', `${field} must be a date YYYY-MM-DD`, { field });
  }
  return v;
}

async function registerTasks(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, accounts, audit } = deps;

  async function ownerRef(userId: string | null | undefined): Promise<Task['owner'] | null | undefined> {
    if (userId === undefined) return undefined;
    if (userId === null || userId === '') return null;
    const u = await accounts.getUser(userId);
    if (!u || u.disabled) throw new SteadfastError('invalid', `No active staff account ${userId}`, { field: 'owner', hint: 'Pick an assignee from /api/tasks/assignees' });
    return staffReference(u);
  }

  app.get('/api/tasks/assignees', async () => ({
    assignees: (await accounts.listUsers()).filter((u) => !u.disabled).map((u) => ({ id: u.id, name: u.name, role: u.role })),
  }));

  app.get<{ Querystring: { status?: string; owner?: string; patient?: string } }>('/api/tasks', async (request) => {
    const which = request.query.status ?? 'open';
    if (!['open', 'closed', 'all'].includes(which)) throw new SteadfastError('invalid', 'status must be open, closed or all', { field: 'status' });
    const statuses = which === 'open' ? [...OPEN_STATUSES] : which === 'closed' ? [...CLOSED_STATUSES] : [...ALL_STATUSES];
    const params = [{ name: 'status', values: statuses }];
    if (request.query.patient) params.push({ name: 'patient', values: [request.query.patient.startsWith('Patient/') ? request.query.patient : `Patient/${request.query.patient}`] });
    const page = await store.search({ resourceType: 'Task', params, count: 1000, offset: 0 });
    let tasks = (page.resources as Task[]).map((t) => taskForRole(t, request.user.role));
    const owner = request.query.owner;
    if (owner === 'me') tasks = tasks.filter((t) => ownerIdOf(t) === request.user.id);
    else if (owner === 'unassigned') tasks = tasks.filter((t) => !ownerIdOf(t));
    else if (owner) tasks = tasks.filter((t) => ownerIdOf(t) === owner);
    // Oldest first: a backlog is worked from the longest-waiting end.
    tasks.sort((a, b) => (a.authoredOn ?? '').localeCompare(b.authoredOn ?? ''));
    return { tasks, summary: summarise(tasks, new Date()), hasMore: page.hasMore };
  });

  app.post<{ Body: Record<string, unknown> }>('/api/tasks', async (request, reply) => {
    const b = request.body ?? {};
    if (typeof b.description !== 'string' || !b.description.trim()) {
      throw new SteadfastError('required', 'description is required', { field: 'description', hint: 'Say what needs doing, e.g. "Call patient about blood results"' });
    }
    const priority = b.priority === undefined ? 'routine' : b.priority;
    if (typeof priority !== 'string' || !PRIORITIES.includes(priority)) throw new SteadfastError('invalid', `priority must be one of ${PRIORITIES.join(', ')}`, { field: 'priority' });
    const due = dateOrNull(b.due, 'due');
    const owner = await ownerRef(typeof b.owner === 'string' ? b.owner : undefined);
    const patient = typeof b.patient === 'string' && b.patient ? (b.patient.startsWith('Patient/') ? b.patient : `Patient/${b.patient}`) : undefined;
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      priority: priority as Task['priority'],
      description: b.description.trim().slice(0, 1000),
      authoredOn: new Date().toISOString(),
      requester: staffReference(request.user),
      ...(patient ? { for: { reference: patient } } : {}),
      ...(owner ? { owner } : {}),
      ...(due ? { restriction: { period: { end: due } } } : {}),
      ...(typeof b.focus === 'string' && b.focus ? { focus: { reference: b.focus } } : {}),
    };
    const created = await store.transaction({ author: request.user.id }, async (tx) => {
      if (patient) {
        const p = await tx.read('Patient', patient.slice('Patient/'.length));
        if (!p || p.deleted) throw new SteadfastError('not-found', `${patient} was not found`, { field: 'patient' });
      }
      const [out] = await tx.write([{ kind: 'create', resource: task }]);
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'create', resource: `Task/${out!.resource!.id}`, patient, outcome: 'success' }]);
      return out!.resource as Task;
    });
    void reply.code(201);
    return created;
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/api/tasks/:id', async (request) => {
    const b = request.body ?? {};
    if (b.status !== undefined && (typeof b.status !== 'string' || !ALL_STATUSES.includes(b.status))) {
      throw new SteadfastError('invalid', `status must be one of ${ALL_STATUSES.join(', ')}`, { field: 'status' });
    }
    const due = dateOrNull(b.due, 'due');
    const owner = await ownerRef(b.owner === null ? null : typeof b.owner === 'string' ? b.owner : undefined);
    return store.transaction({ author: request.user.id }, async (tx) => {
      const stored = await tx.read('Task', request.params.id);
      if (!stored || stored.deleted) throw new SteadfastError('not-found', `Task/${request.params.id} was not found`, { field: 'id' });
      const next: Task = { ...(stored.resource as Task), lastModified: new Date().toISOString() };
      if (typeof b.status === 'string') next.status = b.status as Task['status'];
      if (owner === null) delete next.owner;
      else if (owner) next.owner = owner;
      if (due === null) delete next.restriction;
      else if (due) next.restriction = { period: { end: due } };
      if (typeof b.note === 'string' && b.note.trim()) {
        next.note = [...(next.note ?? []), { text: b.note.trim().slice(0, 1000), time: new Date().toISOString(), authorString: request.user.name }];
      }
      checkTaskChange(request.user.role, stored.resource as Task, next);
      const [out] = await tx.write([{ kind: 'update', resource: next, ifMatch: stored.versionId }]);
      await audit.appendInTransaction(tx.db, [{ actor: actorOf(request.user), event: 'update', resource: `Task/${request.params.id}`, patient: next.for?.reference, outcome: 'success' }]);
      return taskForRole(out!.resource as Task, request.user.role);
    });
  });
}

/** Open tasks past their due date, and the oldest of them: the hub's "tasks overdue" figure. */
async function tasksBacklog(deps: AppDeps): Promise<BacklogFigure[]> {
  // Page through: the store answers at most 1,000 a page (asking for more made /api/backlog a 400).
  const openTasks: Task[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await deps.store.search({ resourceType: 'Task', params: [{ name: 'status', values: [...OPEN_STATUSES] }], count: 1000, offset });
    openTasks.push(...(page.resources as Task[]));
    if (!page.hasMore) break;
  }
  const today = new Date().toISOString().slice(0, 10);
  const overdue = openTasks.filter((t) => isOverdue(t, today));
  const oldest = overdue.map((t) => t.authoredOn ?? '').filter(Boolean).sort()[0];
  return [{ kind: 'tasks-overdue', label: 'Tasks past their due date', count: overdue.length, ...(oldest ? { oldest } : {}) }];
}

export const tasks: Capability = { name: 'tasks', routes: registerTasks, backlog: tasksBacklog };
