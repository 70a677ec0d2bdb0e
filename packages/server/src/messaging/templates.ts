/**
 * The practice's message templates: defaults every practice starts with, edited by the
 * practice-admin (stored in messaging_templates). Placeholders use Notify's ((name)) syntax; the
 * rendered text is sent as the ((body)) of the practice's one Notify template per channel.
 */
import type { Kysely, Transaction } from 'kysely';
import { SMS_MAX_CHARACTERS, SteadfastError } from '@steadfast/domain';
import type { MessageChannelKind, MessageTemplate } from '@steadfast/domain/api';
import { mdb } from './tables.ts';

/** What a template may use. Anything else is refused when the template is saved. */
export const KNOWN_PLACEHOLDERS: Record<string, string> = {
  first_name: "The patient's first name",
  practice_name: 'The practice name',
  when: 'The appointment date and time',
  clinician: 'Who the appointment is with',
  reason: 'The reason given for a service disruption',
  text: 'Free text written by the sender',
  reference: 'The reference number of the online consultation being answered',
};

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

export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\(\(([^()]+)\)\)/g)].map((m) => m[1]!.trim()))];
}

export function checkTemplate(t: { key: string; body: string; subject?: string | undefined; channel: MessageChannelKind }): void {
  if (!t.body.trim()) throw new SteadfastError('invalid', `Template ${t.key} has no text`, { field: 'body', hint: 'Write the message; use ((first_name)) and the other placeholders listed' });
  const unknown = placeholdersOf(`${t.subject ?? ''} ${t.body}`).filter((p) => !(p in KNOWN_PLACEHOLDERS));
  if (unknown.length) {
    throw new SteadfastError('invalid', `Template ${t.key} uses ${unknown.map((u) => `((${u}))`).join(', ')}, which Steadfast cannot fill`, { field: 'body', hint: `Use only ${Object.keys(KNOWN_PLACEHOLDERS).map((k) => `((${k}))`).join(', ')}` });
  }
  if (t.channel === 'sms' && t.body.length > SMS_MAX_CHARACTERS) throw new SteadfastError('invalid', `Template ${t.key} is ${t.body.length} characters; a text message can be at most ${SMS_MAX_CHARACTERS}`, { field: 'body', hint: 'Shorten the message' });
}

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

/** The message text with every placeholder filled, or an error naming the ones left empty. */
export function renderTemplate(t: MessageTemplate, values: Record<string, string | undefined>): { body: string; subject?: string } {
  const missing = t.placeholders.filter((p) => !values[p]?.trim());
  if (missing.length) {
    throw new SteadfastError('invalid', `Template ${t.key} needs ${missing.map((m) => `((${m}))`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} empty`, {
      field: missing[0] === 'text' ? 'text' : 'template',
      hint: missing.includes('first_name') ? "Add the patient's name to the record" : `Fill in ${missing.join(', ')}`,
    });
  }
  const fill = (s: string) => s.replace(/\(\(([^()]+)\)\)/g, (_, name: string) => values[name.trim()]!.trim());
  const body = fill(t.body);
  if (t.channel === 'sms' && body.length > SMS_MAX_CHARACTERS) {
    throw new SteadfastError('invalid', `The text message would be ${body.length} characters; the most GOV.UK Notify sends is ${SMS_MAX_CHARACTERS}`, { field: values.text ? 'text' : 'template', hint: `Shorten it by ${body.length - SMS_MAX_CHARACTERS} characters` });
  }
  return { body, ...(t.subject ? { subject: fill(t.subject) } : {}) };
}

/** Free text may not carry links or Markdown a patient could be misled by (phishing looks like this). */
export function checkFreeText(text: unknown): string {
  if (typeof text !== 'string' || !text.trim()) throw new SteadfastError('invalid', 'Write the message to send', { field: 'text' });
  if (/https?:\/\/|www\./i.test(text)) throw new SteadfastError('invalid', 'Messages to patients may not contain links', { field: 'text', hint: 'Patients are told the practice never texts links; ask them to call or use the NHS App instead' });
  if (/^\s*(#|\*|>|---)|\[[^\]]*\]\(/m.test(text)) throw new SteadfastError('invalid', 'Messages to patients may not contain formatting (#, *, >, [text](link))', { field: 'text', hint: 'Write plain sentences' });
  return text.trim();
}
