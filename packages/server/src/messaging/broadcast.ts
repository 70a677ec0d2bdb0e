/**
 * Service disruption broadcast: every patient booked in a date range is texted once (one outbox key
 * per broadcast and patient), skipping those who cannot or must not be texted. Queued in batches,
 * each batch one transaction of set statements (the outbox and delivery rows are the commitment; each
 * delivery row carries its Communication, which the recorder, record.ts, writes into the record right
 * after), with progress on the broadcast row; stopping it stops further batches and cancels what has
 * not been sent yet. A broadcast interrupted by a crash is resumed when the node starts again: its
 * keys make the batches already queued a no-op, so nobody is texted twice.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Patient } from '@medplum/fhirtypes';
import { contactPreferencesOf, SteadfastError } from '@steadfast/domain';
import type { Broadcast, BroadcastPreview } from '@steadfast/domain/api';
import type { RecordStore } from '@steadfast/store';
import { cancelPending } from './cancel.ts';
import { recordPending } from './record.ts';
import { composePatientMessage, postalAddressOf, queueComposedMessages, whyNotReachable, type ComposedMessage, type QueueMessageInput } from './send.ts';
import { templateOf } from './templates.ts';
import { mdb, type MessagingBroadcastsTable } from './tables.ts';

/**
 * Patients per transaction. A batch is a patient search, then two multi-row INSERTs (outbox, delivery)
 * and no record writes, a few tens of ms on a quiet machine; staff requests wait at most that long.
 */
const BATCH = 250;
const LIVE = new Set(['booked', 'pending', 'proposed', 'arrived', 'checked-in']);

export function broadcastOf(row: MessagingBroadcastsTable): Broadcast {
  return { id: row.id, from: row.date_from, to: row.date_to, reason: row.reason, state: row.state as Broadcast['state'], patients: row.patients, queued: row.queued, skipped: row.skipped, createdAt: row.created_at, createdBy: row.created_by, ...(row.error ? { error: row.error } : {}) };
}

function day(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new SteadfastError('invalid', `${field} must be a date (YYYY-MM-DD)`, { field });
  return value;
}

function rangeOf(body: { from?: unknown; to?: unknown }): { from: string; to: string } {
  const from = day(body.from, 'from');
  const to = day(body.to, 'to');
  if (to < from) throw new SteadfastError('invalid', 'The range ends before it starts', { field: 'to', hint: 'Pick an end date on or after the start date' });
  if (Date.parse(to) - Date.parse(from) > 92 * 86_400_000) throw new SteadfastError('invalid', 'The range is longer than three months', { field: 'to', hint: 'A service disruption broadcast covers days or weeks; pick a shorter range' });
  return { from, to };
}

/** Broadcasts not stopped whose range overlaps this one: a second broadcast texts those patients again. */
export async function overlappingBroadcasts(store: RecordStore, from: string, to: string): Promise<MessagingBroadcastsTable[]> {
  return mdb(store.db).selectFrom('messaging_broadcasts').selectAll().where('practice', '=', store.practice).where('state', 'in', ['queuing', 'queued']).where('date_from', '<=', to).where('date_to', '>=', from).orderBy('created_at', 'desc').execute();
}

function nameOf(p: Patient | undefined): string {
  const n = p?.name?.[0];
  return n ? [...(n.given ?? []), n.family].filter(Boolean).join(' ') || 'Name not recorded' : 'Name not recorded';
}

/**
 * Who a broadcast would tell, before anything is queued: each patient booked in the range once, the
 * ones who cannot be texted counted by reason and listed, so nobody assumes they were told.
 */
