/**
 * What happens when replicas of one practice record wrote to the same resource without seeing each
 * other's writes. The rules follow clinical meaning, one rule per resource type, and are pure: given
 * the same set of change-log entries, every replica computes the same current version and raises the
 * same review Tasks (with the same ids) whatever order the entries arrived in.
 *
 * Concurrency is read from the version chain: every entry names the version it was based on, so two
 * entries with the same base were written without either seeing the other (a fork).
 */
import type { Resource, Task } from '@medplum/fhirtypes';
import type { ChangeEntry } from '../changes.ts';
import type { SupportedResourceType } from '../fhir/resource-types.ts';
import { decodeHlc } from '../hlc.ts';
import { deterministicUuid } from './sha256.ts';
import { TASK_CODE_SYSTEM } from '../systems.ts';

export type ConflictRule =
  /** New clinical entries: each is its own resource, so they never conflict; an amendment is last-writer-wins. */
  | 'append-only'
  /** Demographics: each top-level field takes the value of the latest (by HLC) entry that changed it. */
  | 'field-merge'
  /** Medication, allergy, problem: provisional winner by HLC, both versions kept, a clinician reviews. */
  | 'review'
  /** Appointments: last-writer-wins per appointment; two bookings of one slot are kept and flagged. */
  | 'slot-booking'
  /** Tasks: last-writer-wins, but a second create of one Task id (two nodes raising one review) is ignored. */
  | 'first-create-wins'
  /** Everything else: the entry with the latest HLC is current. */
  | 'last-writer-wins';

export interface RuleDefinition {
  rule: ConflictRule;
  why: string;
}

const appendOnly: RuleDefinition = { rule: 'append-only', why: 'A new clinical entry is never lost or merged; every version stays in history' };
const review: RuleDefinition = {
  rule: 'review',
  why: 'Merging two changes to a medicine, allergy or problem could produce a combination no clinician chose',
};
const lww = (why: string): RuleDefinition => ({ rule: 'last-writer-wins', why });

/** The rules table: one row per resource type. Documented in docs/sync-protocol.md. */
export const conflictRules: Record<SupportedResourceType, RuleDefinition> = {
  Patient: { rule: 'field-merge', why: 'A new phone number from reception and a new address from a GP should both survive' },
  Encounter: appendOnly,
  Observation: appendOnly,
  DiagnosticReport: appendOnly,
  DocumentReference: appendOnly,
  Binary: appendOnly,
  Communication: appendOnly,
  QuestionnaireResponse: appendOnly,
  MedicationRequest: review,
  AllergyIntolerance: review,
  Condition: review,
  Appointment: { rule: 'slot-booking', why: 'Two patients booked into one slot must both be told, not silently dropped' },
  Task: { rule: 'first-create-wins', why: 'Two nodes raising the same review must not undo a clinician completing it' },
  Practitioner: lww('Staff details change rarely and from one place'),
  PractitionerRole: lww('Staff details change rarely and from one place'),
  Organization: lww('Organisation details change rarely and from one place'),
  Location: lww('Location details change rarely and from one place'),
  Schedule: lww('Rota changes come from the practice manager'),
  Slot: lww('Slot status follows its appointments; double bookings are flagged on the Appointment rule'),
  ServiceRequest: lww('A request is amended by its requester'),
  Specimen: lww('Specimen details come from the requester or the laboratory'),
  Flag: lww('Alerts are edited rarely; every version stays in history'),
  Consent: lww('A sharing decision is made and withdrawn at the practice that holds the record'),
  AuditEvent: appendOnly,
};

/**
 * Author of the entries a node writes to materialise a field merge (so that the store, which serves
 * the body of one entry as the current version, serves the merged one). They are derived, not edits:
 * the merge ignores them as changes but uses their bodies as bases for edits made on top of them.
 */
export const SYNC_MERGE_AUTHOR = 'system:sync-merge';

export function ruleFor(resourceType: string): RuleDefinition {
  return (conflictRules as Record<string, RuleDefinition>)[resourceType] ?? lww('Not a Steadfast resource type');
}

/** Two versions of one resource changed concurrently, to be put in front of a clinician. */
export interface ReviewConflict {
  /** Deterministic from the two entry ids, so two nodes raising it write one Task. */
  taskId: string;
  resourceType: string;
  resourceId: string;
  /** The provisional winner (higher HLC of the two). */
  winner: ChangeEntry;
  /** The other version, kept in history. */
  other: ChangeEntry;
}

export interface Projection {
  /** The entry with the latest HLC: its versionId is the current version id. */
  head: ChangeEntry;
  /** The current resource (merged for field-merge types); null when deleted. */
  resource: Resource | null;
  deleted: boolean;
  /** True when the current resource differs from the head entry's body (a field merge took place). */
  merged: boolean;
  conflicts: ReviewConflict[];
}

