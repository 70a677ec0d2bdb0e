/**
 * Appointment booking confirmations and reminders. The appointments capability calls these inside
 * its booking, move and cancel transactions, so a message is queued (or withdrawn) with the change
 * that caused it; a sweeper (a background service of messaging) queues reminders for appointments
 * that reached the record another way (FHIR REST, an import, another node through sync).
 *
 * No duplicates, by construction: each message's outbox key is the appointment id and its start
 * (`appointment-reminder:<id>:<start>`), so booking twice, a restart, the sweeper and a synced copy all
 * name the same message, and the outbox holds one. Moving an appointment withdraws the old time's
 * messages and queues the new time's; cancelling withdraws what has not gone yet.
 *
 * When: the reminder is due `leadMs` before the start (default the day before) and is only queued for
 * an appointment that already stood at that moment (its record version older than the due time), so
 * an appointment booked this afternoon for tomorrow morning gets its confirmation, not a reminder a
 * minute later. Neither is sent once the appointment has started (`expiresAt`).
 */
import type { Appointment } from '@medplum/fhirtypes';
import { SteadfastError } from '@steadfast/domain';
import type { RecordStore, StoreTransaction } from '@steadfast/store';
import type { AppConfig } from '../capability.ts';
import { odb } from '../outbox/tables.ts';
import { whenOf } from './broadcast.ts';
import { cancelPendingIn } from './cancel.ts';
import { queuePatientMessage, type QueuedPatientMessage } from './send.ts';

export const DEFAULT_REMINDER_LEAD_MS = 24 * 60 * 60_000;
export const DEFAULT_REMINDER_INTERVAL_MS = 5 * 60_000;
/** A reminder or confirmation less than this before the start is not worth sending. */
const MIN_NOTICE_MS = 60 * 60_000;
const LIVE = new Set(['booked', 'pending', 'proposed']);

export interface AppointmentMessageSettings {
  practiceName: string;
  confirmations: boolean;
  reminders: boolean;
  leadMs: number;
  intervalMs: number;
}

/** Off on the hub, and until GOV.UK Notify is configured (else a backlog of stale texts would wait for the key). */
export function appointmentMessageSettingsOf(config: AppConfig): AppointmentMessageSettings | undefined {
  const m = config.messaging;
  if (config.role === 'hub' || !m?.notify) return undefined;
  const confirmations = m.appointmentMessages?.confirmations ?? true;
  const reminders = m.appointmentMessages?.reminders ?? true;
  if (!confirmations && !reminders) return undefined;
  return { practiceName: m.practiceName ?? 'Your GP surgery', confirmations, reminders, leadMs: m.reminderLeadMs ?? DEFAULT_REMINDER_LEAD_MS, intervalMs: m.reminderIntervalMs ?? DEFAULT_REMINDER_INTERVAL_MS };
}

export const confirmationKey = (appointmentId: string, start: string) => `appointment-confirmation:${appointmentId}:${start}`;
export const reminderKey = (appointmentId: string, start: string) => `appointment-reminder:${appointmentId}:${start}`;

function patientOf(a: Appointment): string | undefined {
  return a.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference?.slice('Patient/'.length);
}

function clinicianOf(a: Appointment): string {
  const who = a.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor?.display?.trim();
  return who || 'the practice team';
}

/**
 * Queue one appointment message, or nothing when the patient cannot be reached by text or email
 * (no mobile, no consent, do not contact): a booking never fails for want of a mobile number.
 */
async function queueFor(tx: StoreTransaction, practice: string, settings: AppointmentMessageSettings, a: Appointment, kind: 'confirmation' | 'reminder', notBefore?: string): Promise<QueuedPatientMessage | undefined> {
  const patientId = patientOf(a);
  if (!patientId || !a.id || !a.start) return undefined;
  const key = kind === 'confirmation' ? confirmationKey(a.id, a.start) : reminderKey(a.id, a.start);
  const values = { when: whenOf(a.start), clinician: clinicianOf(a) };
  for (const channel of ['sms', 'email'] as const) {
    try {
      return await queuePatientMessage(tx, practice, {
        patientId,
        template: kind === 'confirmation' ? 'appointment-confirmation' : 'appointment-reminder',
        channel,
        values,
        key,
        category: `appointment-${kind}`,
        about: `Appointment/${a.id}`,
        practiceName: settings.practiceName,
        expiresAt: a.start,
        ...(notBefore ? { notBefore } : {}),
      });
    } catch (err) {
      if (err instanceof SteadfastError && err.code === 'invalid') continue; // not reachable this way: try the next
      throw err;
    }
  }
  return undefined;
}

