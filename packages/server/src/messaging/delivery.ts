/**
 * A message's delivery status, from queued to Notify's final word, kept on its delivery row and on
 * its Communication in the record (status + the delivery-status extension). Receipts arrive more than
 * once (callbacks are retried, polling overlaps them): a status already final is left alone, so
 * applying the same receipt twice changes nothing. A message that cannot be delivered becomes a Task
 * for reception, so nobody assumes the patient was told.
 */
import type { Communication, Task } from '@medplum/fhirtypes';
import type { DeliveryStatus } from '@steadfast/domain/api';
import { DELIVERY_STATUS_EXTENSION, TASK_CODE_SYSTEM } from '@steadfast/domain/systems';
import type { RecordStore, StoreTransaction, WriteRequest } from '@steadfast/store';
import { registerOutboxOwner } from '../outbox/owners.ts';
import { mdb, type MessagingDeliveriesTable } from './tables.ts';

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['delivered', 'permanent-failure', 'temporary-failure', 'technical-failure', 'failed', 'cancelled']);
const NOT_DELIVERED: ReadonlySet<string> = new Set(['permanent-failure', 'temporary-failure', 'technical-failure', 'failed']);

export const UNDELIVERED_TASK_CODE = 'message-not-delivered';

/** Notify's statuses (created, sending, pending, sent, delivered, ..., received for letters) as ours. */
export function deliveryStatusOf(notifyStatus: string): DeliveryStatus | undefined {
  switch (notifyStatus) {
    case 'created':
    case 'sending':
    case 'pending':
    case 'accepted':
      return 'sending';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'received':
      return 'delivered';
    case 'permanent-failure':
    case 'temporary-failure':
    case 'technical-failure':
      return notifyStatus;
    case 'validation-failed':
    case 'virus-scan-failed':
      return 'failed';
    default:
      return undefined;
  }
}

const COMMUNICATION_STATUS: Record<DeliveryStatus, Communication['status']> = {
  queued: 'preparation',
  sending: 'in-progress',
  sent: 'in-progress',
  delivered: 'completed',
  'permanent-failure': 'not-done',
  'temporary-failure': 'not-done',
  'technical-failure': 'not-done',
  failed: 'not-done',
  cancelled: 'stopped',
};

const REASON: Record<string, string> = {
  'permanent-failure': 'the number or address does not exist or is switched off for good',
  'temporary-failure': "the patient's phone or inbox was unavailable (off, full) for 72 hours",
  'technical-failure': 'a technical problem at GOV.UK Notify',
};

/**
 * Record a new status for the message with this outbox id. Returns false when there is no such
 * message; true when known (whether or not anything changed).
 */
export async function applyDeliveryStatus(store: RecordStore, practice: string, outboxId: string, status: DeliveryStatus, extra: { notifyId?: string; error?: string } = {}): Promise<boolean> {
  const m = mdb(store.db);
  const row = await m.selectFrom('messaging_deliveries').selectAll().where('practice', '=', practice).where('outbox_id', '=', outboxId).executeTakeFirst();
  if (!row) return false;
  // Already final, or already this status (the channel and its settle both report "sending"): at most the Notify id is new.
  if (FINAL_STATUSES.has(row.status) || row.status === status) {
    if (extra.notifyId && !row.notify_id) await m.updateTable('messaging_deliveries').set({ notify_id: extra.notifyId }).where('practice', '=', practice).where('outbox_id', '=', outboxId).execute();
    return true;
  }
  await store.transaction({ author: 'system:messaging' }, (tx) => applyDeliveryStatusIn(tx, practice, outboxId, status, extra));
  return true;
}

/**
 * The same inside the caller's transaction (a person cancelling a message on the outbox screen).
 * `force` also moves a final status (a failed message retried by hand goes back to queued).
 */
