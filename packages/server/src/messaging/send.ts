/**
 * Queuing a message to a patient: one Communication in the record, one outbox message and one
 * delivery row, all in the caller's store transaction, so a message is either wholly queued or not at
 * all. Every way messaging sends (a clinician's free text, a result, a reminder, a broadcast) comes
 * through queuePatientMessage.
 */
import { randomUUID } from 'node:crypto';
import type { Communication, Patient } from '@medplum/fhirtypes';
import { contactPreferencesOf, SteadfastError, type ContactPreferences } from '@steadfast/domain';
import type { MessageChannelKind, MessageTemplate } from '@steadfast/domain/api';
import { DELIVERY_STATUS_EXTENSION, MESSAGE_CATEGORY_SYSTEM, OUTBOX_MESSAGE_SYSTEM } from '@steadfast/domain/systems';
import { sql } from 'kysely';
import type { StoreTransaction } from '@steadfast/store';
import type { OutgoingMessage } from '../outbox/contract.ts';
import { enqueue, enqueueMany } from '../outbox/queue.ts';
import { renderTemplate, templateOf } from './templates.ts';
import { mdb, type MessagingDeliveriesTable } from './tables.ts';

/** The outbox channel that carries each kind of message. */
export const CHANNEL_OF: Record<MessageChannelKind, string> = { sms: 'notify-sms', email: 'notify-email', letter: 'notify-letter' };

const MEDIUM: Record<MessageChannelKind, { code: string; display: string }> = {
  sms: { code: 'SMSWRIT', display: 'SMS written' },
  email: { code: 'EMAILWRIT', display: 'email' },
  letter: { code: 'MAILWRIT', display: 'mail' },
};

/** The payload of a notify-* outbox message (what the channel needs; the outbox never looks inside). */
export interface NotifyPayload {
  kind: MessageChannelKind;
  /** Mobile number or email address; for letters, the address lines. */
  to: string;
  address?: string[];
  subject?: string;
  body: string;
  communicationId: string;
  patientId: string;
  /** Not worth sending from this instant on (an appointment's start): withdrawn instead of sent late. */
  expiresAt?: string;
}

export interface QueueMessageInput {
  patientId: string;
  template: string;
  /** Placeholder values beyond first_name and practice_name (which are filled here). */
  values?: Record<string, string | undefined>;
  channel?: MessageChannelKind;
  /** What the message is (outbox key): the same key queued again is the same message. */
  key: string;
  category: string;
  about?: string;
  sender?: { id: string; name: string };
  notBefore?: string;
  /** Not sent from this instant on (e.g. a reminder once the appointment has started). */
  expiresAt?: string;
  practiceName: string;
}

export interface QueuedPatientMessage {
  communicationId: string;
  outboxId: string;
  channel: MessageChannelKind;
  /** False when this key was already queued (nothing new written). */
  created: boolean;
}

/** Why a patient cannot be sent this kind of message, or undefined when they can. */
export function whyNotReachable(prefs: ContactPreferences, channel: MessageChannelKind, address: string[]): string | undefined {
  if (prefs.doNotContact) return 'The patient has asked not to be contacted';
  if (channel === 'sms') {
    if (!prefs.mobile) return 'The record has no valid UK mobile number';
    if (!prefs.smsConsent) return 'The patient has not agreed to text messages';
  }
  if (channel === 'email' && !prefs.email) return 'The record has no email address';
  if (channel === 'letter' && address.length < 3) return 'The record has no full postal address';
  return undefined;
}

export function postalAddressOf(patient: Patient): string[] {
  const a = (patient.address ?? []).find((x) => !x.period?.end && x.use !== 'old');
  if (!a) return [];
  const name = patient.name?.[0];
  const who = name ? [name.prefix?.[0], ...(name.given ?? []), name.family].filter(Boolean).join(' ') : '';
  return [who, ...(a.line ?? []), a.city, a.postalCode].filter((s): s is string => !!s && !!s.trim());
}

