/**
 * Diary sessions: a block of one clinician's time on one day, cut into slots of one type and length.
 * The practice manager sets them up; the appointment book is made of their slots.
 *
 *   GET    /api/appointments/sessions?from=YYYY-MM-DD&days=1..31     sessions with their booked counts
 *   POST   /api/appointments/sessions {schedule, date, start, end, minutes, slotType}  (clinician, practice-admin)
 *   DELETE /api/appointments/sessions/:id                              (practice-admin; only with nothing booked)
 *
 * One clinician cannot be in two sessions at once: a new session overlapping one of theirs (or any of
 * their slots made before sessions were recorded) is refused with 409 naming the session it overlaps.
 * The check runs in the transaction that writes the slots, after claiming the clinician's row in
 * diary_session_locks, so two practice managers setting up overlapping sessions at the same moment
 * cannot both succeed.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import type { Transaction } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import { APPOINTMENT_TYPE_SYSTEM, SLOT_MINUTES, SLOT_TYPES, countSlots, sessionsOverlap, slotTypeOf } from '@steadfast/domain/appointments';
import { DIARY_SESSION_SYSTEM } from '@steadfast/domain/systems';
import type { StoreTransaction } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole } from '../auth/index.ts';
import type { AppointmentTables, DiarySessionsTable } from './tables.ts';
import { londonDayStart, londonInstant } from './time.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export interface DiarySession {
  id: string;
  scheduleId: string;
  clinician: string;
  date: string;
  start: string;
  end: string;
  minutes: number;
  slotType: string;
  slotTypeLabel: string;
  slots: number;
  booked: number;
  createdBy: string;
  createdAt: string;
}

function text(v: unknown, field: string, hint: string): string {
  if (typeof v !== 'string' || !v.trim()) throw new SteadfastError('required', `${field} is required`, { field, hint });
  return v.trim();
}

function refId(ref: string | undefined, type: string): string {
  return ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : (ref ?? '');
}

/** The clinician's name on a Schedule, for messages and the sessions list. */
export async function clinicianName(tx: Pick<StoreTransaction, 'read'>, schedule: Schedule): Promise<string> {
  const actor = schedule.actor.find((a) => a.reference?.startsWith('Practitioner/'));
  if (actor?.display) return actor.display;
  if (actor?.reference) {
    const p = (await tx.read('Practitioner', refId(actor.reference, 'Practitioner')))?.resource as Practitioner | undefined;
    const n = p?.name?.[0];
    if (n) return n.text ?? [n.prefix?.[0], ...(n.given ?? []), n.family].filter(Boolean).join(' ');
  }
  return schedule.comment || `Schedule ${schedule.id}`;
}

/** "09:00" from a stored instant, in UK clock time. */
function londonTime(instant: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(instant));
}

function ukDate(date: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(`${date}T12:00:00Z`));
}

interface SessionInput {
  scheduleId: string;
  date: string;
  start: string;
  end: string;
  minutes: number;
  slotType: string;
}

function parseSession(b: Record<string, unknown>): SessionInput {
  const scheduleId = refId(text(b.schedule, 'schedule', 'Choose the clinician whose diary this session is in'), 'Schedule');
  const date = text(b.date, 'date', 'The day of the session, YYYY-MM-DD');
  if (!DATE.test(date) || Number.isNaN(Date.parse(`${date}T12:00:00Z`))) throw new SteadfastError('invalid', `Date "${date}" is not a date`, { field: 'date', hint: 'Use YYYY-MM-DD, e.g. 2026-12-01' });
  const start = text(b.start, 'start', 'The time the session starts, HH:MM, e.g. 09:00');
  if (!TIME.test(start)) throw new SteadfastError('invalid', `Start time "${start}" is not a time`, { field: 'start', hint: 'Use the 24-hour clock, HH:MM, e.g. 09:00' });
  const end = text(b.end, 'end', 'The time the session ends, HH:MM, e.g. 12:00');
  if (!TIME.test(end)) throw new SteadfastError('invalid', `End time "${end}" is not a time`, { field: 'end', hint: 'Use the 24-hour clock, HH:MM, e.g. 12:00' });
  if (end <= start) throw new SteadfastError('invalid', `The session ends (${end}) before it starts (${start})`, { field: 'end', hint: 'Make the end time later than the start time' });
  const minutes = Number(b.minutes ?? 10);
  if (!Number.isInteger(minutes) || minutes < 5 || minutes > 120) {
    throw new SteadfastError('invalid', `Slot length ${String(b.minutes)} is not allowed`, { field: 'minutes', hint: `Choose whole minutes from 5 to 120, e.g. ${SLOT_MINUTES.join(', ')}` });
  }
  const span = (Date.parse(`1970-01-01T${end}:00Z`) - Date.parse(`1970-01-01T${start}:00Z`)) / 60_000;
  if (span < minutes) throw new SteadfastError('invalid', `A ${span}-minute session cannot hold a ${minutes}-minute slot`, { field: 'minutes', hint: 'Make the slots shorter or the session longer' });
  const slotType = typeof b.slotType === 'string' && b.slotType ? b.slotType : 'routine';
  if (!slotTypeOf(slotType)) throw new SteadfastError('invalid', `Slot type "${slotType}" is not known`, { field: 'slotType', hint: `Use one of: ${SLOT_TYPES.map((t) => t.key).join(', ')}` });
  return { scheduleId, date, start, end, minutes, slotType };
}