export async function previewBroadcast(store: RecordStore, body: { from?: unknown; to?: unknown }): Promise<BroadcastPreview> {
  const { from, to } = rangeOf(body);
  const { first, appointments } = await bookedPatientsCounted(store, from, to);
  const byReason = new Map<string, number>();
  const unreachable: BroadcastPreview['unreachable'] = [];
  let reachable = 0;
  for (const [patientId, appt] of first) {
    const stored = await store.read('Patient', patientId);
    const patient = stored && !stored.deleted ? (stored.resource as Patient) : undefined;
    const why = patient ? whyNotReachable(contactPreferencesOf(patient), 'sms', postalAddressOf(patient)) : 'The patient record was not found';
    if (!why) {
      reachable++;
      continue;
    }
    byReason.set(why, (byReason.get(why) ?? 0) + 1);
    if (unreachable.length < 500) unreachable.push({ patientId, name: nameOf(patient), when: whenOf(appt.start), reason: why });
  }
  return {
    from,
    to,
    appointments,
    patients: first.size,
    reachable,
    unreachableByReason: [...byReason].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    unreachable,
    overlapping: (await overlappingBroadcasts(store, from, to)).map(broadcastOf),
  };
}

/**
 * Start a broadcast. The same range and reason while one is still queuing or queued is that one
 * (`created: false`): a double click, a retried request or a second manager at another desk does not
 * text every patient twice.
 */
export async function startBroadcast(store: RecordStore, body: { from?: unknown; to?: unknown; reason?: unknown }, by: { id: string; name: string }): Promise<{ row: MessagingBroadcastsTable; created: boolean }> {
  const { from, to } = rangeOf(body);
  if (typeof body.reason !== 'string' || !body.reason.trim() || body.reason.length > 300) throw new SteadfastError('invalid', 'Give the reason patients will read (up to 300 characters)', { field: 'reason' });
  if (/https?:\/\/|www\./i.test(body.reason)) throw new SteadfastError('invalid', 'The reason may not contain links', { field: 'reason', hint: 'Patients are told the practice never texts links' });
  const same = (await overlappingBroadcasts(store, from, to)).find((b) => b.date_from === from && b.date_to === to && b.reason === (body.reason as string).trim());
  if (same) return { row: same, created: false };
  const row: MessagingBroadcastsTable = { practice: store.practice, id: randomUUID(), date_from: from, date_to: to, reason: body.reason.trim(), state: 'queuing', patients: 0, queued: 0, skipped: 0, created_at: new Date().toISOString(), created_by: by.name, error: '' };
  await mdb(store.db).insertInto('messaging_broadcasts').values(row).execute();
  return { row, created: true };
}

/** The first live appointment of each patient booked in the range (one message per patient). */
async function bookedPatients(store: RecordStore, from: string, to: string): Promise<Map<string, Appointment>> {
  return (await bookedPatientsCounted(store, from, to)).first;
}

async function bookedPatientsCounted(store: RecordStore, from: string, to: string): Promise<{ first: Map<string, Appointment>; appointments: number }> {
  const first = new Map<string, Appointment>();
  let appointments = 0;
  const end = new Date(Date.parse(to) + 86_400_000).toISOString().slice(0, 10);
  for (let offset = 0; ; offset += 1000) {
    const page = await store.search({ resourceType: 'Appointment', params: [{ name: 'date', values: [`ge${from}`] }, { name: 'date', values: [`lt${end}`] }], count: 1000, offset, sort: [{ param: 'date', descending: false }] });
    for (const a of page.resources as Appointment[]) {
      if (!LIVE.has(a.status)) continue;
      appointments++;
      const patient = a.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference?.slice(8);
      if (patient && !first.has(patient)) first.set(patient, a);
    }
    if (!page.hasMore) break;
  }
  return { first, appointments };
}

// Built once: constructing an Intl.DateTimeFormat per message was a sixth of a broadcast's time.
const WHEN = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });

export function whenOf(start: string | undefined): string {
  if (!start) return 'the booked day';
  return WHEN.format(new Date(start));
}

/**
 * Queue the broadcast's messages in batches, then write their Communications into the record; returns
 * when done or stopped. Safe to run again for the same broadcast (after a crash): it starts from the
 * first patient, and every patient already queued is found by its key, counted, and not queued again.
 */
