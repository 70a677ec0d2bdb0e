/**
 * The checks on a submission, shared by the form (to show the NHS.UK error summary before sending) and
 * the server (which runs them again on what arrived and answers 400 naming each field). Text is kept as
 * the patient typed it: it is stored inert and shown as text, never as HTML, so a script in a field is
 * harmless; only control characters are refused.
 */
import type { ConsultationKind, SubmissionPayload } from '../api/online-consultations.ts';
import { explainInvalidNhsNumber } from '../nhs-number.ts';
import { applicableQuestions, PHOTO_CONTENT_TYPES, PHOTO_MAX_BYTES, PHOTO_MAX_COUNT, questionnaireVersion } from './questionnaire.ts';
import { evaluateRedFlags } from './red-flags.ts';

export interface FieldProblem {
  /** The field, e.g. `identity.birthDate`, `answers.symptoms`, `photos[0]`. */
  field: string;
  message: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const POSTCODE = /^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$/i;
const EMAIL = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]{2,}$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** "07700 900123", "+44 7700 900123" -> "+447700900123"; undefined when not a UK mobile. */
export function normaliseUkMobile(input: string): string | undefined {
  const digits = input.replace(/[\s\-()]/g, '');
  const m = /^(?:\+44|0044|0)(7\d{9})$/.exec(digits);
  return m ? `+44${m[1]}` : undefined;
}

export function isValidPostcode(input: string): boolean {
  return POSTCODE.test(input.trim());
}

/** Why a date of birth is impossible, or undefined. `today` is YYYY-MM-DD (the form's and server's clock). */
export function explainBirthDate(input: string, today: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input);
  if (!m) return 'Date of birth must be a real date, like 1984-03-27';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return 'Date of birth must be a real date';
  if (input > today) return 'Date of birth must be in the past';
  if (y < Number(today.slice(0, 4)) - 120) return 'Date of birth must be within the last 120 years';
  return undefined;
}

/** Decoded size of a base64 string without decoding it. */
export function base64DecodedSize(data: string): number {
  const clean = data.replace(/\s/g, '');
  const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - padding;
}

/** What the first bytes say an image is (JPEG, PNG, WebP, HEIC), or undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const at = (i: number) => bytes[i] ?? -1;
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg';
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return 'image/png';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.slice(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(4, 8) === 'ftyp' && /^(heic|heix|mif1|msf1|hevc)$/.test(ascii(8, 12))) return 'image/heic';
  return undefined;
}

function text(problems: FieldProblem[], field: string, value: unknown, opts: { required: boolean; maxLength: number; label: string }): void {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    if (opts.required) problems.push({ field, message: `Enter ${opts.label}` });
    return;
  }
  if (typeof value !== 'string') return void problems.push({ field, message: `${opts.label} must be text` });
  if (value.length > opts.maxLength) problems.push({ field, message: `${opts.label} must be ${opts.maxLength} characters or fewer` });
  if (CONTROL.test(value)) problems.push({ field, message: `${opts.label} contains characters that cannot be stored; remove them` });
}

/**
 * Every problem with a submission, in form order; empty when it can be stored. Photos are checked by
 * declared type and size here; the server also checks the bytes really are that kind of image.
 */