/** HLC order with the entry id as a tie-break, so the order is total. */
export function compareEntries(a: ChangeEntry, b: ChangeEntry): number {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1;
  return a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0;
}

/**
 * The current version of one resource from all the entries written for it, in any order. Entries
 * repeated (same entryId) count once. Returns undefined for no entries.
 */
export function project(entries: readonly ChangeEntry[]): Projection | undefined {
  const unique = new Map<string, ChangeEntry>();
  for (const e of entries) unique.set(e.entryId, e);
  const sorted = [...unique.values()].sort(compareEntries);
  const head = sorted[sorted.length - 1];
  if (!head) return undefined;
  const { rule } = ruleFor(head.resourceType);

  if (rule === 'field-merge') return fieldMerge(sorted, head);

  let current = head;
  if (rule === 'first-create-wins') {
    const firstCreate = sorted.find((e) => e.baseVersionId === null);
    const live = sorted.filter((e) => e.baseVersionId !== null || e === firstCreate);
    current = live[live.length - 1] ?? head;
  }
  const conflicts = rule === 'review' ? reviewConflicts(sorted) : [];
  const deleted = current.op === 'delete';
  return { head: current, resource: deleted ? null : current.resource, deleted, merged: false, conflicts };
}

function reviewConflicts(sorted: ChangeEntry[]): ReviewConflict[] {
  const byBase = new Map<string, ChangeEntry[]>();
  for (const e of sorted) {
    const key = e.baseVersionId ?? '';
    byBase.set(key, [...(byBase.get(key) ?? []), e]);
  }
  const conflicts: ReviewConflict[] = [];
  for (const siblings of byBase.values()) {
    if (siblings.length < 2) continue;
    const winner = siblings[siblings.length - 1]!;
    for (const other of siblings.slice(0, -1)) {
      // Two nodes making the identical change is agreement, not a conflict.
      if (other.op === winner.op && canonicalJson(clinicalContent(other.resource)) === canonicalJson(clinicalContent(winner.resource))) continue;
      conflicts.push({
        taskId: reviewTaskId(winner.entryId, other.entryId),
        resourceType: winner.resourceType,
        resourceId: winner.resourceId,
        winner,
        other,
      });
    }
  }
  return conflicts;
}

const IGNORED_FIELDS = new Set(['resourceType', 'id', 'meta']);

function clinicalContent(resource: Resource | null): Record<string, unknown> | null {
  if (!resource) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) if (!IGNORED_FIELDS.has(k)) out[k] = v;
  return out;
}

/**
 * Field-by-field merge: each entry changes only the top-level fields that differ from the version it
 * was based on; applied in HLC order, the later change to a field wins and other fields survive.
 */
function fieldMerge(sorted: ChangeEntry[], head: ChangeEntry): Projection {
  const bodies = new Map<string, Record<string, unknown> | null>();
  for (const e of sorted) bodies.set(e.versionId, clinicalContent(e.resource));

  let state: Record<string, unknown> = {};
  let deleted = false;
  for (const e of sorted) {
    if (e.author === SYNC_MERGE_AUTHOR) continue;
    if (e.op === 'delete') {
      deleted = true;
      continue;
    }
    const body = clinicalContent(e.resource) ?? {};
    const base = e.baseVersionId === null ? undefined : bodies.get(e.baseVersionId);
    if (base === undefined) {
      // A create, or a base this replica never saw: the entry states the whole resource.
      state = e.baseVersionId === null && !deleted ? { ...state, ...body } : { ...body };
    } else {
      const baseBody = base ?? {};
      for (const key of new Set([...Object.keys(baseBody), ...Object.keys(body)])) {
        if (canonicalJson(baseBody[key]) === canonicalJson(body[key])) continue;
        if (key in body) state[key] = body[key];
        else delete state[key];
      }
    }
    deleted = false;
  }
  if (deleted) return { head, resource: null, deleted: true, merged: false, conflicts: [] };
  const headBody = head.resource as (Resource & { meta?: Resource['meta'] }) | null;
  const resource = {
    resourceType: head.resourceType,
    id: head.resourceId,
    ...(headBody?.meta ? { meta: headBody.meta } : {}),
    ...sortKeys(state),
  } as Resource;
  const merged = canonicalJson(clinicalContent(head.resource)) !== canonicalJson(state);
  return { head, resource, deleted: false, merged, conflicts: [] };
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/** JSON with object keys sorted, so equal values give equal strings whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function reviewTaskId(entryA: string, entryB: string): string {
  const [a, b] = [entryA, entryB].sort();
  return deterministicUuid(`steadfast:sync-review:${a}:${b}`);
}

export function doubleBookingTaskId(entryA: string, entryB: string): string {
  const [a, b] = [entryA, entryB].sort();
  return deterministicUuid(`steadfast:double-booking:${a}:${b}`);
}

/** Task.code system for the Tasks sync raises. */

/** The instant a conflict was detected, taken from the entries (not a clock), so every node writes the same Task. */
function instantOf(...entries: ChangeEntry[]): string {
  const latest = entries.map((e) => decodeHlc(e.hlc).wallMs).reduce((a, b) => Math.max(a, b), 0);
  return new Date(latest).toISOString();
}

function patientOf(resource: Resource | null): string | undefined {
  const r = resource as { subject?: { reference?: string }; patient?: { reference?: string } } | null;
  return r?.subject?.reference ?? r?.patient?.reference;
}

function versionRef(e: ChangeEntry): string {
  return `${e.resourceType}/${e.resourceId}/_history/${e.versionId}`;
}

function describe(e: ChangeEntry): string {
  if (e.op === 'delete') return `deleted on node ${e.originNode} by ${e.author}`;
  return `version written on node ${e.originNode} by ${e.author}`;
}

/** The review Task for a clinician: both versions side by side (as inputs), the provisional winner first. */
export function reviewTask(conflict: ReviewConflict): Task {
  const { winner, other } = conflict;
  const patient = patientOf(winner.resource) ?? patientOf(other.resource);
  const label = { MedicationRequest: 'medication', AllergyIntolerance: 'allergy', Condition: 'problem' }[conflict.resourceType] ?? conflict.resourceType;
  return {
    resourceType: 'Task',
    id: conflict.taskId,
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'sync-review', display: 'Review concurrent changes' }] },
    description:
      `The same ${label} was changed on two computers while they could not reach each other. ` +
      `The later change is shown for now; check both versions and record the right one.`,
    focus: { reference: `${conflict.resourceType}/${conflict.resourceId}` },
    ...(patient ? { for: { reference: patient } } : {}),
    authoredOn: instantOf(winner, other),
    performerType: [{ text: 'clinician' }],
    input: [
      { type: { text: `Provisional winner (${describe(winner)})` }, valueReference: { reference: versionRef(winner) } },
      { type: { text: `Other version (${describe(other)})` }, valueReference: { reference: versionRef(other) } },
    ],
  } as Task;
}

