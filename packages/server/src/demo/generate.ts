/**
 * The synthetic demo practice: a deterministic generator of FHIR R4 resources for a whole practice
 * (organisation, staff, rooms, patients with years of record, and a week of appointments).
 *
 * - Deterministic: everything derives from the seed and `today`; the same options give byte-identical
 *   output. Each patient has its own random stream, so patient 7 does not change when patient 6 does.
 * - Dependency order: anything referenced is yielded before what refers to it.
 * - Marked synthetic: every resource carries the HL7 security label HTEST ("test health data"), NHS
 *   numbers come from the 999 test range and phone numbers from Ofcom's drama range.
 * - Consultation notes (history, examination, plan) are kept on the Encounter, in the consultation-note
 *   extension the web app writes and as the XHTML narrative (Encounter.text).
 */
import type {
  AllergyIntolerance,
  Appointment,
  CodeableConcept,
  Condition,
  DiagnosticReport,
  Encounter,
  Flag,
  Location,
  MedicationRequest,
  Observation,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Quantity,
  Reference,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { REGISTRATION_DATE_EXTENSION, CONSULTATION_NOTE_EXTENSION, SMS_CONSENT_EXTENSION } from '@steadfast/domain/systems';
import { conceptById, medicineByName, NHS_NUMBER_SYSTEM, ODS_SYSTEM, snomedConcept, TEST_DATA_SECURITY_LABEL, testNhsNumber, testNhsNumberCapacity } from '@steadfast/domain';
import { Random, hash32, seededUuid } from '@steadfast/domain/random';
import { clinicianGivenNames, dramaMobile, familyNames, femaleGivenNames, maleGivenNames, postcode, streets, towns } from './people.ts';
import {
  acuteProblems,
  chronicConditions,
  CKD_STAGES,
  creatinineFor,
  flagTexts,
  panels,
  PENICILLIN_ALTERNATIVE,
  PENICILLINS,
  type ChronicCondition,
  type PanelKey,
  type PatientState,
  type Sex,
} from './clinical.ts';

export interface GenerateOptions {
  patients: number;
  seed: number | string;
  /** The practice's "today" (YYYY-MM-DD, Europe/London); appointments start on this day. Default: the real today. */
  today?: string | Date;
  /** ODS code for the practice Organization (a seeded store passes its own). */
  odsCode?: string;
  practiceName?: string;
}

/** HL7 security label for test data, on every generated resource so no screen or export can mistake it for a real record. */
export const SYNTHETIC_SECURITY_LABEL = TEST_DATA_SECURITY_LABEL;

const DEFAULT_DEMO_ODS_CODE = 'Y99999';
const MAX_DEMO_PATIENTS = 200_000;

const DAY_MS = 86_400_000;
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

// ---- dates ----------------------------------------------------------------------------------------

function dayOf(date: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`today must be YYYY-MM-DD, got "${date}"`);
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`today "${date}" is not a real date`);
  return Math.floor(ms / DAY_MS);
}

const londonDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const londonOffsetFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' });
const offsetCache = new Map<number, string>();

