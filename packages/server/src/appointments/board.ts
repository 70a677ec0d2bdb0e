/**
 * The appointment book as reception sees it: every clinician's day side by side.
 *
 *   GET /api/appointments/board?date=YYYY-MM-DD    one column per clinician, and the fully-booked summary
 *
 * `diarySlots` is also what the one-clinician diary (index.ts) shows, so the two views never differ.
 */
import type { FastifyInstance } from 'fastify';
import type { Appointment, Patient, Schedule, Slot } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM, SteadfastError, formatNhsNumber } from '@steadfast/domain';
import { countSlots, isFullyBooked, type SlotCounts } from '@steadfast/domain/appointments';
import type { RecordStore } from '@steadfast/store';
import type { AppDeps } from '../capability.ts';
import { clinicianName } from './sessions.ts';
import { londonDayStart } from './time.ts';

/** Appointments in these states no longer hold their slot. */
const RELEASED = new Set(['cancelled', 'entered-in-error']);

export interface DiarySlot {
  id: string;
  scheduleId: string;
  start: string;
  end: string;
  status: string;
  /** The slot type label (Routine, Telephone...), when the session set one. */
  slotType?: string;
  appointment?: { id: string; status: string; description?: string; patient: { id?: string; display: string } };
}

function refId(ref: string | undefined, type: string): string {
  return ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : (ref ?? '');
}

/** "SMITH, Jane (999 123 4567)": surname first, NHS number always 3-3-4. */
export function patientDisplay(p: Patient): string {
  const n = p.name?.[0];
  const nhs = p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  const name = n ? `${(n.family ?? '').toUpperCase()}, ${(n.given ?? []).join(' ')}`.trim() : 'Unnamed patient';
  return nhs ? `${name} (${formatNhsNumber(nhs)})` : name;
}

/** Every slot of these schedules starting in [start, end), with the appointment holding it. */
export async function diarySlots(store: RecordStore, scheduleIds: string[], start: string, end: string): Promise<DiarySlot[]> {
  if (!scheduleIds.length) return [];
  const slots: Slot[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.search({
      resourceType: 'Slot',
      params: [
        { name: 'schedule', values: scheduleIds.map((s) => `Schedule/${s}`) },
        { name: 'start', values: [`ge${start}`] },
        { name: 'start', values: [`lt${end}`] },
      ],
      count: 1000,
      offset,
    });
    slots.push(...(page.resources as Slot[]));
    if (page.resources.length < 1000) break;
  }
  slots.sort((a, b) => a.start.localeCompare(b.start));
  const bySlot = new Map<string, Appointment>();
  for (let i = 0; i < slots.length; i += 200) {
    const chunk = slots.slice(i, i + 200);
    const found = await store.search({ resourceType: 'Appointment', params: [{ name: 'slot', values: chunk.map((s) => `Slot/${s.id}`) }], count: 1000, offset: 0 });
    // Cancelled appointments stay in the record but do not occupy the slot.
    for (const a of found.resources as Appointment[]) {
      for (const s of a.slot ?? []) {
        const current = bySlot.get(s.reference ?? '');
        if (!current || RELEASED.has(current.status)) bySlot.set(s.reference ?? '', a);
      }
    }
  }
  // Appointments written elsewhere (imports, the demo practice) may name the patient only by reference.
  const unnamed = new Set<string>();
  for (const a of bySlot.values()) {
    const actor = a.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor;
    if (actor?.reference && !actor.display) unnamed.add(refId(actor.reference, 'Patient'));
  }
  const names = new Map<string, string>();
  if (unnamed.size) {
    const found = await store.search({ resourceType: 'Patient', params: [{ name: '_id', values: [...unnamed] }], count: 1000, offset: 0 });
    for (const p of found.resources as Patient[]) names.set(p.id!, patientDisplay(p));
  }
  return slots.map((s) => {
    const a = bySlot.get(`Slot/${s.id}`);
    const live = a && !RELEASED.has(a.status) ? a : undefined;
    const patient = live?.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor;
    const slotType = s.serviceType?.[0]?.text ?? s.appointmentType?.text;
    return {
      id: s.id!,
      scheduleId: refId(s.schedule.reference, 'Schedule'),
      start: s.start,
      end: s.end,
      status: s.status,
      ...(slotType ? { slotType } : {}),
      ...(live
        ? {
            appointment: {
              id: live.id!,
              status: live.status,
              ...(live.description ? { description: live.description } : {}),
              patient: {
                ...(patient?.reference ? { id: refId(patient.reference, 'Patient') } : {}),
                display: patient?.display || names.get(refId(patient?.reference, 'Patient')) || 'Patient not found',
              },
            },
          }
        : {}),
    };
  });
}

export interface BoardColumn {
  scheduleId: string;
  name: string;
  counts: SlotCounts;
  fullyBooked: boolean;
  slots: DiarySlot[];
}

export async function registerBoard(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { store } = deps;
  app.get<{ Querystring: { date?: string } }>('/api/appointments/board', async (request) => {
    const date = request.query.date ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new SteadfastError('invalid', `date "${date}" is not a date`, { field: 'date', hint: 'Use YYYY-MM-DD' });
    const schedules = ((await store.search({ resourceType: 'Schedule', params: [], count: 1000, offset: 0 })).resources as Schedule[]).filter((s) => s.active !== false);
    const slots = await diarySlots(store, schedules.map((s) => s.id!), londonDayStart(date, 0), londonDayStart(date, 1));
    const columns: BoardColumn[] = [];
    for (const s of schedules) {
      const own = slots.filter((slot) => slot.scheduleId === s.id);
      const counts = countSlots(own);
      columns.push({ scheduleId: s.id!, name: await clinicianName(store, s), counts, fullyBooked: isFullyBooked(counts), slots: own });
    }
    // Clinicians with sessions that day first, then by name.
    columns.sort((a, b) => Number(b.counts.total > 0) - Number(a.counts.total > 0) || a.name.localeCompare(b.name));
    const working = columns.filter((c) => c.counts.total > 0);
    const total = countSlots(slots);
    return {
      date,
      columns,
      summary: {
        clinicians: working.length,
        fullyBooked: working.filter((c) => c.fullyBooked).map((c) => c.name),
        ...total,
        fullyBookedDay: isFullyBooked(total),
      },
    };
  });
}