export function validateSubmission(input: unknown, today: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [{ field: '', message: 'The submission must be a JSON object' }];
  const p = input as Partial<SubmissionPayload> & Record<string, unknown>;
  if (typeof p.submissionId !== 'string' || !UUID.test(p.submissionId)) problems.push({ field: 'submissionId', message: 'submissionId must be a UUID made on the device' });
  const def = typeof p.questionnaireVersion === 'string' ? questionnaireVersion(p.questionnaireVersion) : undefined;
  if (!def) problems.push({ field: 'questionnaireVersion', message: 'questionnaireVersion must name a version of the questionnaire this practice serves; reload the form' });
  const kind = p.kind as ConsultationKind;
  if (kind !== 'medical' && kind !== 'admin') problems.push({ field: 'kind', message: 'Choose whether this is a medical or an admin request' });
  if (def && (kind === 'medical' || kind === 'admin')) {
    const flags = typeof p.redFlags === 'object' && p.redFlags !== null ? (p.redFlags as Record<string, unknown>) : {};
    for (const linkId of evaluateRedFlags(def, kind, flags).unanswered) problems.push({ field: `redFlags.${linkId}`, message: 'Answer yes or no' });
    const answers = typeof p.answers === 'object' && p.answers !== null && !Array.isArray(p.answers) ? (p.answers as Record<string, string>) : {};
    const questions = applicableQuestions(def, kind, answers);
    for (const q of questions) {
      const field = `answers.${q.linkId}`;
      if (q.type === 'choice') {
        const v = answers[q.linkId];
        if (v === undefined || v === '') { if (q.required) problems.push({ field, message: `Select an answer to "${q.text}"` }); }
        else if (!q.options?.some((o) => o.code === v)) problems.push({ field, message: `Select one of the answers offered to "${q.text}"` });
      } else text(problems, field, answers[q.linkId], { required: q.required, maxLength: q.maxLength ?? 2000, label: `an answer to "${q.text}"` });
    }
    const known = new Set(questions.map((q) => q.linkId));
    for (const key of Object.keys(answers)) if (!known.has(key)) problems.push({ field: `answers.${key}`, message: `"${key}" is not a question of this ${kind} request` });
  }
  const id = (typeof p.identity === 'object' && p.identity !== null ? p.identity : {}) as Record<string, unknown>;
  text(problems, 'identity.givenName', id.givenName, { required: true, maxLength: 100, label: 'your first name' });
  text(problems, 'identity.familyName', id.familyName, { required: true, maxLength: 100, label: 'your last name' });
  if (typeof id.birthDate !== 'string' || !id.birthDate) problems.push({ field: 'identity.birthDate', message: 'Enter your date of birth' });
  else { const why = explainBirthDate(id.birthDate, today); if (why) problems.push({ field: 'identity.birthDate', message: why }); }
  if (typeof id.postcode !== 'string' || !isValidPostcode(id.postcode)) problems.push({ field: 'identity.postcode', message: 'Enter a real UK postcode, like LS1 4AP' });
  const hasMobile = typeof id.mobile === 'string' && id.mobile.trim() !== '';
  const hasEmail = typeof id.email === 'string' && id.email.trim() !== '';
  if (hasMobile && !normaliseUkMobile(id.mobile as string)) problems.push({ field: 'identity.mobile', message: 'Enter a UK mobile number, like 07700 900123' });
  if (hasEmail && ((id.email as string).length > 254 || !EMAIL.test((id.email as string).trim()))) problems.push({ field: 'identity.email', message: 'Enter an email address in the correct format, like name@example.com' });
  if (!hasMobile && !hasEmail) problems.push({ field: 'identity.mobile', message: 'Enter a mobile number or an email address so the practice can reply' });
  if (id.nhsNumber !== undefined && id.nhsNumber !== '') {
    const why = typeof id.nhsNumber === 'string' ? explainInvalidNhsNumber(id.nhsNumber) : 'NHS number must be text';
    if (why) problems.push({ field: 'identity.nhsNumber', message: why });
  }
  if (p.contactPreference !== 'sms' && p.contactPreference !== 'email') problems.push({ field: 'contactPreference', message: 'Choose how the practice should reply: text message or email' });
  else if (p.contactPreference === 'sms' && !hasMobile) problems.push({ field: 'identity.mobile', message: 'Enter a mobile number for a reply by text message' });
  else if (p.contactPreference === 'email' && !hasEmail) problems.push({ field: 'identity.email', message: 'Enter an email address for a reply by email' });
  if (p.photos !== undefined) {
    if (!Array.isArray(p.photos)) problems.push({ field: 'photos', message: 'photos must be a list' });
    else {
      if (p.photos.length > PHOTO_MAX_COUNT) problems.push({ field: 'photos', message: `Add ${PHOTO_MAX_COUNT} photos or fewer` });
      p.photos.forEach((photo: unknown, i) => {
        const ph = (photo ?? {}) as Record<string, unknown>;
        const field = `photos[${i}]`;
        if (typeof ph.contentType !== 'string' || !(PHOTO_CONTENT_TYPES as readonly string[]).includes(ph.contentType)) problems.push({ field, message: 'The selected file must be a JPG, PNG, WEBP or HEIC photo' });
        if (typeof ph.data !== 'string' || !/^[A-Za-z0-9+/\s]*={0,2}$/.test(ph.data) || ph.data.length === 0) problems.push({ field, message: 'The selected photo could not be read; choose it again' });
        else if (base64DecodedSize(ph.data) > PHOTO_MAX_BYTES) problems.push({ field, message: `The selected photo must be smaller than ${PHOTO_MAX_BYTES / 1024 / 1024} MB` });
        if (ph.filename !== undefined) text(problems, field, ph.filename, { required: false, maxLength: 200, label: 'The file name' });
      });
    }
  }
  return problems;
}
