/**
 * Registering a patient at reception and editing their details: one set of rules for the form in the
 * browser and for `POST/PUT /api/reception/patients` on the node, so the screen and the server never
 * disagree about what is acceptable. Mobile, email and contact preferences are the messaging rules
 * (contact.ts), reused here, not repeated. Pure: runs in the browser and on Node.
 */
import type { Address, ContactPoint, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { SteadfastError } from './errors.ts';
import { explainInvalidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from './nhs-number.ts';
import { contactPreferencesOf, normaliseEmail, normaliseUkMobile, withContactPreferences } from './contact.ts';

export const GENDERS = ['female', 'male', 'other', 'unknown'] as const;
export type Gender = (typeof GENDERS)[number];
export const genderText: Record<Gender, string> = { female: 'Female', male: 'Male', other: 'Other', unknown: 'Not known' };

/** What reception types in. Every field is text as typed; `registrationErrors` says what is wrong. */
export interface RegistrationInput {
  title?: string;
  givenName?: string;
  familyName?: string;
  /** YYYY-MM-DD */
  birthDate?: string;
  gender?: string;
  nhsNumber?: string;
  addressLine1?: string;
  addressLine2?: string;
  town?: string;
  postcode?: string;
  /** A home or work landline (or any number the patient gives for calls). */
  phone?: string;
  mobile?: string;
  email?: string;
  smsConsent?: boolean;
  doNotContact?: boolean;
  reasonableAdjustments?: string[];
}

/** The fields in the order the form shows them (the error summary lists problems in this order). */
export const REGISTRATION_FIELDS = [
  'title',
  'givenName',
  'familyName',
  'birthDate',
  'gender',
  'nhsNumber',
  'addressLine1',
  'addressLine2',
  'town',
  'postcode',
  'phone',
  'mobile',
  'email',
] as const;
export type RegistrationField = (typeof REGISTRATION_FIELDS)[number];

const UK_POSTCODE = /^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$/;

/** "ls1 4ab" → "LS1 4AB", or undefined when it is not the shape of a UK postcode. */
export function normalisePostcode(raw: string): string | undefined {
  const m = UK_POSTCODE.exec(raw.trim().toUpperCase().replace(/\s+/g, ' '));
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** A UK telephone number for calls (landline or mobile) as digits from 0, or a SteadfastError. */
export function normaliseUkPhone(raw: string, field = 'phone'): string {
  const digits = raw.replace(/[\s\-().]/g, '');
  if (!/^\+?\d+$/.test(digits)) throw new SteadfastError('invalid', `Phone number "${raw}" has characters that are not digits`, { field, hint: 'Give a UK number such as 0113 496 0000' });
  let national = digits.startsWith('+44') ? '0' + digits.slice(3) : digits.startsWith('0044') ? '0' + digits.slice(4) : digits;
  if (national.startsWith('00')) national = national.slice(1);
  if (!national.startsWith('0') || national.length < 10 || national.length > 11) {
    throw new SteadfastError('invalid', `"${raw}" is not a UK phone number`, { field, hint: 'A UK number starts 0 (or +44) and has 10 or 11 digits, e.g. 0113 496 0000' });
  }
  return national;
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function isRealDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/**
 * Every problem with the input, each naming its field and the fix, in form order (empty when it is
 * acceptable). `today` (YYYY-MM-DD) is passed in so a date of birth in the future is caught the same
 * way in the browser and on the node.
 */
export function registrationErrors(input: RegistrationInput, today: string = new Date().toISOString().slice(0, 10)): SteadfastError[] {
  const errors: SteadfastError[] = [];
  const add = (field: RegistrationField, message: string, hint: string, code: 'invalid' | 'required' = 'invalid') => errors.push(new SteadfastError(code, message, { field, hint }));
  for (const [field, label] of [
    ['title', 'Title'],
    ['givenName', 'First name'],
    ['familyName', 'Last name'],
    ['addressLine1', 'Address line 1'],
    ['addressLine2', 'Address line 2'],
    ['town', 'Town or city'],
  ] as const) {
    if (text(input[field]).length > 100) add(field, `${label} is longer than 100 characters`, 'Shorten it');
  }
  if (!text(input.givenName)) add('givenName', 'Enter the first name', 'As the patient gives it, e.g. Jane', 'required');
  if (!text(input.familyName)) add('familyName', 'Enter the last name', 'As the patient gives it, e.g. Smith', 'required');
  const dob = text(input.birthDate);
  if (!dob) add('birthDate', 'Enter the date of birth', 'For example 1980-02-27', 'required');
  else if (!isRealDate(dob)) add('birthDate', `Date of birth "${dob}" is not a real date`, 'Give day, month and year, e.g. 1980-02-27');
  else if (dob > today) add('birthDate', 'Date of birth must be today or in the past', 'Check the year');
  else if (Number(today.slice(0, 4)) - Number(dob.slice(0, 4)) > 130) add('birthDate', `Date of birth ${dob} would make the patient over 130`, 'Check the year');
  const gender = text(input.gender);
  if (!gender) add('gender', 'Select the gender', `Choose ${GENDERS.map((g) => genderText[g]).join(', ')}`, 'required');
  else if (!(GENDERS as readonly string[]).includes(gender)) add('gender', `Gender "${gender}" is not one of ${GENDERS.join(', ')}`, 'Choose one of the options');
  const nhs = text(input.nhsNumber);
  if (nhs) {
    const why = explainInvalidNhsNumber(nhs);
    if (why) add('nhsNumber', why, 'Check it against the patient’s NHS letter or app, or leave it blank to register without one');
  }
  const postcode = text(input.postcode);
  if (postcode && !normalisePostcode(postcode)) add('postcode', `"${postcode}" is not a UK postcode`, 'Give a postcode such as LS1 4AB');
  const collect = (field: RegistrationField, check: () => unknown) => {
    try {
      check();
    } catch (err) {
      if (err instanceof SteadfastError) errors.push(new SteadfastError(err.code, err.message, { field, ...(err.hint ? { hint: err.hint } : {}) }));
      else throw err;
    }
  };
  if (text(input.phone)) collect('phone', () => normaliseUkPhone(text(input.phone)));
  if (text(input.mobile)) collect('mobile', () => normaliseUkMobile(text(input.mobile)));
  if (text(input.email)) collect('email', () => normaliseEmail(text(input.email)));
  if (input.reasonableAdjustments !== undefined && (!Array.isArray(input.reasonableAdjustments) || input.reasonableAdjustments.some((a) => typeof a !== 'string' || a.length > 200))) {
    errors.push(new SteadfastError('invalid', 'Each reasonable adjustment must be text of up to 200 characters', { field: 'reasonableAdjustments', hint: 'One adjustment a line, e.g. "Needs a BSL interpreter"' }));
  }
  const order = (f: string | undefined) => {
    const i = REGISTRATION_FIELDS.indexOf(f as RegistrationField);
    return i < 0 ? REGISTRATION_FIELDS.length : i;
  };
  return errors.sort((a, b) => order(a.field) - order(b.field));
}

/**
 * The Patient for this registration: a new one, or `existing` with its demographics and contact
 * details replaced (every other element, identifier and extension kept). Throws the problems found.
 */
export function patientFromRegistration(input: RegistrationInput, existing?: Patient, today?: string): Patient {
  const errors = registrationErrors(input, today);
  if (errors.length) {
    const [first, ...rest] = errors;
    throw new SteadfastError(first!.code, first!.message, { ...(first!.field ? { field: first!.field } : {}), ...(first!.hint ? { hint: first!.hint } : {}) }, rest);
  }
  const title = text(input.title);
  const official: HumanName = {
    use: 'official',
    family: text(input.familyName),
    given: text(input.givenName).split(/\s+/).filter(Boolean),
    ...(title ? { prefix: [title] } : {}),
  };
  const otherNames = (existing?.name ?? []).filter((n) => n.use && n.use !== 'official');
  const nhs = text(input.nhsNumber) ? normaliseNhsNumber(text(input.nhsNumber)) : undefined;
  const otherIds = (existing?.identifier ?? []).filter((i) => i.system !== NHS_NUMBER_SYSTEM);
  const identifier: Identifier[] = [...(nhs ? [{ system: NHS_NUMBER_SYSTEM, value: nhs }] : []), ...otherIds];
  const lines = [text(input.addressLine1), text(input.addressLine2)].filter(Boolean);
  const postcode = text(input.postcode) ? normalisePostcode(text(input.postcode)) : undefined;
  const town = text(input.town);
  const home: Address | undefined =
    lines.length || town || postcode ? { use: 'home', ...(lines.length ? { line: lines } : {}), ...(town ? { city: town } : {}), ...(postcode ? { postalCode: postcode } : {}) } : undefined;
  const otherAddresses = (existing?.address ?? []).filter((a) => a.use !== 'home' && a.use !== undefined);
  const phone = text(input.phone) ? normaliseUkPhone(text(input.phone)) : undefined;
  // The call number is ours here; mobile and email belong to the contact-preference rules below.
  const otherTelecom = (existing?.telecom ?? []).filter((t) => !(t.system === 'phone' && t.use !== 'mobile'));
  const telecom: ContactPoint[] = [...(phone ? [{ system: 'phone' as const, use: 'home' as const, value: phone }] : []), ...otherTelecom];
  const { name: _n, identifier: _i, address: _a, telecom: _t, birthDate: _b, gender: _g, ...rest } = existing ?? ({ resourceType: 'Patient' } as Patient);
  const base: Patient = {
    ...rest,
    resourceType: 'Patient',
    ...(identifier.length ? { identifier } : {}),
    name: [official, ...otherNames],
    gender: text(input.gender) as Gender,
    birthDate: text(input.birthDate),
    ...(home || otherAddresses.length ? { address: [...(home ? [home] : []), ...otherAddresses] } : {}),
    ...(telecom.length ? { telecom } : {}),
  };
  return withContactPreferences(base, {
    mobile: text(input.mobile) || null,
    email: text(input.email) || null,
    ...(input.smsConsent !== undefined ? { smsConsent: input.smsConsent === true } : {}),
    ...(input.doNotContact !== undefined ? { doNotContact: input.doNotContact === true } : {}),
    ...(input.reasonableAdjustments !== undefined ? { reasonableAdjustments: input.reasonableAdjustments.map((a) => a.trim()).filter(Boolean) } : {}),
  });
}

/** The form's view of a Patient, to edit what is on the record. */
export function registrationOf(patient: Patient): RegistrationInput {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const home = patient.address?.find((a) => a.use === 'home') ?? patient.address?.[0];
  const phone = patient.telecom?.find((t) => t.system === 'phone' && t.use !== 'mobile' && !t.period?.end)?.value;
  const prefs = contactPreferencesOf(patient);
  return {
    title: name?.prefix?.[0] ?? '',
    givenName: (name?.given ?? []).join(' '),
    familyName: name?.family ?? '',
    birthDate: patient.birthDate ?? '',
    gender: patient.gender ?? '',
    nhsNumber: patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? '',
    addressLine1: home?.line?.[0] ?? '',
    addressLine2: home?.line?.slice(1).join(', ') ?? '',
    town: home?.city ?? '',
    postcode: home?.postalCode ?? '',
    phone: phone ?? '',
    mobile: prefs.mobile ?? '',
    email: prefs.email ?? '',
    smsConsent: prefs.smsConsent,
    doNotContact: prefs.doNotContact,
    reasonableAdjustments: prefs.reasonableAdjustments,
  };
}
