/**
 * The search parameters Steadfast indexes, one table per resource type. Index rows are derived from a
 * resource when it is written (in the same transaction), so a search never scans resource bodies.
 *
 * Kinds: `token` (system|code: identifiers, codes, statuses), `string` (normalised text, matched by
 * prefix), `date` (an instant range, start..end), `reference` (`Type/id`).
 */
import { requiredCodes } from '../fhir/clinical-rules.ts';
import { calendarProblem } from '../fhir/dates.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import { SteadfastError } from '../errors.ts';
import { isSupportedResourceType, resourceTypes, type SupportedResourceType } from '../fhir/resource-types.ts';

export type SearchParamKind = 'token' | 'string' | 'date' | 'reference';

export interface IndexRow {
  param: string;
  /** token system; '' for other kinds or a token without a system. */
  system: string;
  /** normalised value: token code, lower-case string, ISO start instant, or `Type/id`. */
  value: string;
  /** for dates, the ISO end instant of the range; '' otherwise. */
  valueEnd: string;
}

type AnyResource = Record<string, any>;
type Extract = (r: AnyResource) => unknown[];

export interface SearchParamDef {
  kind: SearchParamKind;
  extract: Extract;
  /** Shown in the CapabilityStatement. */
  description: string;
  /** For a token on a `code` element (status, gender): the element, whose required value set the search value must come from. */
  element?: string;
}

const arr = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const path =
  (...keys: string[]): Extract =>
  (r) => {
    let current: unknown[] = [r];
    for (const key of keys) current = current.flatMap((c) => (c && typeof c === 'object' ? arr((c as AnyResource)[key]) : []));
    return current;
  };
const first =
  (...extracts: Extract[]): Extract =>
  (r) => {
    for (const e of extracts) {
      const v = e(r);
      if (v.length) return v;
    }
    return [];
  };
const all =
  (...extracts: Extract[]): Extract =>
  (r) =>
    extracts.flatMap((e) => e(r));

const p = (kind: SearchParamKind, description: string, extract: Extract): SearchParamDef => ({ kind, extract, description });

const identifier = p('token', 'An identifier (system|value)', path('identifier'));
const subjectPatient = p('reference', 'The patient (Patient/id)', path('subject'));
const patientRef = (key: string) => p('reference', 'The patient (Patient/id)', path(key));
const codeOf = (key: string) => p('token', 'A code (system|code)', path(key, 'coding'));
const statusOf = (key = 'status'): SearchParamDef => ({ ...p('token', 'Status', path(key)), element: key });
const dateOf = (...extracts: Extract[]) => p('date', 'A date or date range (eq, ge, le, gt, lt prefixes)', first(...extracts));