/** When the reminder for this appointment is due, or undefined when it gets none. */
export function reminderDueAt(a: Appointment, settings: AppointmentMessageSettings, standingSince: Date): Date | undefined {
  if (!settings.reminders || !a.start || !LIVE.has(a.status)) return undefined;
  const due = new Date(Date.parse(a.start) - settings.leadMs);
  if (standingSince.getTime() > due.getTime()) return undefined;
  return due;
}

/** In the booking (or move) transaction: the confirmation now, and the reminder for later. */
export async function appointmentBooked(tx: StoreTransaction, practice: string, settings: AppointmentMessageSettings, a: Appointment, now: Date = new Date()): Promise<void> {
  if (!a.start || Date.parse(a.start) - now.getTime() < MIN_NOTICE_MS) return;
  if (settings.confirmations) await queueFor(tx, practice, settings, a, 'confirmation');
  const due = reminderDueAt(a, settings, now);
  if (due) await queueFor(tx, practice, settings, a, 'reminder', due.toISOString());
}

/** In the move transaction: the old time's messages withdrawn, the new time's queued. */
export async function appointmentMoved(tx: StoreTransaction, practice: string, settings: AppointmentMessageSettings, before: Appointment, after: Appointment, now: Date = new Date()): Promise<void> {
  if (before.start && before.start !== after.start) await appointmentCancelled(tx, practice, before);
  await appointmentBooked(tx, practice, settings, after, now);
}

/** In the cancel transaction: every message about this appointment not yet sent is cancelled. */
export async function appointmentCancelled(tx: StoreTransaction, practice: string, a: Appointment): Promise<number> {
  if (!a.id) return 0;
  const start = a.start ?? '';
  return (await cancelPendingIn(tx, practice, reminderKey(a.id, start))) + (await cancelPendingIn(tx, practice, confirmationKey(a.id, start)));
}

/**
 * The sweeper's round: reminders for live appointments due before the next round that have none yet
 * (written outside the booking API). Returns how many were queued.
 */
export async function sweepReminders(store: RecordStore, settings: AppointmentMessageSettings, now: Date = new Date()): Promise<number> {
  if (!settings.reminders) return 0;
  const practice = store.practice;
  const from = new Date(now.getTime() + MIN_NOTICE_MS).toISOString();
  const to = new Date(now.getTime() + settings.leadMs + 2 * settings.intervalMs).toISOString();
  let queued = 0;
  for (let offset = 0; ; offset += 500) {
    const page = await store.search({ resourceType: 'Appointment', params: [{ name: 'date', values: [`ge${from}`] }, { name: 'date', values: [`lt${to}`] }], count: 500, offset, sort: [{ param: 'date', descending: false }] });
    const candidates = (page.resources as Appointment[]).filter((a) => a.id && a.start && reminderDueAt(a, settings, new Date(a.meta?.lastUpdated ?? now.toISOString())));
    if (candidates.length) {
      const keys = candidates.map((a) => reminderKey(a.id!, a.start!));
      const known = new Set((await odb(store.db).selectFrom('outbox_messages').select('message_key').where('practice', '=', practice).where('message_key', 'in', keys).execute()).map((r) => r.message_key));
      const missing = candidates.filter((a) => !known.has(reminderKey(a.id!, a.start!)));
      if (missing.length) {
        queued += await store.transaction({ author: 'system:appointment-reminders' }, async (tx) => {
          let n = 0;
          for (const a of missing) {
            const due = reminderDueAt(a, settings, new Date(a.meta?.lastUpdated ?? now.toISOString()))!;
            const q = await queueFor(tx, practice, settings, a, 'reminder', due.toISOString());
            if (q?.created) n++;
          }
          return n;
        });
      }
    }
    if (!page.hasMore) break;
  }
  return queued;
}