export async function runBroadcast(store: RecordStore, id: string, practiceName: string, onProgress?: () => void | Promise<void>): Promise<void> {
  const m = mdb(store.db);
  const practice = store.practice;
  const row = await m.selectFrom('messaging_broadcasts').selectAll().where('practice', '=', practice).where('id', '=', id).executeTakeFirstOrThrow();
  if (row.state !== 'queuing') return;
  try {
    const patients = [...(await bookedPatients(store, row.date_from, row.date_to)).entries()];
    await m.updateTable('messaging_broadcasts').set({ patients: patients.length }).where('practice', '=', practice).where('id', '=', id).execute();
    let queued = 0;
    let skipped = 0;
    for (let i = 0; i < patients.length; i += BATCH) {
      const state = await m.selectFrom('messaging_broadcasts').select('state').where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
      if (state?.state === 'stopped') return;
      await store.transaction({ author: 'system:messaging-broadcast' }, async (tx) => {
        const template = await templateOf(tx.db, practice, 'service-disruption');
        const batch = patients.slice(i, i + BATCH);
        const found = await tx.search({ resourceType: 'Patient', params: [{ name: '_id', values: batch.map(([p]) => p) }], count: BATCH, offset: 0 });
        const byId = new Map((found.resources as Patient[]).map((p) => [p.id!, p]));
        const messages: Array<QueueMessageInput & ComposedMessage> = [];
        for (const [patientId, appt] of batch) {
          const patient = byId.get(patientId);
          if (!patient) {
            skipped++;
            continue;
          }
          const input = { patientId, template: 'service-disruption', channel: 'sms' as const, values: { reason: row.reason, when: whenOf(appt.start) }, key: `broadcast:${id}:${patientId}`, category: 'service-disruption', practiceName };
          try {
            messages.push({ ...input, ...composePatientMessage(patient, template, input) });
          } catch (err) {
            if (!(err instanceof SteadfastError)) throw err;
            skipped++;
          }
        }
        await queueComposedMessages(tx, practice, messages);
        queued += messages.length;
        await mdb(tx.db).updateTable('messaging_broadcasts').set({ queued, skipped }).where('practice', '=', practice).where('id', '=', id).execute();
      });
      await onProgress?.();
      await new Promise((r) => setImmediate(r)); // let the rest of the node run between batches
    }
    await m.updateTable('messaging_broadcasts').set({ state: 'queued' }).where('practice', '=', practice).where('id', '=', id).where('state', '=', 'queuing').execute();
  } catch (err) {
    await m.updateTable('messaging_broadcasts').set({ state: 'failed', error: (err as Error).message }).where('practice', '=', practice).where('id', '=', id).execute();
    return;
  }
  await recordPending(store);
}

/** Broadcasts a crash left queuing: run each again (when the node starts). */
export async function resumeBroadcasts(store: RecordStore, practiceName: string): Promise<number> {
  const rows = await mdb(store.db).selectFrom('messaging_broadcasts').select('id').where('practice', '=', store.practice).where('state', '=', 'queuing').orderBy('created_at').execute();
  for (const { id } of rows) await runBroadcast(store, id, practiceName);
  return rows.length;
}

/** Stop queuing, and cancel this broadcast's messages not yet sent. Returns how many were cancelled. */
export async function stopBroadcast(store: RecordStore, id: string): Promise<number> {
  const m = mdb(store.db);
  const practice = store.practice;
  await m.updateTable('messaging_broadcasts').set({ state: 'stopped' }).where('practice', '=', practice).where('id', '=', id).where('state', 'in', ['queuing', 'queued']).executeTakeFirst();
  const exists = await m.selectFrom('messaging_broadcasts').select('id').where('practice', '=', practice).where('id', '=', id).executeTakeFirst();
  if (!exists) throw new SteadfastError('not-found', `Broadcast ${id} was not found`, { field: 'id' });
  return cancelPending(store, `broadcast:${id}:`);
}
