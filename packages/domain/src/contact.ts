/**
 * Patient contact details for messaging: UK mobile numbers and email addresses checked the way
 * GOV.UK Notify checks them, the SMS length limit, and a patient's contact preferences read from the
 * Patient resource (telecom + Steadfast extensions). Pure: runs in the browser and on Node.
 */
import type { Patient } from '@medplum/fhirtypes';
import { SteadfastError } from './errors.ts';
import { DO_NOT_CONTACT_EXTENSION, REASONABLE_ADJUSTMENT_EXTENSION, SMS_CONSENT_EXTENSION } from './systems.ts';

/** GOV.UK Notify refuses a text message longer than this (after personalisation). */
export const SMS_MAX_CHARACTERS = 918;

/**
 * A UK mobile number in the form 07xxxxxxxxx, from what a person typed ("+44 7700 900123",
 * "07700-900123", "(0)7700 900123"), or a SteadfastError naming the field and the fix.
 */
export function normaliseUkMobile(raw: string, field = 'mobile'): string {
  const digits = raw.replace(/[\s\-().]/g, '');
  if (!/^\+?\d+$/.test(digits)) {
    throw new SteadfastError('invalid', `Mobile number "${raw}" has characters that are not digits`, { field, hint: 'Give a UK mobile number such as 07700 900123' });
  }
  let national = digits;
  if (national.startsWith('+44')) national = '0' + national.slice(3);
  else if (national.startsWith('0044')) national = '0' + national.slice(4);
  else if (national.startsWith('44') && national.length === 12) national = '0' + national.slice(2);
  if (national.startsWith('00')) national = national.slice(1); // "+44 (0)7..." typed as +4407...
  if (!national.startsWith('07')) {
    throw new SteadfastError('invalid', `"${raw}" is not a UK mobile number (UK mobiles start 07 or +44 7)`, { field, hint: 'Give a UK mobile number such as 07700 900123; landlines cannot receive text messages' });
  }
  if (national.length !== 11) {
    throw new SteadfastError('invalid', `Mobile number "${raw}" has ${national.length - 1 > 10 ? 'too many' : 'too few'} digits`, { field, hint: 'A UK mobile number has 11 digits, e.g. 07700 900123' });
  }
  return national;
}

/** Whether `raw` is a UK mobile number (see normaliseUkMobile). */
export function isUkMobile(raw: string): boolean {
  try {
    normaliseUkMobile(raw);
    return true;
  } catch {
    return false;
  }
}

const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/;

/** An email address, trimmed and checked (one @, a domain with a dot, no spaces), or a SteadfastError. */
export function normaliseEmail(raw: string, field = 'email'): string {
  const email = raw.trim();
  if (email.length > 320 || !EMAIL.test(email) || email.includes('..') || email.split('@')[0]!.startsWith('.')) {
    throw new SteadfastError('invalid', `"${raw}" is not an email address`, { field, hint: 'Give an address such as name@example.com' });
  }
  return email;
}

/** What a practice may send a patient, read from the Patient resource. */
export interface ContactPreferences {
  mobile?: string;
  email?: string;
  /** The patient agreed to text messages. */
  smsConsent: boolean;
  /** The practice must not message this patient (overrides everything else). */
  doNotContact: boolean;
  reasonableAdjustments: string[];
}

export function contactPreferencesOf(patient: Patient): ContactPreferences {
  const telecom = (patient.telecom ?? []).filter((t) => !t.period?.end);
  const mobile = telecom.find((t) => t.system === 'sms' || (t.system === 'phone' && t.use === 'mobile'))?.value;
  const email = telecom.find((t) => t.system === 'email')?.value;
  const ext = patient.extension ?? [];
  return {
    ...(mobile && isUkMobile(mobile) ? { mobile: normaliseUkMobile(mobile) } : {}),
    ...(email ? { email } : {}),
    smsConsent: ext.some((e) => e.url === SMS_CONSENT_EXTENSION && e.valueBoolean === true),
    doNotContact: ext.some((e) => e.url === DO_NOT_CONTACT_EXTENSION && e.valueBoolean === true),
    reasonableAdjustments: ext.filter((e) => e.url === REASONABLE_ADJUSTMENT_EXTENSION && e.valueString).map((e) => e.valueString!),
  };
}

/** Input for changing a patient's contact details and preferences. */
export interface ContactUpdate {
  mobile?: string | null;
  email?: string | null;
  smsConsent?: boolean;
  doNotContact?: boolean;
  reasonableAdjustments?: string[];
}

/** The Patient with its mobile, email and preferences replaced by `update` (checked; throws naming the field). */
export function withContactPreferences(patient: Patient, update: ContactUpdate): Patient {
  const current = contactPreferencesOf(patient);
  const mobile = update.mobile === undefined ? current.mobile : update.mobile ? normaliseUkMobile(update.mobile) : undefined;
  const email = update.email === undefined ? current.email : update.email ? normaliseEmail(update.email) : undefined;
  const adjustments = update.reasonableAdjustments ?? current.reasonableAdjustments;
  if (adjustments.some((a) => typeof a !== 'string' || a.length > 200)) {
    throw new SteadfastError('invalid', 'Each reasonable adjustment must be text of up to 200 characters', { field: 'reasonableAdjustments' });
  }
  const otherTelecom = (patient.telecom ?? []).filter((t) => !(t.system === 'sms' || (t.system === 'phone' && t.use === 'mobile') || t.system === 'email'));
  const ours = new Set([SMS_CONSENT_EXTENSION, DO_NOT_CONTACT_EXTENSION, REASONABLE_ADJUSTMENT_EXTENSION]);
  const otherExt = (patient.extension ?? []).filter((e) => !ours.has(e.url));
  const smsConsent = update.smsConsent ?? current.smsConsent;
  const doNotContact = update.doNotContact ?? current.doNotContact;
  const telecom = [
    ...otherTelecom,
    ...(mobile ? [{ system: 'phone' as const, use: 'mobile' as const, value: mobile }] : []),
    ...(email ? [{ system: 'email' as const, value: email }] : []),
  ];
  const extension = [
    ...otherExt,
    { url: SMS_CONSENT_EXTENSION, valueBoolean: smsConsent },
    { url: DO_NOT_CONTACT_EXTENSION, valueBoolean: doNotContact },
    ...adjustments.filter(Boolean).map((a) => ({ url: REASONABLE_ADJUSTMENT_EXTENSION, valueString: a.trim() })),
  ];
  const { telecom: _t, extension: _e, ...rest } = patient;
  return { ...rest, ...(telecom.length ? { telecom } : {}), extension };
}
