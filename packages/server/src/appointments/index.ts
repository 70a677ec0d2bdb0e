/**
 * Appointments: the diary and the booking rules that FHIR REST alone cannot enforce.
 *
 *   GET  /api/appointments/clinicians                          schedules with their practitioner
 *   GET  /api/appointments/diary?schedule=&from=YYYY-MM-DD&days=1..7
 *   GET  /api/appointments/board?date=YYYY-MM-DD                every clinician side by side (board.ts)
 *   GET|POST|DELETE /api/appointments/sessions                 diary sessions (sessions.ts)
 *   POST /api/appointments/book      {slot, patient, description?}
 *   POST /api/appointments/:id/move  {slot}
 *   POST /api/appointments/:id/cancel {reasonCode, reason?}     reasonCode from CANCELLATION_REASONS
 *   POST /api/appointments/:id/status {status: booked | arrived | fulfilled | noshow}
 *
 * Booking, moving and cancelling queue (or withdraw) the patient's confirmation and reminder in the
 * same transaction (messaging/appointment-messages.ts), once GOV.UK Notify is configured.
 *
 * Double booking is prevented in the store: every booking claims the slot's row in slot_bookings
 * (primary key practice + slot) in the same transaction that marks the Slot busy and writes the
 * Appointment, so of two concurrent bookings of one slot exactly one commits.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Appointment, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import type { Kysely, Transaction } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import { CANCELLATION_REASONS, CANCELLATION_REASON_SYSTEM, cancellationReasonOf } from '@steadfast/domain/appointments';
import { isUniqueViolation, type RecordStore, type StoreTransaction } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { actorOf } from '../audit/index.ts';
import { requireRole, type SessionUser } from '../auth/index.ts';
import { appointmentBooked, appointmentCancelled, appointmentMessageSettingsOf, appointmentMoved } from '../messaging/appointment-messages.ts';
import type { AppointmentTables } from './tables.ts';
import { londonDayStart } from './time.ts';
import { diarySlots, patientDisplay, registerBoard } from './board.ts';
import { registerDiarySessions } from './sessions.ts';

import { appointmentMigrations } from './tables.ts';
import type { Capability } from '../capability.ts';

export { appointmentMigrations };

const STATUS_CHANGES = ['booked', 'arrived', 'fulfilled', 'noshow'] as const;
type StatusChange = (typeof STATUS_CHANGES)[number];

/** Appointments in these states no longer hold their slot. */
const RELEASED = new Set(['cancelled', 'entered-in-error']);

function str(v: unknown, field: string, hint: string): string {
  if (typeof v !== 'string' || !v.trim()) throw new SteadfastError('required', `${field} is required`, { field, hint });
  return v.trim();
}

function idOf(ref: string, type: string): string {
  return ref.startsWith(`${type}/`) ? ref.slice(type.length + 1) : ref;
}

