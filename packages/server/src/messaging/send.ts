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
import type { StoreTransaction, WriteRequest } from '@steadfast/store';
import { enqueue } from '../outbox/queue.ts';
import { renderTemplate, templateOf } from './templates.ts';
import { mdb } from './tables.ts';

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
  /** The patient, already read in this transaction (a broadcast reads a batch in one search). */
  preloadedPatient?: Patient;
  /** The template, already read (a broadcast reads it once, not once per patient). */
  preloadedTemplate?: MessageTemplate;
  /**
   * Collect the Communication here instead of writing it at once: the caller writes a batch's
   * Communications in one store write, in the same transaction (a broadcast of thousands).
   */
  collectWrites?: WriteRequest[];
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

export async function queuePatientMessage(tx: StoreTransaction, practice: string, input: QueueMessageInput): Promise<QueuedPatientMessage> {
  let patient = input.preloadedPatient?.id === input.patientId ? input.preloadedPatient : undefined;
  if (!patient) {
    const stored = await tx.read('Patient', input.patientId);
    patient = stored && !stored.deleted ? (stored.resource as Patient) : undefined;
  }
  if (!patient) throw new SteadfastError('not-found', `Patient ${input.patientId} was not found`, { field: 'patient' });
  const prefs = contactPreferencesOf(patient);
  const address = postalAddressOf(patient);
  const template = input.preloadedTemplate ?? (await templateOf(tx.db, practice, input.template));
  const channel = input.channel ?? preferredChannel(prefs, address);
  const why = whyNotReachable(prefs, channel, address);
  if (why) throw new SteadfastError('invalid', `${why}, so this ${channel === 'sms' ? 'text message' : channel} cannot be sent`, { field: channel === 'sms' ? 'mobile' : channel === 'email' ? 'email' : 'patient', hint: prefs.doNotContact ? 'Do not message this patient; speak to them in person if needed' : "Update the patient's contact details and preferences first" });
  const firstName = patient.name?.[0]?.given?.[0];
  const rendered = renderTemplate({ ...template, channel }, { first_name: firstName, practice_name: input.practiceName, ...input.values });

  const to = channel === 'sms' ? prefs.mobile! : channel === 'email' ? prefs.email! : address.join(', ');
  return recordAndQueue(tx, practice, { ...input, channel, to, address, rendered, label: template.label });
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

async function recordAndQueue(
  tx: StoreTransaction,
  practice: string,
  input: QueueMessageInput & { channel: MessageChannelKind; to: string; address: string[]; rendered: { body: string; subject?: string }; label: string },
): Promise<QueuedPatientMessage> {
  const { channel, to, address, rendered } = input;
  const communicationId = randomUUID();
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
  const queued = await enqueue(tx.db, practice, {
    channel: CHANNEL_OF[channel],
    key: input.key,
    source: 'messaging',
    payload,
    about: `Communication/${communicationId}`,
    ...(input.notBefore ? { notBefore: input.notBefore } : {}),
  });
  if (!queued.created) {
    const existing = await mdb(tx.db).selectFrom('messaging_deliveries').select(['communication_id', 'channel']).where('practice', '=', practice).where('outbox_id', '=', queued.id).executeTakeFirst();
    return { communicationId: existing?.communication_id ?? '', outboxId: queued.id, channel: (existing?.channel as MessageChannelKind | undefined) ?? channel, created: false };
  }
  const now = new Date().toISOString();
  const communication: Communication = {
    resourceType: 'Communication',
    id: communicationId,
    identifier: [{ system: OUTBOX_MESSAGE_SYSTEM, value: queued.id }],
    status: 'preparation',
    category: [{ coding: [{ system: MESSAGE_CATEGORY_SYSTEM, code: input.category }], text: input.label }],
    medium: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode', ...MEDIUM[channel] }] }],
    subject: { reference: `Patient/${input.patientId}` },
    recipient: [{ reference: `Patient/${input.patientId}` }],
    ...(input.about ? { about: [{ reference: input.about }] } : {}),
    ...(input.sender ? { sender: { display: input.sender.name } } : {}),
    payload: [{ contentString: rendered.body }],
    extension: [{ url: DELIVERY_STATUS_EXTENSION, valueCode: 'queued' }],
  };
  if (input.collectWrites) input.collectWrites.push({ kind: 'update', resource: communication });
  else await tx.write([{ kind: 'update', resource: communication }]);
  await mdb(tx.db)
    .insertInto('messaging_deliveries')
    .values({ practice, outbox_id: queued.id, communication_id: communicationId, patient_id: input.patientId, channel, category: input.category, notify_id: null, status: 'queued', error: '', created_at: now, updated_at: now })
    .execute();
  return { communicationId, outboxId: queued.id, channel, created: true };
}