export const searchParameters: Record<SupportedResourceType, Record<string, SearchParamDef>> = {
  Patient: {
    identifier,
    name: p('string', 'Any part of a name (prefix match)', all(path('name', 'family'), path('name', 'given'), path('name', 'text'))),
    family: p('string', 'Family name (prefix match)', path('name', 'family')),
    given: p('string', 'Given name (prefix match)', path('name', 'given')),
    birthdate: p('date', 'Date of birth', path('birthDate')),
    gender: statusOf('gender'),
    'address-postalcode': p('string', 'Postcode (prefix match, spaces ignored)', path('address', 'postalCode')),
    phone: p('token', 'Phone number (digits only)', (r) => arr(r.telecom).filter((t: any) => t?.system === 'phone' || t?.system === 'sms')),
    'general-practitioner': p('reference', 'Registered GP or practice', path('generalPractitioner')),
  },
  Practitioner: {
    identifier,
    name: p('string', 'Any part of a name', all(path('name', 'family'), path('name', 'given'))),
    family: p('string', 'Family name', path('name', 'family')),
    given: p('string', 'Given name', path('name', 'given')),
  },
  PractitionerRole: { identifier, practitioner: p('reference', 'The practitioner', path('practitioner')), organization: p('reference', 'Organization', path('organization')) },
  Organization: { identifier, name: p('string', 'Name', path('name')) },
  Location: { identifier, name: p('string', 'Name', path('name')) },
  Encounter: {
    identifier,
    patient: subjectPatient,
    date: dateOf(path('period', 'start')),
    status: statusOf(),
    code: codeOf('type'),
    practitioner: p('reference', 'Participant practitioner', path('participant', 'individual')),
  },
  Condition: {
    identifier,
    patient: subjectPatient,
    code: codeOf('code'),
    'clinical-status': p('token', 'Clinical status', path('clinicalStatus', 'coding')),
    status: p('token', 'Clinical status (alias)', path('clinicalStatus', 'coding')),
    date: dateOf(path('onsetDateTime'), path('recordedDate')),
    encounter: p('reference', 'Encounter', path('encounter')),
  },
  Observation: {
    identifier,
    patient: subjectPatient,
    code: codeOf('code'),
    date: dateOf(path('effectiveDateTime'), path('effectivePeriod', 'start'), path('issued')),
    status: statusOf(),
    'based-on': p('reference', 'The request it fulfils', path('basedOn')),
    encounter: p('reference', 'Encounter', path('encounter')),
  },
  AllergyIntolerance: {
    identifier,
    patient: patientRef('patient'),
    code: codeOf('code'),
    'clinical-status': p('token', 'Clinical status', path('clinicalStatus', 'coding')),
    status: p('token', 'Clinical status (alias)', path('clinicalStatus', 'coding')),
    date: dateOf(path('recordedDate'), path('onsetDateTime')),
  },
  MedicationRequest: {
    identifier,
    patient: subjectPatient,
    code: codeOf('medicationCodeableConcept'),
    status: statusOf(),
    date: dateOf(path('authoredOn')),
  },
  Appointment: {
    identifier,
    patient: p('reference', 'Patient participant', (r) => path('participant', 'actor')(r).filter((a: any) => String(a?.reference ?? '').startsWith('Patient/'))),
    practitioner: p('reference', 'Practitioner participant', (r) =>
      path('participant', 'actor')(r).filter((a: any) => String(a?.reference ?? '').startsWith('Practitioner/')),
    ),
    actor: p('reference', 'Any participant', path('participant', 'actor')),
    date: p('date', 'Start to end of the appointment', (r) => (r.start ? [{ start: r.start, end: r.end ?? r.start }] : [])),
    status: statusOf(),
    slot: p('reference', 'Booked slot', path('slot')),
    'service-type': codeOf('serviceType'),
  },
  Schedule: { identifier, actor: p('reference', 'Whose schedule', path('actor')), active: statusOf('active') },
  Slot: {
    identifier,
    schedule: p('reference', 'Schedule', path('schedule')),
    start: p('date', 'Slot start', path('start')),
    date: p('date', 'Slot start to end', (r) => (r.start ? [{ start: r.start, end: r.end ?? r.start }] : [])),
    status: statusOf(),
  },
  ServiceRequest: {
    identifier,
    patient: subjectPatient,
    code: codeOf('code'),
    status: statusOf(),
    date: dateOf(path('authoredOn')),
    requester: p('reference', 'Requester', path('requester')),
  },
  Specimen: { identifier, patient: subjectPatient, accession: p('token', 'Accession id', path('accessionIdentifier')), 'based-on': p('reference', 'Request', path('request')) },
  DiagnosticReport: {
    identifier,
    patient: subjectPatient,
    code: codeOf('code'),
    status: statusOf(),
    date: dateOf(path('effectiveDateTime'), path('effectivePeriod', 'start'), path('issued')),
    'based-on': p('reference', 'The request it answers', path('basedOn')),
    performer: p('reference', 'Laboratory or performer', path('performer')),
  },
  DocumentReference: {
    identifier,
    patient: subjectPatient,
    date: dateOf(path('date')),
    status: statusOf(),
    code: codeOf('type'),
    category: codeOf('category'),
  },
  // The bytes of a filed document: fetched by id from its DocumentReference, never searched.
  Binary: {},
  Communication: {
    identifier,
    patient: subjectPatient,
    status: statusOf(),
    date: dateOf(path('sent'), path('received')),
    code: codeOf('category'),
    medium: codeOf('medium'),
  },
  Task: {
    identifier,
    patient: p('reference', 'The patient the task is for', path('for')),
    owner: p('reference', 'Who is assigned', path('owner')),
    status: statusOf(),
    code: codeOf('code'),
    date: dateOf(path('authoredOn')),
    due: p('date', 'Due by', path('restriction', 'period', 'end')),
    focus: p('reference', 'What the task is about', path('focus')),
    priority: statusOf('priority'),
  },
  QuestionnaireResponse: {
    identifier,
    patient: subjectPatient,
    status: statusOf(),
    date: dateOf(path('authored')),
    questionnaire: p('token', 'Questionnaire', path('questionnaire')),
  },
  Flag: {
    identifier,
    patient: subjectPatient,
    status: statusOf(),
    code: codeOf('code'),
    date: dateOf(path('period', 'start')),
  },
  Consent: {
    identifier,
    patient: patientRef('patient'),
    status: statusOf(),
    category: codeOf('category'),
    date: dateOf(path('dateTime')),
    actor: p('token', 'Who the consent permits (ODS code of a practice: system|code)', path('provision', 'actor', 'reference', 'identifier')),
  },
  AuditEvent: {
    date: dateOf(path('recorded')),
    agent: p('reference', 'Who', path('agent', 'who')),
    entity: p('reference', 'What record', path('entity', 'what')),
    patient: p('reference', 'Patient concerned', (r) => path('entity', 'what')(r).filter((w: any) => String(w?.reference ?? '').startsWith('Patient/'))),
  },
};