function humanName(r: Patient | Practitioner | undefined): string {
  const n = r?.name?.[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [n.prefix?.[0], ...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

async function readLive<T>(tx: StoreTransaction | RecordStore, type: string, id: string, field: string): Promise<{ resource: T; versionId: string }> {
  const stored = await tx.read(type, id);
  if (!stored || stored.deleted) throw new SteadfastError('not-found', `${type}/${id} was not found`, { field, hint: `Check the ${field} id` });
  return { resource: stored.resource as T, versionId: stored.versionId };
}

/** Claim a slot for an appointment inside the caller's transaction, or throw 409. */
async function claimSlot(tx: StoreTransaction, practice: string, slotId: string, appointmentId: string, user: SessionUser): Promise<{ slot: Slot; versionId: string }> {
  const db = tx.db as unknown as Transaction<AppointmentTables>;
  const { resource: slot, versionId } = await readLive<Slot>(tx, 'Slot', slotId, 'slot');
  const existing = await db.selectFrom('slot_bookings').select(['appointment_id']).where('practice', '=', practice).where('slot_id', '=', slotId).executeTakeFirst();
  if (existing) {
    // A booking row whose appointment was cancelled or removed outside this API no longer holds the slot.
    const appt = await tx.read('Appointment', existing.appointment_id);
    const holds = appt && !appt.deleted && !RELEASED.has((appt.resource as Appointment).status);
    if (holds) throw alreadyBooked(slot);
    await db.deleteFrom('slot_bookings').where('practice', '=', practice).where('slot_id', '=', slotId).execute();
  } else if (slot.status !== 'free') {
    throw alreadyBooked(slot);
  }
  try {
    await db
      .insertInto('slot_bookings')
      .values({ practice, slot_id: slotId, appointment_id: appointmentId, booked_at: new Date().toISOString(), booked_by: user.id })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyBooked(slot);
    throw err;
  }
  return { slot, versionId };
}

function alreadyBooked(slot: Slot): SteadfastError {
  return new SteadfastError('conflict', `The slot at ${slot.start} is already booked`, {
    field: 'slot',
    hint: 'Refresh the diary and choose another slot',
  });
}

async function releaseSlot(tx: StoreTransaction, practice: string, slotRef: string | undefined, appointmentId: string): Promise<void> {
  if (!slotRef) return;
  const slotId = idOf(slotRef, 'Slot');
  const db = tx.db as unknown as Transaction<AppointmentTables>;
  const row = await db.selectFrom('slot_bookings').select('appointment_id').where('practice', '=', practice).where('slot_id', '=', slotId).executeTakeFirst();
  if (row && row.appointment_id !== appointmentId) return; // the slot is held by another appointment now; leave it
  if (row) await db.deleteFrom('slot_bookings').where('practice', '=', practice).where('slot_id', '=', slotId).execute();
  // No row at all: booked outside this API (imported or demo data); freeing the slot is still right.
  const stored = await tx.read('Slot', slotId);
  if (stored && !stored.deleted && (stored.resource as Slot).status !== 'free') {
    await tx.write([{ kind: 'update', resource: { ...(stored.resource as Slot), status: 'free' }, ifMatch: stored.versionId }]);
  }
}

/**
 * Appointment.cancelationReason from the request: a coded reason is required (the record says why a
 * booking was lost), with the receptionist's words as its text when they gave any.
 */
function cancelationOf(body: { reasonCode?: unknown; reason?: unknown }): NonNullable<Appointment['cancelationReason']> {
  const code = typeof body.reasonCode === 'string' ? body.reasonCode : '';
  const known = cancellationReasonOf(code);
  if (!known) {
    throw new SteadfastError(code ? 'invalid' : 'required', code ? `Cancellation reason "${code}" is not known` : 'Choose why the appointment is cancelled', {
      field: 'reasonCode',
      hint: `Use one of: ${CANCELLATION_REASONS.map((r) => `${r.code} (${r.label})`).join(', ')}`,
    });
  }
  const words = typeof body.reason === 'string' ? body.reason.trim().slice(0, 200) : '';
  if (known.code === 'other' && !words) throw new SteadfastError('required', 'Say why the appointment is cancelled', { field: 'reason', hint: 'With "Other reason", type the reason' });
  return { coding: [{ system: CANCELLATION_REASON_SYSTEM, code: known.code, display: known.label }], text: words || known.label };
}

async function registerAppointments(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store, audit } = deps;
  const practice = store.practice;
  const messages = appointmentMessageSettingsOf(deps.config);
  const auditWrite = (tx: StoreTransaction, user: SessionUser, event: 'create' | 'update', appointment: Appointment) =>
    audit.appendInTransaction(tx.db, [
      {
        actor: actorOf(user),
        event,
        resource: `Appointment/${appointment.id}`,
        patient: appointment.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference,
        outcome: 'success',
      },
    ]);

  app.get('/api/appointments/clinicians', async () => {
    const page = await store.search({ resourceType: 'Schedule', params: [], count: 1000, offset: 0 });
    const out = [];
    for (const s of page.resources as Schedule[]) {
      if (s.active === false) continue;
      const actor = s.actor.find((a) => a.reference?.startsWith('Practitioner/'));
      let name = actor?.display ?? '';
      if (actor?.reference && !name) {
        const p = await store.read('Practitioner', idOf(actor.reference, 'Practitioner'));
        name = humanName(p?.resource as Practitioner | undefined);
      }
      out.push({ scheduleId: s.id, practitionerId: actor?.reference ? idOf(actor.reference, 'Practitioner') : undefined, name: name || s.comment || `Schedule ${s.id}` });
    }
    out.sort((a, b) => a.name.localeCompare(b.name));
    return { clinicians: out };
  });

  app.get<{ Querystring: { schedule?: string; from?: string; days?: string } }>('/api/appointments/diary', async (request) => {
    const schedule = idOf(str(request.query.schedule, 'schedule', 'Pass ?schedule=<Schedule id> from /api/appointments/clinicians'), 'Schedule');
    const from = request.query.from ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from)) throw new SteadfastError('invalid', `from "${from}" is not a date`, { field: 'from', hint: 'Use YYYY-MM-DD' });
    const days = Number(request.query.days ?? '1');
    if (!Number.isInteger(days) || days < 1 || days > 7) throw new SteadfastError('invalid', 'days must be 1 to 7', { field: 'days' });
    // The same slots and appointments as the board shows (board.ts).
    const slots = await diarySlots(store, [schedule], londonDayStart(from, 0), londonDayStart(from, days));
    return { from, days, slots };
  });

  app.post<{ Body: { slot?: unknown; patient?: unknown; description?: unknown } }>('/api/appointments/book', async (request, reply) => {
    const user = request.user;
    const slotId = idOf(str(request.body?.slot, 'slot', 'The id of a free Slot from the diary'), 'Slot');
    const patientId = idOf(str(request.body?.patient, 'patient', 'The id of the Patient to book'), 'Patient');
    const description = typeof request.body?.description === 'string' ? request.body.description.trim().slice(0, 500) : undefined;
    const appointment = await store.transaction({ author: user.id }, async (tx) => {
      const { resource: patient } = await readLive<Patient>(tx, 'Patient', patientId, 'patient');
      const appointmentId = randomUUID();
      const { slot, versionId } = await claimSlot(tx, practice, slotId, appointmentId, user);
      const schedule = await tx.read('Schedule', idOf(slot.schedule.reference ?? '', 'Schedule'));
      const practitioner = (schedule?.resource as Schedule | undefined)?.actor.find((a) => a.reference?.startsWith('Practitioner/'));
      let practitionerName = practitioner?.display;
      if (practitioner?.reference && !practitionerName) practitionerName = humanName((await tx.read('Practitioner', idOf(practitioner.reference, 'Practitioner')))?.resource as Practitioner);
      const appt: Appointment = {
        resourceType: 'Appointment',
        id: appointmentId,
        status: 'booked',
        start: slot.start,
        end: slot.end,
        slot: [{ reference: `Slot/${slotId}` }],
        created: new Date().toISOString().slice(0, 10),
        ...(description ? { description } : {}),
        participant: [
          { actor: { reference: `Patient/${patientId}`, display: patientDisplay(patient) }, status: 'accepted' },
          ...(practitioner?.reference ? [{ actor: { reference: practitioner.reference, display: practitionerName ?? '' }, status: 'accepted' as const }] : []),
        ],
      };
      const [, created] = await tx.write([
        { kind: 'update', resource: { ...slot, status: 'busy' }, ifMatch: versionId },
        { kind: 'update', resource: appt },
      ]);
      const stored = created!.resource as Appointment;
      await auditWrite(tx, user, 'create', stored);
      if (messages) await appointmentBooked(tx, practice, messages, stored);
      return stored;
    });
    void reply.code(201);
    return appointment;
  });

  app.post<{ Params: { id: string }; Body: { slot?: unknown } }>('/api/appointments/:id/move', async (request) => {
    const user = request.user;
    const newSlotId = idOf(str(request.body?.slot, 'slot', 'The id of the free Slot to move to'), 'Slot');
    return store.transaction({ author: user.id }, async (tx) => {
      const { resource: appt, versionId } = await readLive<Appointment>(tx, 'Appointment', request.params.id, 'id');
      if (RELEASED.has(appt.status) || appt.status === 'fulfilled' || appt.status === 'noshow') {
        throw new SteadfastError('invalid', `A ${appt.status} appointment cannot be moved`, { field: 'status', hint: 'Book a new appointment instead' });
      }
      const oldSlot = appt.slot?.[0]?.reference;
      if (oldSlot === `Slot/${newSlotId}`) return appt;
      const { slot, versionId: slotVersion } = await claimSlot(tx, practice, newSlotId, appt.id!, user);
      await tx.write([{ kind: 'update', resource: { ...slot, status: 'busy' }, ifMatch: slotVersion }]);
      await releaseSlot(tx, practice, oldSlot, appt.id!);
      const [moved] = await tx.write([
        { kind: 'update', resource: { ...appt, start: slot.start, end: slot.end, slot: [{ reference: `Slot/${newSlotId}` }] }, ifMatch: versionId },
      ]);
      await auditWrite(tx, user, 'update', moved!.resource as Appointment);
      if (messages) await appointmentMoved(tx, practice, messages, appt, moved!.resource as Appointment);
      return moved!.resource;
    });
  });

  app.post<{ Params: { id: string }; Body: { reasonCode?: unknown; reason?: unknown } }>('/api/appointments/:id/cancel', async (request) => {
    const user = request.user;
    const cancelation = cancelationOf(request.body ?? {});
    return store.transaction({ author: user.id }, async (tx) => {
      const { resource: appt, versionId } = await readLive<Appointment>(tx, 'Appointment', request.params.id, 'id');
      if (appt.status === 'cancelled') return appt;
      if (appt.status === 'fulfilled') throw new SteadfastError('invalid', 'A seen appointment cannot be cancelled', { field: 'status' });
      const [cancelled] = await tx.write([{ kind: 'update', resource: { ...appt, status: 'cancelled', cancelationReason: cancelation }, ifMatch: versionId }]);
      await releaseSlot(tx, practice, appt.slot?.[0]?.reference, appt.id!);
      await auditWrite(tx, user, 'update', cancelled!.resource as Appointment);
      // Withdrawn even when messaging is switched off now: a reminder queued earlier must not go out.
      await appointmentCancelled(tx, practice, appt);
      return cancelled!.resource;
    });
  });

  app.post<{ Params: { id: string }; Body: { status?: unknown } }>('/api/appointments/:id/status', async (request) => {
    const user = request.user;
    const status = request.body?.status;
    if (typeof status !== 'string' || !(STATUS_CHANGES as readonly string[]).includes(status)) {
      throw new SteadfastError('invalid', `status must be one of ${STATUS_CHANGES.join(', ')}`, { field: 'status', hint: 'Use /cancel to cancel' });
    }
    return store.transaction({ author: user.id }, async (tx) => {
      const { resource: appt, versionId } = await readLive<Appointment>(tx, 'Appointment', request.params.id, 'id');
      if (RELEASED.has(appt.status)) throw new SteadfastError('invalid', `The appointment is ${appt.status}`, { field: 'status', hint: 'Book a new appointment' });
      const [updated] = await tx.write([{ kind: 'update', resource: { ...appt, status: status as StatusChange }, ifMatch: versionId }]);
      await auditWrite(tx, user, 'update', updated!.resource as Appointment);
      return updated!.resource;
    });
  });
  await registerDiarySessions(app, deps);
  await registerBoard(app, deps);
}

/** For tests and the demo seeder: the booking table as kysely sees it. */
export function slotBookings(store: RecordStore): Kysely<AppointmentTables> {
  return store.db as unknown as Kysely<AppointmentTables>;
}

export const appointments: Capability = { name: 'appointments', migrations: appointmentMigrations, routes: registerAppointments };