/** Find a session or slot of this clinician that the new session would overlap, inside the transaction. */
async function findOverlap(tx: StoreTransaction, practice: string, input: SessionInput): Promise<{ start: string; end: string } | undefined> {
  const db = tx.db as unknown as Transaction<AppointmentTables>;
  const rows = await db.selectFrom('diary_sessions').selectAll().where('practice', '=', practice).where('schedule_id', '=', input.scheduleId).where('date', '=', input.date).execute();
  const clash = rows.find((r) => sessionsOverlap({ date: r.date, start: r.start_time, end: r.end_time }, input));
  if (clash) return { start: clash.start_time, end: clash.end_time };
  // Slots made before sessions were recorded (imports, the demo practice) count too.
  const from = londonInstant(input.date, input.start);
  const to = londonInstant(input.date, input.end);
  const page = await tx.search({
    resourceType: 'Slot',
    params: [
      { name: 'schedule', values: [`Schedule/${input.scheduleId}`] },
      { name: 'start', values: [`ge${londonDayStart(input.date, 0)}`] },
      { name: 'start', values: [`lt${to}`] },
    ],
    count: 1000,
    offset: 0,
  });
  const slot = (page.resources as Slot[]).find((s) => s.end > from);
  return slot ? { start: londonTime(slot.start), end: londonTime(slot.end) } : undefined;
}