/** Lower-case, accents removed, punctuation and spaces dropped: "O'Brien-Smith" → "obriensmith". */
export function normaliseString(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export function normalisePhone(s: string): string {
  let digits = s.replace(/\D/g, '');
  if (digits.startsWith('44')) digits = `0${digits.slice(2)}`;
  return digits;
}

/**
 * Expand a FHIR date, dateTime or instant into the instant range it covers, so that "1980" matches
 * every birth date in 1980 and an appointment is found by any day it overlaps.
 */
export function dateRange(value: string): { start: string; end: string } | undefined {
  if (calendarProblem(value.trim())) return undefined;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , tz] = m;
  if (!mo) return { start: `${y}-01-01T00:00:00.000Z`, end: `${y}-12-31T23:59:59.999Z` };
  if (!d) {
    const lastDay = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
    return { start: `${y}-${mo}-01T00:00:00.000Z`, end: `${y}-${mo}-${String(lastDay).padStart(2, '0')}T23:59:59.999Z` };
  }
  if (!h) return { start: `${y}-${mo}-${d}T00:00:00.000Z`, end: `${y}-${mo}-${d}T23:59:59.999Z` };
  const instant = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${tz ?? 'Z'}`);
  if (Number.isNaN(instant.getTime())) return undefined;
  const iso = instant.toISOString();
  if (!s) return { start: iso, end: new Date(instant.getTime() + 59_999).toISOString() };
  return { start: iso, end: m[7] ? iso : new Date(instant.getTime() + 999).toISOString() };
}

function indexValue(kind: SearchParamKind, param: string, raw: unknown): IndexRow[] {
  const row = (value: string, system = '', valueEnd = ''): IndexRow => ({ param, system, value, valueEnd });
  if (raw === undefined || raw === null || raw === '') return [];
  switch (kind) {
    case 'string':
      return typeof raw === 'string' && normaliseString(raw) ? [row(normaliseString(raw))] : [];
    case 'reference': {
      const ref = typeof raw === 'object' ? (raw as AnyResource).reference : undefined;
      return typeof ref === 'string' ? [row(ref)] : [];
    }
    case 'date': {
      if (typeof raw === 'object') {
        const { start, end } = raw as AnyResource;
        const s = typeof start === 'string' ? dateRange(start) : undefined;
        const e = typeof end === 'string' ? dateRange(end) : s;
        return s ? [row(s.start, '', (e ?? s).end)] : [];
      }
      const range = typeof raw === 'string' ? dateRange(raw) : undefined;
      return range ? [row(range.start, '', range.end)] : [];
    }
    case 'token': {
      if (typeof raw === 'string' || typeof raw === 'boolean') return [row(String(raw))];
      const o = raw as AnyResource;
      if (o.system === 'phone' || o.system === 'sms') return typeof o.value === 'string' ? [row(normalisePhone(o.value))] : [];
      if (typeof o.value === 'string') return [row(o.value, o.system ?? '')]; // Identifier
      if (typeof o.code === 'string') return [row(o.code, o.system ?? '')]; // Coding
      return [];
    }
  }
}

/** Every index row a resource produces, de-duplicated. */
export function extractIndexRows(resource: AnyResource): IndexRow[] {
  const defs = searchParameters[resource.resourceType as SupportedResourceType];
  if (!defs) return [];
  const seen = new Set<string>();
  const rows: IndexRow[] = [];
  for (const [param, def] of Object.entries(defs)) {
    for (const raw of def.extract(resource)) {
      for (const r of indexValue(def.kind, param, raw)) {
        const key = `${r.param}\u0000${r.system}\u0000${r.value}\u0000${r.valueEnd}`;
        if (!seen.has(key)) {
          seen.add(key);
          rows.push(r);
        }
      }
    }
  }
  return rows;
}

/** Date prefixes the store supports. */
export const DATE_PREFIXES = ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] as const;
export const DATE_FORMAT_HINT = 'Use a real date YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm], optionally prefixed with eq, ne, ge, le, gt or lt (e.g. ge2020-02-29)';
const STRING_MODIFIERS = ['exact', 'contains'];
const REFERENCE_VALUE = /^(?:([A-Za-z]+)\/)?([A-Za-z0-9\-.]{1,64})$/;

/** 400 unless `raw` is a valid date search value (an optional prefix and a real calendar date). */
export function checkDateSearchValue(name: string, raw: string): void {
  const prefix = DATE_PREFIXES.find((x) => raw.startsWith(x));
  const date = prefix ? raw.slice(2) : raw;
  if (!dateRange(date)) {
    const why = calendarProblem(date);
    const detail = why && !why.startsWith('is not in') ? ` (it ${why})` : '';
    throw new SteadfastError('invalid', `${name}=${raw} is not a valid date search${detail}`, { field: name, hint: DATE_FORMAT_HINT });
  }
}

/**
 * 400 naming the parameter and the accepted format unless one value of a search parameter fits the
 * parameter's type: a real date for dates, `[system|]code` (from the element's value set where it has
 * a required one) for tokens, `[Type/]id` for references, some letters or digits for strings.
 */
export function checkSearchValue(resourceType: SupportedResourceType, name: string, modifier: string | undefined, raw: string): void {
  const def = searchParameters[resourceType]?.[name];
  if (!def) return; // unknown names are reported by the caller, with the list of valid ones
  const key = modifier ? `${name}:${modifier}` : name;
  if (modifier && !(def.kind === 'string' && STRING_MODIFIERS.includes(modifier))) {
    throw new SteadfastError('not-supported', `Modifier :${modifier} is not supported on ${def.kind} parameter ${name}`, {
      field: key,
      hint: def.kind === 'string' ? 'Use :exact or :contains, or no modifier (prefix match)' : `Search ${name}=<value> without a modifier`,
    });
  }
  switch (def.kind) {
    case 'date':
      return checkDateSearchValue(key, raw);
    case 'string':
      if (!normaliseString(raw)) throw new SteadfastError('invalid', `${key}=${raw} has no letters or digits to search for`, { field: key, hint: 'Give part of the text, e.g. name=smi' });
      return;
    case 'reference': {
      const m = REFERENCE_VALUE.exec(raw);
      if (!m) throw new SteadfastError('invalid', `${key}=${raw} is not a reference`, { field: key, hint: `Use ${key}=Type/id (e.g. ${key}=Patient/123) or ${key}=id` });
      if (m[1] && !isSupportedResourceType(m[1])) {
        throw new SteadfastError('invalid', `${key}=${raw} names "${m[1]}", which is not a resource type Steadfast stores`, { field: key, hint: `Use ${key}=Type/id with one of: ${resourceTypes.join(', ')}` });
      }
      return;
    }
    case 'token': {
      const bar = raw.indexOf('|');
      const code = bar >= 0 ? raw.slice(bar + 1) : raw;
      if (!code) throw new SteadfastError('invalid', `${key}=${raw} has no code`, { field: key, hint: `Use ${key}=code or ${key}=system|code` });
      if (def.element) loadFhirDefinitions();
      const codes = def.element ? requiredCodes(resourceType, def.element) : undefined;
      if (codes && !codes.has(code)) {
        throw new SteadfastError('invalid', `${key}=${raw}: "${code}" is not a ${resourceType}.${def.element} code, so nothing could match`, { field: key, hint: `Use one of: ${[...codes].join(', ')}` });
      }
      return;
    }
  }
}
