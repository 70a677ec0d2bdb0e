/**
 * The rules of a message to a patient, shared by the node (which refuses what breaks them) and the
 * staff web app (which shows them while a person types): the placeholders a practice template may
 * use, how a text message is counted (GSM 7-bit or unicode, and how many fragments it costs), the
 * length limit, and what free text may not contain. Pure: no I/O.
 */
import type { MessageChannelKind, MessageTemplate } from './api-messaging.ts';
import { SMS_MAX_CHARACTERS } from './contact.ts';
import { SteadfastError } from './errors.ts';

export { SMS_MAX_CHARACTERS };

/** What a template may use. Anything else is refused when the template is saved. */
export const KNOWN_PLACEHOLDERS: Readonly<Record<string, string>> = {
  first_name: "The patient's first name",
  practice_name: 'The practice name',
  when: 'The appointment date and time',
  clinician: 'Who the appointment is with',
  reason: 'The reason given for a service disruption',
  reference: 'The reference number of the online consultation being answered',
  text: 'Free text written by the sender',
};

/**
 * Placeholders a template must keep: without ((text)) a clinician's free text would never reach the
 * patient, without ((reason)) a broadcast would not say what is happening.
 */
export const REQUIRED_PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = {
  'free-text': ['text'],
  'service-disruption': ['reason'],
};

/** Example values for previews: synthetic, and obviously so. */
export const SAMPLE_PERSONALISATION: Readonly<Record<string, string>> = {
  first_name: 'Alex',
  practice_name: 'Riverside Surgery',
  when: 'Thursday 3 December at 09:30',
  clinician: 'Dr Chen',
  reason: 'the surgery is closed for staff training',
  reference: 'OC-7K2M-9QX4',
  text: 'Please call the surgery about your recent visit.',
};

/** The placeholders ((name)) a text uses, once each, in order of first use. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\(\(([^()]+)\)\)/g)].map((m) => m[1]!.trim()))];
}

/** Placeholders Steadfast cannot fill, and brackets that look like a placeholder but are not one. */
export function placeholderProblems(text: string): { unknown: string[]; unbalanced: boolean } {
  const unknown = placeholdersOf(text).filter((p) => !(p in KNOWN_PLACEHOLDERS));
  const stripped = text.replace(/\(\(([^()]+)\)\)/g, '');
  return { unknown, unbalanced: /\(\(|\)\)/.test(stripped) };
}

// GSM 03.38: the basic set costs one septet, the extension set two (an escape and the character).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');

export interface SmsLength {
  /** GSM 7-bit when every character is in the GSM set; otherwise the whole message goes as UCS-2. */
  encoding: 'gsm' | 'unicode';
  /** Characters as GOV.UK Notify counts them against its limit. */
  characters: number;
  /** Fragments the message is sent (and billed) as. */
  fragments: number;
  /** Characters that forced unicode (each once), so the sender can replace them. */
  nonGsm: string[];
}

/** How a text message is counted: GSM 160 / 153 per fragment, unicode 70 / 67 per fragment. */
export function smsLength(text: string): SmsLength {
  let septets = 0;
  const nonGsm = new Set<string>();
  for (const ch of text) {
    if (GSM_BASIC.has(ch)) septets += 1;
    else if (GSM_EXTENSION.has(ch)) septets += 2;
    else nonGsm.add(ch);
  }
  const characters = text.length;
  if (nonGsm.size === 0) {
    return { encoding: 'gsm', characters, fragments: septets === 0 ? 0 : septets <= 160 ? 1 : Math.ceil(septets / 153), nonGsm: [] };
  }
  // UCS-2 counts UTF-16 code units: an emoji is two.
  return { encoding: 'unicode', characters, fragments: characters <= 70 ? 1 : Math.ceil(characters / 67), nonGsm: [...nonGsm] };
}

export interface TemplateDraft {
  key: string;
  body: string;
  subject?: string | undefined;
  channel: MessageChannelKind;
}

/** The first problem with a template as the practice admin wrote it, naming the field and the fix. */
export function templateProblem(t: TemplateDraft): SteadfastError | undefined {
  if (!t.body.trim()) return new SteadfastError('invalid', `Template ${t.key} has no text`, { field: 'body', hint: 'Write the message; use ((first_name)) and the other placeholders listed' });
  const { unknown, unbalanced } = placeholderProblems(`${t.subject ?? ''} ${t.body}`);
  if (unknown.length) {
    return new SteadfastError('invalid', `Template ${t.key} uses ${unknown.map((u) => `((${u}))`).join(', ')}, which Steadfast cannot fill`, {
      field: 'body',
      hint: `Use only ${Object.keys(KNOWN_PLACEHOLDERS).map((k) => `((${k}))`).join(', ')}`,
    });
  }
  const missing = (REQUIRED_PLACEHOLDERS[t.key] ?? []).filter((p) => !placeholdersOf(t.body).includes(p));
  if (missing.length) {
    return new SteadfastError('invalid', `Template ${t.key} must keep ${missing.map((m) => `((${m}))`).join(', ')}`, { field: 'body', hint: `Put ${missing.map((m) => `((${m}))`).join(', ')} back where ${missing.length === 1 ? 'it goes' : 'they go'}: ${missing.map((m) => KNOWN_PLACEHOLDERS[m]!.toLowerCase()).join('; ')}` });
  }
  if (unbalanced) return new SteadfastError('invalid', `Template ${t.key} has double brackets that are not a placeholder`, { field: 'body', hint: 'Write a placeholder as ((first_name)), with two brackets each side' });
  if (t.channel === 'sms' && t.body.length > SMS_MAX_CHARACTERS) {
    return new SteadfastError('invalid', `Template ${t.key} is ${t.body.length} characters; a text message can be at most ${SMS_MAX_CHARACTERS}`, { field: 'body', hint: `Shorten the message by ${t.body.length - SMS_MAX_CHARACTERS} characters` });
  }
  return undefined;
}

export function checkTemplate(t: TemplateDraft): void {
  const problem = templateProblem(t);
  if (problem) throw problem;
}

/** The message text with every placeholder filled, or an error naming the ones left empty. */
export function renderTemplate(t: Pick<MessageTemplate, 'key' | 'channel' | 'body' | 'subject' | 'placeholders'>, values: Record<string, string | undefined>): { body: string; subject?: string } {
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

/** Why free text may not go to a patient (links and Markdown look like phishing), or undefined. */
export function freeTextProblem(text: unknown): SteadfastError | undefined {
  if (typeof text !== 'string' || !text.trim()) return new SteadfastError('invalid', 'Write the message to send', { field: 'text' });
  if (/https?:\/\/|www\./i.test(text)) return new SteadfastError('invalid', 'Messages to patients may not contain links', { field: 'text', hint: 'Patients are told the practice never texts links; ask them to call or use the NHS App instead' });
  if (/^\s*(#|\*|>|---)|\[[^\]]*\]\(/m.test(text)) return new SteadfastError('invalid', 'Messages to patients may not contain formatting (#, *, >, [text](link))', { field: 'text', hint: 'Write plain sentences' });
  return undefined;
}

export function checkFreeText(text: unknown): string {
  const problem = freeTextProblem(text);
  if (problem) throw problem;
  return (text as string).trim();
}