/** The channel to use when the sender did not choose one: text if allowed, else email, else letter. */
export function preferredChannel(prefs: ContactPreferences, address: string[]): MessageChannelKind {
  if (!whyNotReachable(prefs, 'sms', address)) return 'sms';
  if (!whyNotReachable(prefs, 'email', address)) return 'email';
  return 'letter';
}

/** A message checked and rendered for one patient, nothing written yet. */
export interface ComposedMessage {
  channel: MessageChannelKind;
  to: string;
  address: string[];
  rendered: { body: string; subject?: string };
  label: string;
}

/**
 * Check that this patient can be sent this message on this channel and render it. Throws a
 * SteadfastError naming the field and the fix when they cannot (no mobile, no consent, do not contact).
 */
export function composePatientMessage(patient: Patient, template: MessageTemplate, input: Pick<QueueMessageInput, 'channel' | 'values' | 'practiceName'>): ComposedMessage {
  const prefs = contactPreferencesOf(patient);
  const address = postalAddressOf(patient);
  const channel = input.channel ?? preferredChannel(prefs, address);
  const why = whyNotReachable(prefs, channel, address);
  if (why) throw new SteadfastError('invalid', `${why}, so this ${channel === 'sms' ? 'text message' : channel} cannot be sent`, { field: channel === 'sms' ? 'mobile' : channel === 'email' ? 'email' : 'patient', hint: prefs.doNotContact ? 'Do not message this patient; speak to them in person if needed' : "Update the patient's contact details and preferences first" });
  const firstName = patient.name?.[0]?.given?.[0];
  const rendered = renderTemplate({ ...template, channel }, { first_name: firstName, practice_name: input.practiceName, ...input.values });
  const to = channel === 'sms' ? prefs.mobile! : channel === 'email' ? prefs.email! : address.join(', ');
  return { channel, to, address, rendered, label: template.label };
}

export async function queuePatientMessage(tx: StoreTransaction, practice: string, input: QueueMessageInput): Promise<QueuedPatientMessage> {
  const stored = await tx.read('Patient', input.patientId);
  const patient = stored && !stored.deleted ? (stored.resource as Patient) : undefined;
  if (!patient) throw new SteadfastError('not-found', `Patient ${input.patientId} was not found`, { field: 'patient' });
  const template = await templateOf(tx.db, practice, input.template);
  return recordAndQueue(tx, practice, { ...input, ...composePatientMessage(patient, template, input) });
}

/**
 * A message to contact details given outside the record (an online consultation's own mobile or
 * email), still recorded as a Communication in the patient's record and delivered through the outbox.
 * The caller decides the address is right for this patient; the record's preferences are not used.
 */
export async function queueContactMessage(
  tx: StoreTransaction,
  practice: string,
  input: Omit<QueueMessageInput, 'channel'> & { channel: 'sms' | 'email'; to: string; firstName: string },
): Promise<QueuedPatientMessage> {
  const stored = await tx.read('Patient', input.patientId);
  if (!stored || stored.deleted) throw new SteadfastError('not-found', `Patient ${input.patientId} was not found`, { field: 'patient' });
  const template = await templateOf(tx.db, practice, input.template);
  const rendered = renderTemplate({ ...template, channel: input.channel }, { first_name: input.firstName, practice_name: input.practiceName, ...input.values });
  return recordAndQueue(tx, practice, { ...input, address: [], rendered, label: template.label });
}

type Queueable = QueueMessageInput & ComposedMessage;

function outgoingOf(input: Queueable, communicationId: string): OutgoingMessage {
  const { channel, to, address, rendered } = input;
  const payload: NotifyPayload = {
    kind: channel,
    to,
    ...(channel === 'letter' ? { address } : {}),
    ...(channel !== 'sms' ? { subject: rendered.subject ?? `A message from ${input.practiceName}` } : {}),
    body: rendered.body,
    communicationId,
    patientId: input.patientId,
    ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
  };
  return { channel: CHANNEL_OF[channel], key: input.key, source: 'messaging', payload, about: `Communication/${communicationId}`, ...(input.notBefore ? { notBefore: input.notBefore } : {}) };
}