function toSession(row: DiarySessionsTable, clinician: string, slots: Slot[]): DiarySession {
  const counts = countSlots(slots);
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    clinician,
    date: row.date,
    start: row.start_time,
    end: row.end_time,
    minutes: Number(row.minutes),
    slotType: row.slot_type,
    slotTypeLabel: slotTypeOf(row.slot_type)?.label ?? row.slot_type,
    slots: counts.total,
    booked: counts.booked,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

async function slotsOfSession(tx: Pick<StoreTransaction, 'search'>, sessionId: string): Promise<Slot[]> {
  const page = await tx.search({ resourceType: 'Slot', params: [{ name: 'identifier', values: [`${DIARY_SESSION_SYSTEM}|${sessionId}`] }], count: 1000, offset: 0 });
  return page.resources as Slot[];
}

export async function registerDiarySessions(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit } = deps;
  const practice = store.practice;
  const db = store.db as unknown as import('kysely').Kysely<AppointmentTables>;

  app.get<{ Querystring: { from?: string; days?: string } }>('/api/appointments/sessions', async (request) => {
    const from = request.query.from ?? new Date().toISOString().slice(0, 10);
    if (!DATE.test(from)) throw new SteadfastError('invalid', `from "${from}" is not a date`, { field: 'from', hint: 'Use YYYY-MM-DD' });
    const days = Number(request.query.days ?? '7');
    if (!Number.isInteger(days) || days < 1 || days > 31) throw new SteadfastError('invalid', 'days must be a whole number from 1 to 31', { field: 'days' });
    const last = new Date(Date.parse(`${from}T12:00:00Z`) + (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const rows = await db.selectFrom('diary_sessions').selectAll().where('practice', '=', practice).where('date', '>=', from).where('date', '<=', last).orderBy('date').orderBy('start_time').execute();
    const names = new Map<string, string>();
    const sessions: DiarySession[] = [];
    for (const row of rows) {
      if (!names.has(row.schedule_id)) {
        const s = (await store.read('Schedule', row.schedule_id))?.resource as Schedule | undefined;
        names.set(row.schedule_id, s ? await clinicianName(store, s) : `Schedule ${row.schedule_id}`);
      }
      sessions.push(toSession(row, names.get(row.schedule_id)!, await slotsOfSession(store, row.id)));
    }
    sessions.sort((a, b) => a.date.localeCompare(b.date) || a.clinician.localeCompare(b.clinician) || a.start.localeCompare(b.start));
    return { from, days, sessions };
  });

  app.post<{ Body: Record<string, unknown> }>('/api/appointments/sessions', { preHandler: requireRole('clinician', 'practice-admin') }, async (request, reply) => {
    const user = request.user;
    const input = parseSession(request.body ?? {});
    const result = await store.transaction({ author: user.id }, async (tx) => {
      const stored = await tx.read('Schedule', input.scheduleId);
      if (!stored || stored.deleted) throw new SteadfastError('not-found', `Schedule/${input.scheduleId} was not found`, { field: 'schedule', hint: 'Choose a clinician from the list' });
      const schedule = stored.resource as Schedule;
      const tdb = tx.db as unknown as Transaction<AppointmentTables>;
      const now = new Date().toISOString();
      // Claim this clinician's row: concurrent session set-ups for one clinician queue here.
      await tdb
        .insertInto('diary_session_locks')
        .values({ practice, schedule_id: input.scheduleId, touched_at: now })
        .onConflict((oc) => oc.columns(['practice', 'schedule_id']).doUpdateSet({ touched_at: now }))
        .execute();
      const overlap = await findOverlap(tx, practice, input);
      const name = await clinicianName(tx, schedule);
      if (overlap) {
        throw new SteadfastError('conflict', `${name} already has a session from ${overlap.start} to ${overlap.end} on ${ukDate(input.date)}, which overlaps ${input.start} to ${input.end}`, {
          field: 'start',
          hint: 'Choose times outside that session, or remove it first: a clinician cannot be in two sessions at once',
        });
      }
      const id = randomUUID();
      const type = slotTypeOf(input.slotType)!;
      const startMs = Date.parse(londonInstant(input.date, input.start));
      const endMs = Date.parse(londonInstant(input.date, input.end));
      const step = input.minutes * 60_000;
      const slots: Slot[] = [];
      for (let t = startMs; t + step <= endMs; t += step) {
        slots.push({
          resourceType: 'Slot',
          identifier: [{ system: DIARY_SESSION_SYSTEM, value: id }],
          schedule: { reference: `Schedule/${input.scheduleId}` },
          serviceType: [{ text: type.label }],
          appointmentType: { coding: [{ system: APPOINTMENT_TYPE_SYSTEM, code: type.code }], text: type.label },
          status: 'free',
          start: new Date(t).toISOString(),
          end: new Date(t + step).toISOString(),
        });
      }
      const outcomes = await tx.write(slots.map((resource) => ({ kind: 'create' as const, resource })));
      const row: DiarySessionsTable = {
        practice,
        id,
        schedule_id: input.scheduleId,
        date: input.date,
        start_time: input.start,
        end_time: input.end,
        minutes: input.minutes,
        slot_type: input.slotType,
        created_at: now,
        created_by: user.name,
      };
      await tdb.insertInto('diary_sessions').values(row).execute();
      await audit.appendInTransaction(tx.db, [
        { actor: actorOf(user), event: 'create', resource: `Schedule/${input.scheduleId}`, outcome: 'success', detail: `diary session ${input.date} ${input.start}-${input.end}, ${input.minutes}-minute ${input.slotType} slots` },
      ]);
      const created = outcomes.map((o) => o.resource as Slot);
      return { session: toSession(row, name, created), slots: created };
    });
    void reply.code(201);
    return { created: result.slots.length, session: result.session, slots: result.slots };
  });

  app.delete<{ Params: { id: string } }>('/api/appointments/sessions/:id', { preHandler: requireRole('practice-admin') }, async (request) => {
    const user = request.user;
    return store.transaction({ author: user.id }, async (tx) => {
      const tdb = tx.db as unknown as Transaction<AppointmentTables>;
      const row = await tdb.selectFrom('diary_sessions').selectAll().where('practice', '=', practice).where('id', '=', request.params.id).executeTakeFirst();
      if (!row) throw new SteadfastError('not-found', `Diary session ${request.params.id} was not found`, { field: 'id', hint: 'Refresh the list of sessions' });
      const slots = await slotsOfSession(tx, row.id);
      // A booked slot, or a booking row for one, keeps the session: removing it would lose the booking.
      const held = await tdb.selectFrom('slot_bookings').select('slot_id').where('practice', '=', practice).where('slot_id', 'in', slots.length ? slots.map((s) => s.id!) : ['']).execute();
      const booked = new Set([...slots.filter((s) => s.status === 'busy').map((s) => s.id!), ...held.map((h) => h.slot_id)]);
      if (booked.size) {
        throw new SteadfastError('conflict', `This session has ${booked.size} booked appointment${booked.size === 1 ? '' : 's'}, so it cannot be removed`, {
          field: 'id',
          hint: 'Move or cancel those appointments first, then remove the session',
        });
      }
      if (slots.length) await tx.write(slots.map((s) => ({ kind: 'delete' as const, resourceType: 'Slot', id: s.id! })));
      await tdb.deleteFrom('diary_sessions').where('practice', '=', practice).where('id', '=', row.id).execute();
      await audit.appendInTransaction(tx.db, [
        { actor: actorOf(user), event: 'delete', resource: `Schedule/${row.schedule_id}`, outcome: 'success', detail: `diary session ${row.date} ${row.start_time}-${row.end_time} removed (${slots.length} free slots)` },
      ]);
      return { removed: row.id, slots: slots.length };
    });
  });
}
