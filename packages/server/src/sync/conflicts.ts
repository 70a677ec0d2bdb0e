/**
 * After entries from another node are applied, act on what the conflict rules found, as ordinary local
 * writes so that they replicate like any other:
 * - a field merge of demographics is materialised as an entry (author `system:sync-merge`), because the
 *   store serves the body of one entry as the current version;
 * - concurrent changes to a medication, allergy or problem raise a review Task for a clinician;
 * - two bookings of one slot from different nodes raise a Task for reception.
 * Everything here is idempotent: Task ids derive from the conflicting entries, a Task that exists is
 * never raised again, and a merge is written only while the current version differs from the merge.
 * It runs before a batch is acknowledged, so a crash part-way is repaired when the batch is resent.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  doubleBookingTask,
  findDoubleBookings,
  project,
  reviewTask,
  ruleFor,
  SYNC_MERGE_AUTHOR,
  type BookedAppointment,
  type ChangeEntry,
  type Projection,
} from '@steadfast/domain';
import { loggedEntryOf, type RecordStore } from '@steadfast/store';

const SYNC_AUTHOR = 'system:sync';

export interface ConflictOutcome {
  merges: number;
  /** Ids of Tasks raised by this call (not those that already existed). */
  tasksRaised: string[];
}

async function entriesOf(store: RecordStore, type: string, id: string): Promise<ChangeEntry[]> {
  const rows = await store.db
    .selectFrom('change_log')
    .selectAll()
    .where('practice', '=', store.practice)
    .where('resource_type', '=', type)
    .where('resource_id', '=', id)
    .execute();
  return rows.map(loggedEntryOf);
}

async function raiseTask(store: RecordStore, task: Resource): Promise<boolean> {
  return store.transaction({ author: SYNC_AUTHOR }, async (tx) => {
    if (await tx.read('Task', task.id!)) return false;
    await tx.write([{ kind: 'update', resource: task }]);
    return true;
  });
}

async function materialiseMerge(store: RecordStore, p: Projection): Promise<boolean> {
  if (!p.merged || !p.resource) return false;
  const { meta: _meta, ...body } = p.resource as Resource & { meta?: unknown };
  try {
    return await store.transaction({ author: SYNC_MERGE_AUTHOR }, async (tx) => {
      const now = await tx.read(p.head.resourceType, p.head.resourceId);
      // Someone wrote since we looked; the next batch (or that write itself) settles it.
      if (!now || now.versionId !== p.head.versionId) return false;
      await tx.write([{ kind: 'update', resource: body as Resource, ifMatch: p.head.versionId }]);
      return true;
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'precondition-failed') return false;
    throw err;
  }
}

/** The entry that created an appointment (its first create by HLC). */
function creatingEntry(entries: ChangeEntry[]): ChangeEntry | undefined {
  return entries.filter((e) => e.baseVersionId === null).sort((a, b) => (a.hlc < b.hlc ? -1 : a.hlc > b.hlc ? 1 : 0))[0];
}

export async function resolveConflicts(store: RecordStore, applied: readonly ChangeEntry[]): Promise<ConflictOutcome> {
  const outcome: ConflictOutcome = { merges: 0, tasksRaised: [] };
  const touched = new Map<string, { type: string; id: string }>();
  for (const e of applied) {
    const rule = ruleFor(e.resourceType).rule;
    if (rule === 'field-merge' || rule === 'review' || rule === 'slot-booking') touched.set(`${e.resourceType}/${e.resourceId}`, { type: e.resourceType, id: e.resourceId });
  }
  const slots = new Set<string>();
  for (const { type, id } of touched.values()) {
    const entries = await entriesOf(store, type, id);
    const p = project(entries);
    if (!p) continue;
    const rule = ruleFor(type).rule;
    if (rule === 'field-merge' && (await materialiseMerge(store, p))) outcome.merges++;
    if (rule === 'review') {
      for (const c of p.conflicts) if (await raiseTask(store, reviewTask(c) as Resource)) outcome.tasksRaised.push(c.taskId);
    }
    if (rule === 'slot-booking') {
      for (const e of entries) for (const s of ((e.resource as { slot?: Array<{ reference?: string }> } | null)?.slot ?? [])) if (s.reference) slots.add(s.reference);
    }
  }
  for (const slot of slots) {
    const page = await store.search({ resourceType: 'Appointment', params: [{ name: 'slot', values: [slot] }], count: 100, offset: 0 });
    const booked: BookedAppointment[] = [];
    for (const resource of page.resources) {
      const created = creatingEntry(await entriesOf(store, 'Appointment', resource.id!));
      if (created) booked.push({ id: resource.id!, created, resource });
    }
    for (const d of findDoubleBookings(booked)) {
      if (d.slot !== slot) continue;
      if (await raiseTask(store, doubleBookingTask(d) as Resource)) outcome.tasksRaised.push(d.taskId);
    }
  }
  return outcome;
}
