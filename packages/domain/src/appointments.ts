/**
 * The appointment book's shared vocabulary and rules: slot types, cancellation reasons, when two
 * diary sessions overlap, and the "fully booked" summary. Pure; the server and the staff app both
 * use it, so the board and the API never disagree on what "fully booked" means.
 */

/** HL7 v2 table 0276 (appointment reason codes), as FHIR R4 Slot.appointmentType uses it. */
export const APPOINTMENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0276';
/** FHIR R4 Appointment.cancelationReason codes. */
export const CANCELLATION_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason';

export interface SlotType {
  /** Steadfast's key, stored as Slot.serviceType text and used by the session form. */
  key: string;
  label: string;
  /** Its HL7 v2-0276 code on Slot.appointmentType. */
  code: string;
}

export const SLOT_TYPES: readonly SlotType[] = [
  { key: 'routine', label: 'Routine', code: 'ROUTINE' },
  { key: 'telephone', label: 'Telephone', code: 'ROUTINE' },
  { key: 'urgent', label: 'Urgent (on the day)', code: 'EMERGENCY' },
  { key: 'follow-up', label: 'Follow-up', code: 'FOLLOWUP' },
  { key: 'review', label: 'Review (long-term condition)', code: 'CHECKUP' },
];

export function slotTypeOf(key: string | undefined): SlotType | undefined {
  return SLOT_TYPES.find((t) => t.key === key);
}

export interface CancellationReason {
  code: string;
  label: string;
}

export const CANCELLATION_REASONS: readonly CancellationReason[] = [
  { code: 'pat', label: 'The patient cancelled' },
  { code: 'prov', label: 'The clinician is not available' },
  { code: 'oth-err', label: 'Booked in error' },
  { code: 'maint', label: 'Practice closed or equipment not available' },
  { code: 'other', label: 'Other reason' },
];

export function cancellationReasonOf(code: string | undefined): CancellationReason | undefined {
  return CANCELLATION_REASONS.find((r) => r.code === code);
}

/** Session lengths a practice manager may choose, in minutes per slot. */
export const SLOT_MINUTES = [5, 10, 15, 20, 30, 45, 60] as const;

/** A diary session as clock times on one day: "09:00" to "12:00". */
export interface SessionTimes {
  date: string;
  start: string;
  end: string;
}

/** Do two sessions on the same day share any minute? Touching sessions (12:00 end, 12:00 start) do not. */
export function sessionsOverlap(a: SessionTimes, b: SessionTimes): boolean {
  return a.date === b.date && a.start < b.end && b.start < a.end;
}

export interface SlotCounts {
  total: number;
  booked: number;
  free: number;
}

/** Count a column of the board: busy slots are booked; anything neither free nor busy is unavailable. */
export function countSlots(slots: ReadonlyArray<{ status: string }>): SlotCounts {
  let booked = 0;
  let free = 0;
  for (const s of slots) {
    if (s.status === 'free') free++;
    else if (s.status === 'busy') booked++;
  }
  return { total: slots.length, booked, free };
}

/** Fully booked: the clinician has sessions that day and not one free slot left in them. */
export function isFullyBooked(counts: SlotCounts): boolean {
  return counts.total > 0 && counts.free === 0;
}