/** What the double-booking check needs to know about an appointment. */
export interface BookedAppointment {
  id: string;
  /** The entry that created the appointment (its origin node and entry id). */
  created: ChangeEntry;
  resource: Resource;
}

export interface DoubleBooking {
  taskId: string;
  slot: string;
  first: BookedAppointment;
  second: BookedAppointment;
}

const INACTIVE_APPOINTMENT = new Set(['cancelled', 'noshow', 'entered-in-error']);

/**
 * Two live appointments in one slot, booked on different nodes. Both are kept; reception is asked to
 * rebook one. Pairs are ordered by creation entry so every node derives the same Task.
 */
export function findDoubleBookings(appointments: readonly BookedAppointment[]): DoubleBooking[] {
  const bySlot = new Map<string, BookedAppointment[]>();
  for (const a of appointments) {
    const r = a.resource as { status?: string; slot?: Array<{ reference?: string }> };
    if (r.status && INACTIVE_APPOINTMENT.has(r.status)) continue;
    for (const s of r.slot ?? []) {
      if (!s.reference) continue;
      bySlot.set(s.reference, [...(bySlot.get(s.reference) ?? []), a]);
    }
  }
  const found: DoubleBooking[] = [];
  for (const [slot, booked] of [...bySlot.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ordered = [...booked].sort((x, y) => compareEntries(x.created, y.created));
    for (let i = 0; i < ordered.length; i++) {
      for (let j = i + 1; j < ordered.length; j++) {
        const first = ordered[i]!;
        const second = ordered[j]!;
        if (first.created.originNode === second.created.originNode) continue;
        found.push({ taskId: doubleBookingTaskId(first.created.entryId, second.created.entryId), slot, first, second });
      }
    }
  }
  return found;
}

export function doubleBookingTask(d: DoubleBooking): Task {
  const patients = [d.first, d.second]
    .map((a) => ((a.resource as { participant?: Array<{ actor?: { reference?: string } }> }).participant ?? []).find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference)
    .filter((p): p is string => !!p);
  return {
    resourceType: 'Task',
    id: d.taskId,
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'double-booking', display: 'Slot booked twice' }] },
    description:
      'This slot was booked on two computers while they could not reach each other. Both appointments are kept; ' +
      'contact one patient to rebook.',
    focus: { reference: d.slot },
    authoredOn: instantOf(d.first.created, d.second.created),
    performerType: [{ text: 'receptionist' }],
    input: [d.first, d.second].map((a, i) => ({
      type: { text: `Appointment ${i + 1} (booked on node ${a.created.originNode})${patients[i] ? ` for ${patients[i]}` : ''}` },
      valueReference: { reference: `Appointment/${a.id}` },
    })),
  } as Task;
}