function communicationOf(input: Queueable, communicationId: string, outboxId: string): Communication {
  return {
    resourceType: 'Communication',
    id: communicationId,
    identifier: [{ system: OUTBOX_MESSAGE_SYSTEM, value: outboxId }],
    status: 'preparation',
    category: [{ coding: [{ system: MESSAGE_CATEGORY_SYSTEM, code: input.category }], text: input.label }],
    medium: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode', ...MEDIUM[input.channel] }] }],
    subject: { reference: `Patient/${input.patientId}` },
    recipient: [{ reference: `Patient/${input.patientId}` }],
    ...(input.about ? { about: [{ reference: input.about }] } : {}),
    ...(input.sender ? { sender: { display: input.sender.name } } : {}),
    payload: [{ contentString: input.rendered.body }],
    extension: [{ url: DELIVERY_STATUS_EXTENSION, valueCode: 'queued' }],
  };
}

function deliveryRowOf(practice: string, input: Queueable, communicationId: string, outboxId: string, now: string, pendingRecord: Communication | null): MessagingDeliveriesTable {
  return { practice, outbox_id: outboxId, communication_id: communicationId, patient_id: input.patientId, channel: input.channel, category: input.category, notify_id: null, status: 'queued', error: '', created_at: now, updated_at: now, pending_record: pendingRecord ? JSON.stringify(pendingRecord) : null };
}

async function recordAndQueue(tx: StoreTransaction, practice: string, input: Queueable): Promise<QueuedPatientMessage> {
  const communicationId = randomUUID();
  const queued = await enqueue(tx.db, practice, outgoingOf(input, communicationId));
  if (!queued.created) {
    const existing = await mdb(tx.db).selectFrom('messaging_deliveries').select(['communication_id', 'channel']).where('practice', '=', practice).where('outbox_id', '=', queued.id).executeTakeFirst();
    return { communicationId: existing?.communication_id ?? '', outboxId: queued.id, channel: (existing?.channel as MessageChannelKind | undefined) ?? input.channel, created: false };
  }
  await tx.write([{ kind: 'update', resource: communicationOf(input, communicationId, queued.id) }]);
  await mdb(tx.db).insertInto('messaging_deliveries').values(deliveryRowOf(practice, input, communicationId, queued.id, new Date().toISOString(), null)).execute();
  return { communicationId, outboxId: queued.id, channel: input.channel, created: true };
}

const DELIVERY_COLUMNS = ['practice', 'outbox_id', 'communication_id', 'patient_id', 'channel', 'category', 'notify_id', 'status', 'error', 'created_at', 'updated_at', 'pending_record'] as const satisfies ReadonlyArray<keyof MessagingDeliveriesTable>;

/**
 * Queue many composed messages in the caller's transaction with a few set statements (a broadcast):
 * the outbox rows and delivery rows are the commitment, each delivery row carrying its Communication
 * for the recorder (record.ts) to write into the record shortly after, through the one write path.
 * A key already queued is that message (created: false), so a resumed broadcast queues nobody twice.
 */
export async function queueComposedMessages(tx: StoreTransaction, practice: string, inputs: readonly Queueable[]): Promise<QueuedPatientMessage[]> {
  const communicationIds = inputs.map(() => randomUUID());
  const queued = await enqueueMany(tx.db, practice, inputs.map((input, i) => outgoingOf(input, communicationIds[i]!)));
  const now = new Date().toISOString();
  const rows: MessagingDeliveriesTable[] = [];
  inputs.forEach((input, i) => {
    const q = queued[i]!;
    if (q.created) rows.push(deliveryRowOf(practice, input, communicationIds[i]!, q.id, now, communicationOf(input, communicationIds[i]!, q.id)));
  });
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    await sql`INSERT INTO messaging_deliveries (${sql.raw(DELIVERY_COLUMNS.join(', '))}) VALUES ${sql.join(part.map((r) => sql`(${sql.join(DELIVERY_COLUMNS.map((c) => r[c]))})`))}`.execute(tx.db);
  }
  return inputs.map((input, i) => ({ communicationId: queued[i]!.created ? communicationIds[i]! : '', outboxId: queued[i]!.id, channel: input.channel, created: queued[i]!.created }));
}