export async function applyDeliveryStatusIn(tx: StoreTransaction, practice: string, outboxId: string, status: DeliveryStatus, extra: { notifyId?: string; error?: string; force?: boolean } = {}): Promise<boolean> {
  const row = await mdb(tx.db).selectFrom('messaging_deliveries').selectAll().where('practice', '=', practice).where('outbox_id', '=', outboxId).executeTakeFirst();
  if (!row) return false;
  if (!extra.force && FINAL_STATUSES.has(row.status)) return true;
  const now = new Date().toISOString();
  // Not in the record yet (a broadcast's message waiting for the recorder): the recorder writes it
  // with the status this row has then, and its task if it was not delivered.
  const stored = row.pending_record === null ? await tx.read('Communication', row.communication_id) : undefined;
  const comm = stored?.resource as Communication | undefined;
  if (comm) await tx.write(statusWrites(comm, row, status, extra.error, now));
  await mdb(tx.db)
    .updateTable('messaging_deliveries')
    .set({ status, updated_at: now, ...(extra.notifyId ? { notify_id: extra.notifyId } : {}), error: status === 'queued' ? '' : (extra.error ?? row.error) })
    .where('practice', '=', practice)
    .where('outbox_id', '=', outboxId)
    .execute();
  return true;
}

/**
 * The writes that put a status on a message's Communication: the Communication itself, and a Task for
 * reception when the message was not delivered.
 */
export function statusWrites(comm: Communication, row: Pick<MessagingDeliveriesTable, 'patient_id' | 'communication_id' | 'channel'>, status: DeliveryStatus, error: string | undefined, now: string): WriteRequest[] {
  const { statusReason: _previousReason, ...rest } = comm;
  const updated: Communication = {
    ...(status === 'queued' ? rest : comm),
    status: COMMUNICATION_STATUS[status],
    ...(status === 'sending' || status === 'sent' || status === 'delivered' ? { sent: comm.sent ?? now } : {}),
    ...(status === 'delivered' ? { received: now } : {}),
    extension: [...(comm.extension ?? []).filter((e) => e.url !== DELIVERY_STATUS_EXTENSION), { url: DELIVERY_STATUS_EXTENSION, valueCode: status }],
    ...(error || NOT_DELIVERED.has(status) ? { statusReason: { text: error || `Not delivered: ${REASON[status] ?? status}` } } : {}),
  };
  const writes: WriteRequest[] = [{ kind: 'update', resource: updated }];
  if (NOT_DELIVERED.has(status)) writes.push({ kind: 'create', resource: undeliveredTask(row.patient_id, row.communication_id, row.channel, error || REASON[status] || status, now) });
  return writes;
}

function undeliveredTask(patientId: string, communicationId: string, channel: string, why: string, now: string): Task {
  const what = channel === 'sms' ? 'text message' : channel;
  // Reception's first words: what to fix ("No valid mobile number"), then Notify's reason.
  const badNumber = channel === 'sms' && /permanent|does not exist|phone_number|mobile/i.test(why);
  const headline = badNumber ? 'No valid mobile number' : channel === 'email' && /permanent|does not exist|email_address/i.test(why) ? 'No valid email address' : 'Message to patient not delivered';
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority: 'routine',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: UNDELIVERED_TASK_CODE, display: 'Message to patient not delivered' }] },
    for: { reference: `Patient/${patientId}` },
    focus: { reference: `Communication/${communicationId}` },
    authoredOn: now,
    description: `${headline}: a ${what} to this patient was not delivered (${why}). Check the contact details with the patient and tell them another way.`,
  };
}

// A person on the outbox screen retried or cancelled one of messaging's messages: its Communication follows.
registerOutboxOwner('messaging', {
  async retried(tx, practice, outboxId) {
    await applyDeliveryStatusIn(tx, practice, outboxId, 'queued', { force: true });
  },
  async cancelled(tx, practice, outboxId, previous) {
    // A failed message stays failed in the record (it was not delivered, and its task says so).
    if (previous === 'pending') await applyDeliveryStatusIn(tx, practice, outboxId, 'cancelled');
  },
});