/** "+00:00" in winter, "+01:00" in summer, for a day (taken at noon, clear of the 01:00 UTC changeover). */
function londonOffset(day: number): string {
  let offset = offsetCache.get(day);
  if (!offset) {
    const name = londonOffsetFormat.formatToParts(new Date(day * DAY_MS + 12 * 3_600_000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d+)/.exec(name);
    offset = m ? `${m[1]}${m[2]!.padStart(2, '0')}:00` : '+00:00';
    offsetCache.set(day, offset);
  }
  return offset;
}

function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Local (London) wall-clock time on a day, as an ISO date-time with its offset. */
function localDateTime(day: number, minutes: number): string {
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${isoDate(day)}T${hh}:${mm}:00${londonOffset(day)}`;
}

function weekday(day: number): number {
  return new Date(day * DAY_MS).getUTCDay(); // 0 Sunday .. 6 Saturday
}

function resolveToday(today: GenerateOptions['today']): number {
  if (today === undefined) return dayOf(londonDay.format(new Date()));
  if (today instanceof Date) return dayOf(londonDay.format(today));
  return dayOf(today);
}

// ---- small builders -------------------------------------------------------------------------------

// Reference<any>: these builders serve every reference field, each typed to its own targets.
const ref = (type: string, id: string, display?: string): Reference<any> => (display ? { reference: `${type}/${id}`, display } : { reference: `${type}/${id}` });

const round = (value: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

function quantity(value: number, code: string): Quantity {
  const concept = conceptById(code);
  if (!concept?.ucum) throw new Error(`No unit for ${code}`);
  return { value, unit: concept.unit!, system: UCUM, code: concept.ucum };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function noteDiv(history: string, exam: string, plan: string): string {
  return (
    '<div xmlns="http://www.w3.org/1999/xhtml">' +
    `<p><b>History:</b> ${escapeXml(history)}</p>` +
    `<p><b>Examination:</b> ${escapeXml(exam)}</p>` +
    `<p><b>Plan:</b> ${escapeXml(plan)}</p>` +
    '</div>'
  );
}

const category = (system: string, code: string, display: string): CodeableConcept[] => [{ coding: [{ system, code, display }] }];

function withMeta<T extends Resource>(resource: T): T {
  return { ...resource, meta: { security: [{ ...SYNTHETIC_SECURITY_LABEL }] } };
}

// ---- staff and places -----------------------------------------------------------------------------

interface Staff {
  id: string;
  roleId: string;
  roomId: string;
  scheduleId: string;
  name: string;
  kind: 'gp' | 'nurse' | 'hca';
}

interface PracticeFrame {
  seed: number | string;
  today: number;
  orgId: string;
  labId: string;
  siteId: string;
  odsCode: string;
  practiceName: string;
  staff: Staff[];
  gps: Staff[];
  nurses: Staff[];
  patientCount: number;
  nhsOffset: number;
}

function staffCounts(patients: number) {
  return {
    gps: Math.max(2, Math.round(patients / 1700)),
    nurses: Math.max(1, Math.round(patients / 3000)),
    hcas: patients >= 3000 ? 1 : 0,
  };
}

function buildFrame(options: GenerateOptions): PracticeFrame {
  const { patients, seed } = options;
  if (!Number.isInteger(patients) || patients < 0 || patients > MAX_DEMO_PATIENTS) {
    throw new RangeError(`patients must be a whole number from 0 to ${MAX_DEMO_PATIENTS}, got ${patients}`);
  }
  const rng = Random.for(seed, 'staff');
  const counts = staffCounts(patients);
  const staff: Staff[] = [];
  const usedNames = new Set<string>();
  const add = (kind: Staff['kind'], n: number) => {
    for (let k = 0; k < n; k++) {
      let name: string;
      do {
        const sex: Sex = rng.chance(0.55) ? 'female' : 'male';
        name = `${rng.pick(clinicianGivenNames[sex])} ${rng.pick(familyNames)}`;
      } while (usedNames.has(name));
      usedNames.add(name);
      const key = `${kind}:${k}`;
      staff.push({
        id: seededUuid(seed, `practitioner:${key}`),
        roleId: seededUuid(seed, `role:${key}`),
        roomId: seededUuid(seed, `room:${staff.length}`),
        scheduleId: seededUuid(seed, `schedule:${key}`),
        name: kind === 'gp' ? `Dr ${name}` : name,
        kind,
      });
    }
  };
  add('gp', counts.gps);
  add('nurse', counts.nurses);
  add('hca', counts.hcas);
  const capacity = testNhsNumberCapacity();
  return {
    seed,
    today: resolveToday(options.today),
    orgId: seededUuid(seed, 'organization:practice'),
    labId: seededUuid(seed, 'organization:laboratory'),
    siteId: seededUuid(seed, 'location:site'),
    odsCode: options.odsCode ?? DEFAULT_DEMO_ODS_CODE,
    practiceName: options.practiceName ?? 'Steadfast Demo Surgery',
    staff,
    gps: staff.filter((s) => s.kind === 'gp'),
    nurses: staff.filter((s) => s.kind !== 'gp'),
    patientCount: patients,
    // A seed-dependent start in the test range, so two demo practices rarely share NHS numbers.
    // Independent of the patient count, so a bigger practice keeps the same numbers for the same patients.
    nhsOffset: hash32(String(seed)) % (capacity - MAX_DEMO_PATIENTS),
  };
}

function* practiceResources(f: PracticeFrame): Generator<Resource> {
  yield withMeta<Organization>({
    resourceType: 'Organization',
    id: f.orgId,
    identifier: [{ system: ODS_SYSTEM, value: f.odsCode }],
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
    name: f.practiceName,
    telecom: [{ system: 'phone', value: dramaMobile(0), use: 'work' }],
    address: [{ use: 'work', line: ['1 Pennine Way'], city: 'Harrogate', district: 'North Yorkshire', postalCode: postcode('HG1', 1, 0, 1), country: 'GB' }],
  });
  yield withMeta<Organization>({
    resourceType: 'Organization',
    id: f.labId,
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
    name: 'Demo Pathology Laboratory',
  });
  yield withMeta<Location>({
    resourceType: 'Location',
    id: f.siteId,
    status: 'active',
    name: f.practiceName,
    mode: 'instance',
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'bu', display: 'Building' }] },
    managingOrganization: ref('Organization', f.orgId),
  });
  for (const [i, s] of f.staff.entries()) {
    yield withMeta<Location>({
      resourceType: 'Location',
      id: s.roomId,
      status: 'active',
      name: s.kind === 'gp' ? `Consulting room ${i + 1}` : `Treatment room ${i + 1}`,
      mode: 'instance',
      physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'ro', display: 'Room' }] },
      partOf: ref('Location', f.siteId),
      managingOrganization: ref('Organization', f.orgId),
    });
  }
  for (const s of f.staff) {
    const [prefix, given, family] = s.kind === 'gp' ? (s.name.split(' ') as [string, string, string]) : [undefined, ...(s.name.split(' ') as [string, string])];
    yield withMeta<Practitioner>({
      resourceType: 'Practitioner',
      id: s.id,
      active: true,
      name: [{ use: 'official', family, given: [given], ...(prefix ? { prefix: [prefix] } : {}), text: s.name }],
    });
  }
  const roleText = { gp: 'General practitioner', nurse: 'Practice nurse', hca: 'Healthcare assistant' } as const;
  for (const s of f.staff) {
    yield withMeta<PractitionerRole>({
      resourceType: 'PractitionerRole',
      id: s.roleId,
      active: true,
      practitioner: ref('Practitioner', s.id, s.name),
      organization: ref('Organization', f.orgId),
      code: [{ text: roleText[s.kind] }],
      location: [ref('Location', s.roomId)],
    });
  }
}

// ---- patients -------------------------------------------------------------------------------------

/** Share of an English practice list in each age band (roughly ONS mid-year estimates). */
const AGE_BANDS: Array<readonly [readonly [number, number], number]> = [
  [[0, 4], 5.4], [[5, 9], 5.9], [[10, 14], 6.0], [[15, 19], 5.7], [[20, 24], 6.0], [[25, 29], 6.6], [[30, 34], 7.0],
  [[35, 39], 6.7], [[40, 44], 6.3], [[45, 49], 6.4], [[50, 54], 6.9], [[55, 59], 6.7], [[60, 64], 5.9], [[65, 69], 5.1],
  [[70, 74], 5.0], [[75, 79], 3.8], [[80, 84], 2.5], [[85, 89], 1.5], [[90, 99], 0.8],
];

function asciiSlug(text: string): string {
  return text.normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase();
}

interface PatientContext {
  f: PracticeFrame;
  index: number;
  rng: Random;
  patientId: string;
  patientRef: Reference<any>;
  sex: Sex;
  age: number;
  birthDay: number;
  regDay: number;
  historyStart: number;
  gp: Staff;
  counter: number;
  out: Resource[];
  state: PatientState;
  penicillinAllergy: boolean;
  aspirinAllergy: boolean;
  heightCm: number;
  bmi: number;
}

function nextId(p: PatientContext, kind: string): string {
  return seededUuid(p.f.seed, `patient:${p.index}:${kind}:${p.counter++}`);
}

function staffRef(s: Staff): Reference<any> {
  return ref('Practitioner', s.id, s.name);
}

function generatePatient(f: PracticeFrame, index: number): Resource[] {
  const rng = Random.for(f.seed, `patient:${index}`);
  const [lo, hi] = rng.weighted(AGE_BANDS);
  const age = rng.int(lo, hi);
  const sex: Sex = rng.chance(age >= 80 ? 0.6 : 0.505) ? 'female' : 'male';
  // Born at least three days ago; registered at least a day after birth and before today.
  const birthDay = f.today - Math.floor(age * 365.25) - rng.int(age === 0 ? 3 : 0, 364);
  const yearsBack = rng.weighted<number>([[1, 15], [3, 20], [7, 25], [15, 25], [30, 15]]);
  const earliestReg = Math.min(f.today - 1, birthDay + 14);
  const regDay = Math.min(f.today - 1, Math.max(earliestReg, f.today - 7 - Math.floor(rng.next() * yearsBack * 365)));
  const patientId = seededUuid(f.seed, `patient:${index}`);
  const gp = f.gps[index % f.gps.length]!;
  const p: PatientContext = {
    f, index, rng, patientId, patientRef: ref('Patient', patientId), sex, age, birthDay, regDay,
    historyStart: Math.max(regDay, f.today - 5 * 365), gp, counter: 0, out: [],
    state: { age, sex, diabetic: false, onStatin: false, ckdStage: 0, hypothyroid: false, anaemic: false },
    penicillinAllergy: false, aspirinAllergy: false,
    heightCm: sex === 'male' ? rng.normal(176, 7, 155, 200) : rng.normal(163, 6.5, 145, 185),
    bmi: rng.normal(age < 30 ? 25 : 28, 5, 17, 48),
  };
  p.out.push(patientResource(p));
  const conditions = chooseConditions(p);
  allergies(p);
  for (const [def, conditionId, onsetDay] of conditions) medications(p, def, conditionId, onsetDay);
  flags(p);
  history(p, conditions);
  return p.out;
}

function patientResource(p: PatientContext): Patient {
  const { rng, sex, age, f } = p;
  const given = rng.pick(sex === 'male' ? maleGivenNames : femaleGivenNames);
  const middle = rng.chance(0.3) ? rng.pick(sex === 'male' ? maleGivenNames : femaleGivenNames) : undefined;
  const family = rng.pick(familyNames);
  const prefix = age < 16 ? undefined : sex === 'male' ? 'Mr' : rng.weighted([['Mrs', 5], ['Ms', 4], ['Miss', 2]] as const);
  const town = rng.weighted(towns.map((t) => [t, t.weight] as const));
  const address = {
    use: 'home' as const,
    line: [`${rng.int(1, 180)} ${rng.pick(streets)}`],
    city: town.town,
    district: town.county,
    postalCode: postcode(rng.pick(town.districts), rng.int(1, 9), rng.int(0, 19), rng.int(0, 19)),
    country: 'GB',
  };
  const telecom: NonNullable<Patient['telecom']> = [];
  if (age >= 12 && rng.chance(0.85)) telecom.push({ system: 'phone', value: dramaMobile(rng.int(1, 999)), use: 'mobile' });
  if (age >= 16 && rng.chance(0.35)) {
    telecom.push({ system: 'email', value: `${asciiSlug(given)}.${asciiSlug(family)}${rng.int(1, 99)}@example.com`, use: 'home' });
  }
  return withMeta<Patient>({
    resourceType: 'Patient',
    id: p.patientId,
    // Everyone with a mobile has agreed to texts (recorded at registration), so the demo's reminders and results messages go out.
    extension: [{ url: REGISTRATION_DATE_EXTENSION, valueDate: isoDate(p.regDay) }, ...(telecom.some((t) => t.use === 'mobile') ? [{ url: SMS_CONSENT_EXTENSION, valueBoolean: true }] : [])],
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: testNhsNumber(f.nhsOffset + p.index) }],
    active: true,
    name: [{ use: 'official', family, given: middle && middle !== given ? [given, middle] : [given], ...(prefix ? { prefix: [prefix] } : {}) }],
    telecom: telecom.length ? telecom : undefined,
    gender: sex,
    birthDate: isoDate(p.birthDay),
    address: [address],
    generalPractitioner: [staffRef(p.gp)],
    managingOrganization: ref('Organization', f.orgId, f.practiceName),
  });
}

type ChosenCondition = [ChronicCondition, string, number];

function chooseConditions(p: PatientContext): ChosenCondition[] {
  const { rng, age, sex } = p;
  const chosen: ChosenCondition[] = [];
  for (const def of chronicConditions) {
    let prevalence = def.prevalence(age, sex);
    if (def.key === 'diabetes' && p.bmi >= 30) prevalence *= 1.8;
    if (!rng.chance(prevalence)) continue;
    // Onset after age 18 for adults (after age 1 for children), and before this month.
    const earliest = p.birthDay + 365 * (age >= 18 ? 18 : 1);
    const onsetDay = Math.min(p.f.today - 30, earliest + Math.floor(rng.next() * Math.max(1, p.f.today - 30 - earliest)));
    let code = def.code;
    if (def.key === 'ckd') {
      const stage = rng.weighted(CKD_STAGES.map(([s, , w]) => [s, w] as const));
      code = CKD_STAGES.find(([s]) => s === stage)![1];
      p.state.ckdStage = stage;
    }
    if (def.key === 'diabetes') p.state.diabetic = true;
    if (def.key === 'hypothyroidism') p.state.hypothyroid = true;
    const id = nextId(p, 'condition');
    p.out.push(
      withMeta<Condition>({
        resourceType: 'Condition',
        id,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: category('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item', 'Problem List Item'),
        code: snomedConcept(code),
        subject: p.patientRef,
        onsetDateTime: isoDate(onsetDay),
        recordedDate: isoDate(Math.max(onsetDay, p.regDay)),
        recorder: staffRef(p.gp),
      }),
    );
    chosen.push([def, id, onsetDay]);
  }
  if (rng.chance(age >= 60 ? 0.03 : 0.01)) p.state.anaemic = true;
  return chosen;
}

const ALLERGIES: Array<{ code: string; p: (age: number) => number; category: 'medication' | 'food' | 'environment'; reaction: string; criticality: 'low' | 'high' }> = [
  { code: '91936005', p: () => 0.06, category: 'medication', reaction: 'Urticarial rash', criticality: 'high' },
  { code: '293586001', p: (a) => (a >= 16 ? 0.006 : 0), category: 'medication', reaction: 'Wheeze', criticality: 'high' },
  { code: '91935009', p: () => 0.01, category: 'food', reaction: 'Lip and tongue swelling', criticality: 'high' },
  { code: '91930004', p: (a) => (a < 10 ? 0.01 : 0.002), category: 'food', reaction: 'Hives', criticality: 'low' },
  { code: '300916003', p: () => 0.004, category: 'environment', reaction: 'Contact dermatitis', criticality: 'low' },
  { code: '418689008', p: (a) => (a >= 5 ? 0.03 : 0), category: 'environment', reaction: 'Sneezing and itchy eyes', criticality: 'low' },
  { code: '232350006', p: () => 0.015, category: 'environment', reaction: 'Rhinitis', criticality: 'low' },
  { code: '424213003', p: () => 0.004, category: 'environment', reaction: 'Anaphylaxis', criticality: 'high' },
];

function allergies(p: PatientContext): void {
  const { rng } = p;
  let any = false;
  for (const a of ALLERGIES) {
    if (!rng.chance(a.p(p.age))) continue;
    any = true;
    if (a.code === '91936005') p.penicillinAllergy = true;
    if (a.code === '293586001') p.aspirinAllergy = true;
    const recorded = p.regDay + rng.int(0, Math.max(0, p.f.today - p.regDay));
    p.out.push(
      withMeta<AllergyIntolerance>({
        resourceType: 'AllergyIntolerance',
        id: nextId(p, 'allergy'),
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
        type: 'allergy',
        category: [a.category],
        criticality: a.criticality,
        code: snomedConcept(a.code),
        patient: p.patientRef,
        recordedDate: isoDate(recorded),
        recorder: staffRef(p.gp),
        reaction: [{ manifestation: [{ text: a.reaction }], severity: a.criticality === 'high' ? 'severe' : 'mild' }],
      }),
    );
  }
  // Many records say so explicitly; an empty allergy list is not the same as "no known allergies".
  if (!any && p.age >= 16 && rng.chance(0.5)) {
    p.out.push(
      withMeta<AllergyIntolerance>({
        resourceType: 'AllergyIntolerance',
        id: nextId(p, 'allergy'),
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
        code: snomedConcept('409137002'),
        patient: p.patientRef,
        recordedDate: isoDate(p.regDay),
        recorder: staffRef(p.gp),
      }),
    );
  }
}

export const CHILD_SAFE_GROUPS = new Set(['Short-acting beta2 agonist', 'Inhaled corticosteroid', 'Emollient']);

/** The medicine to prescribe in place of one the patient is allergic to (or the same one). */
function safeMedicine(p: PatientContext, name: string): string | undefined {
  if (p.penicillinAllergy && PENICILLINS.some((pen) => name.startsWith(pen))) return PENICILLIN_ALTERNATIVE;
  if (p.aspirinAllergy && name.startsWith('Aspirin')) return 'Clopidogrel 75mg tablets';
  // NSAIDs are avoided with anticoagulants, in CKD 3+ and in the over-75s.
  if (name.startsWith('Ibuprofen') || name.startsWith('Naproxen')) {
    if (p.state.ckdStage >= 3 || p.age >= 75 || p.out.some((r) => r.resourceType === 'MedicationRequest' && /Apixaban|Edoxaban/.test(r.medicationCodeableConcept?.text ?? ''))) {
      return name.startsWith('Ibuprofen') ? undefined : 'Paracetamol 500mg tablets';
    }
  }
  return name;
}

function medicationRequest(p: PatientContext, name: string, authoredDay: number, extra: Partial<MedicationRequest>): MedicationRequest {
  const med = medicineByName(name);
  return withMeta<MedicationRequest>({
    resourceType: 'MedicationRequest',
    id: nextId(p, 'medication'),
    status: med.repeat ? 'active' : 'completed',
    intent: 'order',
    medicationCodeableConcept: med.dmd ? { coding: [{ system: 'https://dmd.nhs.uk', code: med.dmd, display: med.name }], text: med.name } : { text: med.name },
    subject: p.patientRef,
    authoredOn: isoDate(authoredDay),
    requester: staffRef(p.gp),
    courseOfTherapyType: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: med.repeat ? 'continuous' : 'acute' }],
    },
    dosageInstruction: [{ text: med.dose }],
    dispenseRequest: { quantity: { value: med.quantity, unit: med.quantityUnit }, ...(med.repeat ? { numberOfRepeatsAllowed: 5 } : {}) },
    ...extra,
  });
}

function medications(p: PatientContext, def: ChronicCondition, conditionId: string, onsetDay: number): void {
  const held = new Set(
    p.out.filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest').map((r) => medicineByName(r.medicationCodeableConcept!.text!).group),
  );
  for (const [chance, alternatives] of def.meds) {
    if (!p.rng.chance(chance)) continue;
    const name = safeMedicine(p, p.rng.pick(alternatives));
    if (!name) continue;
    const group = medicineByName(name).group;
    // The bundled doses are adult doses: children get only what is dosed the same way (reliever and
    // preventer inhalers, emollients); anything else is left to their specialist's letters.
    if (p.age < 16 && !CHILD_SAFE_GROUPS.has(group)) continue;
    // One medicine per group (one statin, one beta blocker), and no antiplatelet on top of an anticoagulant.
    if (held.has(group) || (group === 'Antiplatelet' && held.has('Anticoagulant'))) continue;
    held.add(group);
    if (group === 'Statin') p.state.onStatin = true;
    // Repeats are re-authorised at least yearly, so the current authorisation is within the last year.
    const authorised = Math.max(onsetDay, p.regDay, p.f.today - p.rng.int(14, 360));
    p.out.push(medicationRequest(p, name, Math.min(authorised, p.f.today - 1), { reasonReference: [ref('Condition', conditionId)] }));
  }
}

function flags(p: PatientContext): void {
  if (!p.rng.chance(0.03)) return;
  const flag = p.rng.pick(flagTexts);
  p.out.push(
    withMeta<Flag>({
      resourceType: 'Flag',
      id: nextId(p, 'flag'),
      status: 'active',
      category: category('http://terminology.hl7.org/CodeSystem/flag-category', flag.category, flag.category),
      code: { text: flag.text },
      subject: p.patientRef,
      period: { start: isoDate(p.regDay + p.rng.int(0, Math.max(0, p.f.today - p.regDay - 1))) },
      author: staffRef(p.gp),
    }),
  );
}

// ---- consultations, measurements and results ------------------------------------------------------

interface Visit {
  day: number;
  minutes: number;
  encounterId: string;
  encounterRef: Reference<any>;
  clinician: Staff;
}

function encounter(
  p: PatientContext,
  day: number,
  clinician: Staff,
  typeCode: string,
  reasonCodes: string[],
  note: [string, string, string],
  mode: 'AMB' | 'VR',
): Visit {
  const minutes = p.rng.int(8 * 6, 17 * 6) * 10; // 08:00 to 17:00 in 10-minute steps
  const id = nextId(p, 'encounter');
  const klass =
    mode === 'VR'
      ? { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' }
      : { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' };
  p.out.push(
    withMeta<Encounter>({
      resourceType: 'Encounter',
      id,
      text: { status: 'additional', div: noteDiv(...note) },
      status: 'finished',
      class: klass,
      type: [snomedConcept(typeCode)],
      subject: p.patientRef,
      participant: [
        {
          type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF', display: 'primary performer' }] }],
          individual: staffRef(clinician),
        },
      ],
      period: { start: localDateTime(day, minutes), end: localDateTime(day, minutes + 10) },
      reasonCode: reasonCodes.map((c) => snomedConcept(c)),
      ...(mode === 'AMB' ? { location: [{ location: ref('Location', clinician.roomId) }] } : {}),
      serviceProvider: ref('Organization', p.f.orgId),
    }),
  );
  return { day, minutes, encounterId: id, encounterRef: ref('Encounter', id), clinician };
}

function vitalObservation(p: PatientContext, visit: Visit, code: string, value: number | undefined, extra: Partial<Observation> = {}): Observation {
  return withMeta<Observation>({
    resourceType: 'Observation',
    id: nextId(p, 'observation'),
    status: 'final',
    category: category(OBS_CATEGORY, 'vital-signs', 'Vital Signs'),
    code: snomedConcept(code),
    subject: p.patientRef,
    encounter: visit.encounterRef,
    effectiveDateTime: localDateTime(visit.day, visit.minutes),
    performer: [staffRef(visit.clinician)],
    ...(value !== undefined ? { valueQuantity: quantity(value, code) } : {}),
    ...extra,
  });
}

function bloodPressure(p: PatientContext, visit: Visit, hypertensive: boolean): [number, number] {
  const rng = p.rng;
  const systolic = Math.round(hypertensive ? rng.normal(142, 13, 105, 195) : rng.normal(112 + Math.max(0, p.age - 25) * 0.45, 11, 90, 175));
  const diastolic = Math.round(Math.min(systolic - 25, hypertensive ? rng.normal(85, 9, 55, 115) : rng.normal(74, 8, 50, 100)));
  p.out.push(
    vitalObservation(p, visit, '75367002', undefined, {
      component: [
        { code: snomedConcept('271649006'), valueQuantity: quantity(systolic, '271649006') },
        { code: snomedConcept('271650006'), valueQuantity: quantity(diastolic, '271650006') },
      ],
    }),
  );
  return [systolic, diastolic];
}

function weightAndBmi(p: PatientContext, visit: Visit, withHeight: boolean): string {
  const bmi = round(p.bmi + p.rng.normal(0, 0.6), 1);
  const heightM = p.heightCm / 100;
  const weight = round(bmi * heightM * heightM, 1);
  if (withHeight) p.out.push(vitalObservation(p, visit, '50373000', Math.round(p.heightCm)));
  p.out.push(vitalObservation(p, visit, '27113001', weight));
  p.out.push(vitalObservation(p, visit, '60621009', round(weight / (heightM * heightM), 1)));
  return `Weight ${weight} kg, BMI ${round(weight / (heightM * heightM), 1)}.`;
}

function acuteVitals(p: PatientContext, visit: Visit, febrile: boolean): string {
  const temp = round(febrile ? p.rng.normal(38, 0.5, 37, 39.8) : p.rng.normal(36.8, 0.3, 36, 37.5), 1);
  const pulse = Math.round(p.rng.normal(febrile ? 96 : 78, 10, 55, 130));
  const sats = Math.round(p.rng.normal(97.5, 1, 94, 100));
  // The same codes the consultation screen records, so demo and real entries trend together.
  p.out.push(vitalObservation(p, visit, '276885007', temp));
  p.out.push(vitalObservation(p, visit, '78564009', pulse));
  p.out.push(vitalObservation(p, visit, '431314004', sats));
  return `Temperature ${temp} °C, pulse ${pulse}/min, SpO2 ${sats}%.`;
}

function interpretationCode(value: number, low: number | undefined, high: number | undefined): { code: 'H' | 'L' | 'N'; display: string } {
  if (high !== undefined && value > high) return { code: 'H', display: 'High' };
  if (low !== undefined && value < low) return { code: 'L', display: 'Low' };
  return { code: 'N', display: 'Normal' };
}

/** One laboratory report with its result Observations (results first, so the report's references resolve). */
function labReport(p: PatientContext, visit: Visit, key: PanelKey): string[] {
  const panel = panels[key];
  const sampled = localDateTime(visit.day, visit.minutes);
  const issued = `${isoDate(visit.day + 1)}T${String(p.rng.int(10, 17)).padStart(2, '0')}:${String(p.rng.int(0, 59)).padStart(2, '0')}:00${londonOffset(visit.day + 1)}`;
  const values = panel.analytes.map((a) => round(a.value(p.state, p.rng), a.decimals));
  if (key === 'ue') values[3] = creatinineFor(values[4]!, p.state);
  const abnormal: string[] = [];
  const resultIds: string[] = [];
  panel.analytes.forEach((a, i) => {
    const value = values[i]!;
    const low = typeof a.low === 'function' ? a.low(p.state) : a.low;
    const high = typeof a.high === 'function' ? a.high(p.state) : a.high;
    const concept = conceptById(a.code)!;
    const interpretation = interpretationCode(value, low, high);
    if (interpretation.code !== 'N') abnormal.push(`${concept.synonyms?.[0] ?? concept.display} ${value} (${interpretation.code})`);
    const id = nextId(p, 'observation');
    resultIds.push(id);
    p.out.push(
      withMeta<Observation>({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: category(OBS_CATEGORY, 'laboratory', 'Laboratory'),
        code: snomedConcept(a.code),
        subject: p.patientRef,
        encounter: visit.encounterRef,
        effectiveDateTime: sampled,
        issued,
        performer: [ref('Organization', p.f.labId, 'Demo Pathology Laboratory')],
        valueQuantity: quantity(value, a.code),
        interpretation: [{ coding: [{ system: INTERPRETATION, code: interpretation.code, display: interpretation.display }] }],
        referenceRange: [
          {
            ...(low !== undefined ? { low: quantity(low, a.code) } : {}),
            ...(high !== undefined ? { high: quantity(high, a.code) } : {}),
          },
        ],
      }),
    );
  });
  p.out.push(
    withMeta<DiagnosticReport>({
      resourceType: 'DiagnosticReport',
      id: nextId(p, 'report'),
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }] }],
      code: panel.code ? snomedConcept(panel.code) : { text: panel.name },
      subject: p.patientRef,
      encounter: visit.encounterRef,
      effectiveDateTime: sampled,
      issued,
      performer: [ref('Organization', p.f.labId, 'Demo Pathology Laboratory')],
      resultsInterpreter: [staffRef(p.gp)],
      result: resultIds.map((id) => ref('Observation', id)),
      conclusion: abnormal.length ? `Abnormal: ${abnormal.join('; ')}` : 'All results within reference range.',
    }),
  );
  return abnormal;
}

function history(p: PatientContext, conditions: ChosenCondition[]): void {
  const { rng, f } = p;
  const adult = p.age >= 16;
  const hypertensive = conditions.some(([d]) => d.key === 'hypertension');
  const span = f.today - 1 - p.historyStart;
  if (span <= 0) return;

  // Baseline measurements for adults: the new-patient check when they registered within the window,
  // or (for those registered earlier) an NHS Health Check, offered every five years at 40-74.
  const newPatient = p.regDay >= p.historyStart;
  if (adult && (newPatient || (p.age >= 40 && p.age <= 74 && rng.chance(0.6)))) {
    const day = newPatient ? p.historyStart + rng.int(0, Math.min(span, 60)) : p.historyStart + rng.int(0, span);
    const visit = encounter(p, day, rng.pick(f.nurses), '185349003', [], ['', '', ''], 'AMB');
    const [s, d] = bloodPressure(p, visit, hypertensive);
    const weightText = weightAndBmi(p, visit, true);
    const smoking = rng.weighted([['77176002', 13], ['8517006', 25], ['266919005', 62]] as const);
    p.out.push(withMeta<Observation>({ ...vitalObservation(p, visit, smoking, undefined), category: category(OBS_CATEGORY, 'social-history', 'Social History') }));
    setNote(p, visit.encounterId, [
      newPatient ? 'New patient health check. No concerns raised.' : 'NHS Health Check. No concerns raised.',
      `BP ${s}/${d} mmHg. ${weightText} Smoking status: ${conceptById(smoking)!.display.toLowerCase()}.`,
      smoking === '77176002' ? 'Smoking cessation advice given; referred to the local stop smoking service.' : 'Lifestyle advice given. Routine follow-up.',
    ]);
  }

  // Annual reviews of long-term conditions in the last two years (older ones would only add bulk).
  const reviewed = conditions.filter(([d]) => d.reviewName !== 'hay fever' && d.reviewName !== 'eczema');
  if (reviewed.length) {
    const names = [...new Set(reviewed.map(([d]) => d.reviewName))];
    const labs = [...new Set(reviewed.flatMap(([d]) => d.labs))];
    const earliestOnset = Math.min(...reviewed.map(([, , onset]) => onset));
    const byNurse = reviewed.some(([d]) => d.reviewer === 'nurse');
    for (let year = 0; year < 2; year++) {
      const day = f.today - year * 365 - rng.int(14, 340);
      if (day < p.historyStart || day < earliestOnset) continue;
      const clinician = byNurse ? rng.pick(f.nurses) : p.gp;
      const visit = encounter(p, day, clinician, year === 0 ? '182836005' : '390906007', reviewed.map(([d]) => conditionCode(p, d)), ['', '', ''], 'AMB');
      const [s, d] = bloodPressure(p, visit, hypertensive);
      const weightText = adult && year === 0 ? weightAndBmi(p, visit, false) : '';
      // The full set of monitoring bloods at the latest review; the year before, only each condition's main test.
      const taken = year === 0 ? labs : [...new Set(reviewed.map(([d]) => d.labs[0]).filter((k): k is PanelKey => k !== undefined))];
      const abnormal = taken.flatMap((key) => labReport(p, visit, key));
      const bloods = taken.map((k) => panels[k].name).join(', ');
      setNote(p, visit.encounterId, [
        `Annual ${names.join(' and ')} review. Feels well in general; no new symptoms. Taking medication as prescribed without side effects.`,
        `BP ${s}/${d} mmHg. ${weightText}`.trim(),
        (bloods ? `Bloods taken: ${bloods}. ` : '') +
          (abnormal.length ? `Results to note: ${abnormal.join('; ')}; GP to review. ` : '') +
          'Continue current treatment. Review in 12 months.',
      ]);
    }
  }

  // Acute consultations.
  const acuteCount = rng.weighted<number>(p.age < 5 ? [[0, 3], [1, 4], [2, 3], [3, 2]] : p.age >= 65 ? [[0, 3], [1, 4], [2, 3], [3, 2]] : [[0, 5], [1, 4], [2, 2], [3, 1]]);
  for (let k = 0; k < acuteCount; k++) {
    const candidates = acuteProblems.map((a) => [a, a.weight(p.age, p.sex)] as const).filter(([, w]) => w > 0);
    if (!candidates.length) break;
    const problem = rng.weighted(candidates);
    const day = p.historyStart + rng.int(0, span);
    const telephone = rng.chance(problem.telephone ?? 0);
    const clinician = rng.chance(0.7) ? p.gp : rng.pick(f.gps);
    const visit = encounter(p, day, clinician, telephone ? '185317003' : '11429006', [problem.code], ['', '', ''], telephone ? 'VR' : 'AMB');
    let exam = problem.exam;
    if (problem.vitals && !telephone && rng.chance(0.6)) exam = `${acuteVitals(p, visit, problem.code !== '54150009' || rng.chance(0.4))} ${exam}`;
    if (telephone) exam = 'Telephone consultation: no examination. Patient describes symptoms clearly and sounds well.';
    let plan = problem.plan;
    if (problem.meds && p.age >= 16 && rng.chance(problem.meds[0])) {
      const name = safeMedicine(p, problem.meds[1]);
      if (name) {
        if (name !== problem.meds[1]) plan += ` ${p.penicillinAllergy && name === PENICILLIN_ALTERNATIVE ? 'Penicillin allergy recorded: ' : ''}${name} prescribed instead.`;
        p.out.push(medicationRequest(p, name, day, { encounter: visit.encounterRef }));
      }
    }
    setNote(p, visit.encounterId, [problem.history, exam, plan]);
  }
}

function conditionCode(p: PatientContext, def: ChronicCondition): string {
  if (def.key !== 'ckd') return def.code;
  return CKD_STAGES.find(([s]) => s === p.state.ckdStage)?.[1] ?? def.code;
}

/**
 * Fill in the note of an encounter written before its measurements were known: in the extension the
 * consultation screen writes and reads, and as the narrative other FHIR readers show.
 */
function setNote(p: PatientContext, encounterId: string, note: [string, string, string]): void {
  const enc = p.out.find((r): r is Encounter => r.resourceType === 'Encounter' && r.id === encounterId);
  if (!enc) return;
  enc.text = { status: 'additional', div: noteDiv(...note) };
  const [history, examination, plan] = note;
  enc.extension = [
    {
      url: CONSULTATION_NOTE_EXTENSION,
      extension: [
        { url: 'history', valueString: history },
        { url: 'examination', valueString: examination },
        { url: 'plan', valueString: plan },
      ],
    },
  ];
}

// ---- the week of appointments ---------------------------------------------------------------------

function* appointmentResources(f: PracticeFrame, patientDisplays: string[]): Generator<Resource> {
  const rng = Random.for(f.seed, 'appointments');
  const days: number[] = [];
  for (let d = f.today; d < f.today + 7; d++) if (weekday(d) !== 0 && weekday(d) !== 6) days.push(d);
  for (const s of f.staff) {
    yield withMeta<Schedule>({
      resourceType: 'Schedule',
      id: s.scheduleId,
      active: true,
      serviceCategory: [{ text: 'General practice' }],
      serviceType: [{ text: s.kind === 'gp' ? 'GP appointment' : s.kind === 'nurse' ? 'Practice nurse appointment' : 'Healthcare assistant appointment' }],
      actor: [staffRef(s), ref('Location', s.roomId)],
      planningHorizon: { start: localDateTime(f.today, 0), end: localDateTime(f.today + 7, 0) },
      comment: `${s.name}: ${s.kind === 'gp' ? '10' : '15'}-minute appointments`,
    });
  }
  const reasons = {
    gp: ['Routine appointment', 'Follow-up', 'Medication review', 'New problem', 'Results discussion'],
    // Not tied to the patient's sex or conditions (the booking does not know them), so kept general.
    nurse: ['Blood test', 'Long-term condition review', 'Blood pressure check', 'Dressing', 'Injection', 'Vaccination'],
    hca: ['Blood test', 'Blood pressure check', 'ECG', 'Health check'],
  } as const;
  for (const s of f.staff) {
    const length = s.kind === 'gp' ? 10 : 15;
    const sessions = s.kind === 'gp' ? [[8 * 60 + 30, 11 * 60 + 30], [14 * 60, 17 * 60]] : [[8 * 60 + 30, 12 * 60 + 30], [13 * 60 + 30, 16 * 60 + 30]];
    for (const [dayIndex, day] of days.entries()) {
      // Today is nearly full; later days have more free slots.
      const bookedShare = Math.max(0.35, 0.92 - dayIndex * 0.13);
      for (const [start, end] of sessions) {
        for (let t = start!; t + length <= end!; t += length) {
          const slotId = seededUuid(f.seed, `slot:${s.id}:${day}:${t}`);
          const booked = f.patientCount > 0 && rng.chance(bookedShare);
          const startAt = localDateTime(day, t);
          const endAt = localDateTime(day, t + length);
          const slot = withMeta<Slot>({
            resourceType: 'Slot',
            id: slotId,
            schedule: ref('Schedule', s.scheduleId),
            status: booked ? 'busy' : 'free',
            start: startAt,
            end: endAt,
          });
          if (!booked) {
            yield slot;
            continue;
          }
          yield slot;
          const patientIndex = rng.int(0, f.patientCount - 1);
          yield withMeta<Appointment>({
            resourceType: 'Appointment',
            id: seededUuid(f.seed, `appointment:${slotId}`),
            status: 'booked',
            appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'ROUTINE', display: 'Routine appointment' }] },
            description: rng.pick(reasons[s.kind]),
            start: startAt,
            end: endAt,
            minutesDuration: length,
            slot: [ref('Slot', slotId)],
            created: isoDate(day - rng.int(1, 21)),
            participant: [
              { actor: ref('Patient', seededUuid(f.seed, `patient:${patientIndex}`), patientDisplays[patientIndex]), required: 'required', status: 'accepted' },
              { actor: staffRef(s), required: 'required', status: 'accepted' },
              { actor: ref('Location', s.roomId), required: 'required', status: 'accepted' },
            ],
          });
        }
      }
    }
  }
}

// ---- entry point ----------------------------------------------------------------------------------

/**
 * Yield the whole synthetic practice as FHIR resources with client-assigned ids, in dependency order:
 * practice, laboratory, site and rooms, practitioners and roles, then each patient with their record,
 * then schedules, slots and appointments for the week starting `today`.
 */
export function* generatePractice(options: GenerateOptions): Generator<Resource> {
  const frame = buildFrame(options);
  yield* practiceResources(frame);
  // Diary entries name the patient the way the booking screen does, so keep each name as it passes.
  const displays: string[] = [];
  for (let i = 0; i < frame.patientCount; i++) {
    const record = generatePatient(frame, i);
    displays.push(patientDisplay(record[0] as Patient));
    yield* record;
  }
  yield* appointmentResources(frame, displays);
}

/** "SURNAME, Given Names (NHS number)", as the appointments capability writes it on bookings. */
function patientDisplay(patient: Patient): string {
  const n = patient.name![0]!;
  const nhs = patient.identifier!.find((i) => i.system === NHS_NUMBER_SYSTEM)!.value!;
  return `${(n.family ?? '').toUpperCase()}, ${(n.given ?? []).join(' ')} (${nhs})`;
}

/** The ids a seeded practice will have, so callers can find its organisation and staff without searching. */
export function demoPracticeIds(options: Pick<GenerateOptions, 'seed' | 'patients'>) {
  const frame = buildFrame({ ...options, today: '2000-01-03' });
  return {
    organization: frame.orgId,
    laboratory: frame.labId,
    site: frame.siteId,
    practitioners: frame.staff.map((s) => ({ id: s.id, name: s.name, kind: s.kind })),
    patient: (index: number) => seededUuid(options.seed, `patient:${index}`),
  };
}
