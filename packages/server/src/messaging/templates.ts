/**
 * The practice's message templates: defaults every practice starts with, edited by the
 * practice-admin (stored in messaging_templates). Placeholders use Notify's ((name)) syntax; the
 * rendered text is sent as the ((body)) of the practice's one Notify template per channel. The rules
 * (placeholders, SMS length, free text) live in @steadfast/domain/messaging, shared with the web app.
 */
import type { Kysely, Transaction } from 'kysely';
import { SteadfastError } from '@steadfast/domain';
import { checkTemplate, placeholdersOf } from '@steadfast/domain/messaging';
import type { MessageChannelKind, MessageTemplate } from '@steadfast/domain/api';
import { mdb } from './tables.ts';

export const DEFAULT_TEMPLATES: ReadonlyArray<Omit<MessageTemplate, 'placeholders'>> = [
  { key: 'free-text', label: 'Free text', channel: 'sms', body: '((text))\n((practice_name))' },
  { key: 'result-normal', label: 'Result normal, no action', channel: 'sms', body: 'Dear ((first_name)), your recent test results have been reviewed by your doctor and no further action is needed. ((practice_name))' },
  { key: 'result-book-routine', label: 'Result: please book a routine appointment', channel: 'sms', body: 'Dear ((first_name)), your doctor has reviewed your recent test results and would like you to book a routine appointment. Please contact the surgery. ((practice_name))' },
  { key: 'appointment-confirmation', label: 'Appointment booked', channel: 'sms', body: 'Your appointment at ((practice_name)) is booked for ((when)) with ((clinician)). If you cannot attend, please call the surgery.' },
  { key: 'appointment-reminder', label: 'Appointment reminder (the day before)', channel: 'sms', body: 'Reminder: you have an appointment at ((practice_name)) on ((when)) with ((clinician)). If you cannot attend, please call the surgery.' },
  // Replies to online consultations (online-consultations/triage.ts), sent to the contact details the request gave.
  { key: 'oc-self-care', label: 'Online consultation: self-care advice', channel: 'sms', body: 'Dear ((first_name)), about your online request ((reference)): a clinician has read it and this can be looked after at home. A pharmacist can advise. If you get worse, call 111, or 999 in an emergency. ((practice_name))' },
  { key: 'oc-please-book', label: 'Online consultation: please book an appointment', channel: 'sms', body: 'Dear ((first_name)), about your online request ((reference)): please call the surgery to book an appointment. ((practice_name))' },
  { key: 'oc-will-call', label: 'Online consultation: we will phone you', channel: 'sms', body: 'Dear ((first_name)), about your online request ((reference)): someone from the practice will phone you. Please keep your phone with you. ((practice_name))' },
  { key: 'service-disruption', label: 'Service disruption', channel: 'sms', body: '((practice_name)): ((reason)). Your appointment on ((when)) may be affected; we will contact you to rebook if needed. Please do not reply.' },
];

export async function listTemplates(db: Kysely<any> | Transaction<any>, practice: string): Promise<MessageTemplate[]> {
  const rows = await mdb(db).selectFrom('messaging_templates').selectAll().where('practice', '=', practice).execute();
  const byKey = new Map(rows.map((r) => [r.template_key, r]));
  return DEFAULT_TEMPLATES.map((d) => {
    const row = byKey.get(d.key);
    const t = row ? { key: d.key, label: d.label, channel: d.channel, body: row.body, ...(row.subject ? { subject: row.subject } : {}), updatedAt: row.updated_at } : { ...d };
    return { ...t, placeholders: placeholdersOf(`${t.subject ?? ''} ${t.body}`) };
  });
}

export async function templateOf(db: Kysely<any> | Transaction<any>, practice: string, key: string): Promise<MessageTemplate> {
  const t = (await listTemplates(db, practice)).find((x) => x.key === key);
  if (!t) throw new SteadfastError('invalid', `There is no message template "${key}"`, { field: 'template', hint: `Use one of ${DEFAULT_TEMPLATES.map((d) => d.key).join(', ')}` });
  return t;
}

export async function saveTemplate(db: Kysely<any> | Transaction<any>, practice: string, key: string, body: unknown, subject: unknown, by: string): Promise<MessageTemplate> {
  const base = DEFAULT_TEMPLATES.find((d) => d.key === key);
  if (!base) throw new SteadfastError('not-found', `There is no message template "${key}"`, { field: 'key' });
  if (typeof body !== 'string') throw new SteadfastError('invalid', 'body must be the text of the message', { field: 'body' });
  if (subject !== undefined && subject !== null && typeof subject !== 'string') throw new SteadfastError('invalid', 'subject must be text', { field: 'subject' });
  const t = { key, channel: base.channel, body: body.replace(/\r\n/g, '\n'), subject: (subject as string | null | undefined) ?? undefined };
  checkTemplate(t);
  const now = new Date().toISOString();
  const m = mdb(db);
  await m.deleteFrom('messaging_templates').where('practice', '=', practice).where('template_key', '=', key).execute();
  await m.insertInto('messaging_templates').values({ practice, template_key: key, channel: base.channel, label: base.label, body: t.body, subject: t.subject ?? null, updated_at: now, updated_by: by }).execute();
  return templateOf(db, practice, key);
}

export { checkFreeText, checkTemplate, KNOWN_PLACEHOLDERS, placeholdersOf, renderTemplate } from '@steadfast/domain/messaging';
