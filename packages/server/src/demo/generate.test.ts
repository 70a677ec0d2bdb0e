import '@steadfast/domain/fhir-definitions';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Appointment, DiagnosticReport, Encounter, MedicationRequest, Observation, Patient, Resource, Slot } from '@medplum/fhirtypes';
import { conceptById, isValidNhsNumber, medicineByName, NHS_NUMBER_SYSTEM, SNOMED_SYSTEM, validateResource } from '@steadfast/domain';
import { CHILD_SAFE_GROUPS, generatePractice, SYNTHETIC_SECURITY_LABEL } from './generate.ts';
import { DRAMA_MOBILE, UK_POSTCODE } from './people.ts';
import { PENICILLINS } from './clinical.ts';
import { REGISTRATION_DATE_EXTENSION, CONSULTATION_NOTE_EXTENSION } from '@steadfast/domain/systems';

const TODAY = '2026-11-25'; // a Wednesday
const practice = (patients: number, seed: number | string = 42, today = TODAY) => [...generatePractice({ patients, seed, today })];
const sample = practice(400);
const ofType = <T extends Resource>(resources: Resource[], type: T['resourceType']) => resources.filter((r): r is T => r.resourceType === type);
const patients = ofType<Patient>(sample, 'Patient');

/** Every { reference: "Type/id" } anywhere inside a value. */
function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => referencesIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') found.push(v);
      else referencesIn(v, found);
    }
  }
  return found;
}

const ageOn = (birthDate: string, today: string) => {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = today.split('-').map(Number) as [number, number, number];
  return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
};

test('the same seed and day give byte-identical output; another seed gives another practice', () => {
  const a = JSON.stringify(practice(120, 'alpha'));
  const b = JSON.stringify(practice(120, 'alpha'));
  assert.ok(a === b, 'two runs with seed "alpha" differ');
  assert.ok(JSON.stringify(practice(120, 'beta')) !== a, 'seeds "alpha" and "beta" gave the same practice');
});

test('patient records do not depend on how many patients follow them (same staff size)', () => {
  // Each patient has its own random stream: a practice of 50 is the first 50 patients of a practice of 80.
  const first50 = (list: Resource[]) => JSON.stringify(list.filter((r) => r.resourceType === 'Patient').slice(0, 50));
  assert.ok(first50(practice(50, 7)) === first50(practice(80, 7)), 'the first 50 patients changed when the practice grew');
});

test('every generated resource passes validateResource', () => {
  const failures: string[] = [];
  for (const resource of sample) {
    try {
      validateResource(resource);
    } catch (err) {
      failures.push(`${resource.resourceType}/${resource.id}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures.slice(0, 5), []);
  assert.ok(sample.length > 400 * 8, `expected a full record per patient, got ${sample.length} resources`);
});

test('ids are unique and UUID-shaped, and every reference resolves to a resource yielded before it', () => {
  const seen = new Set<string>();
  for (const resource of sample) {
    assert.match(resource.id!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const key = `${resource.resourceType}/${resource.id}`;
    assert.ok(!seen.has(key), `${key} yielded twice`);
    for (const reference of referencesIn(resource)) {
      assert.ok(seen.has(reference), `${key} refers to ${reference}, which was not yielded before it`);
    }
    seen.add(key);
  }
});

test('NHS numbers are valid 999 test numbers, one per patient, never repeated', () => {
  const numbers = patients.map((p) => p.identifier!.find((i) => i.system === NHS_NUMBER_SYSTEM)!.value!);
  assert.equal(numbers.length, 400);
  assert.equal(new Set(numbers).size, numbers.length);
  for (const n of numbers) {
    assert.ok(n.startsWith('999'), `${n} is outside the 999 test range`);
    assert.ok(isValidNhsNumber(n), `${n} fails Modulus 11`);
  }
});

test('phone numbers come only from the Ofcom drama range, and nothing else looks like a UK phone number', () => {
  const phones = sample.flatMap((r) => ((r as Patient).telecom ?? []).filter((t) => t.system === 'phone').map((t) => t.value!));
  assert.ok(phones.length > 200);
  for (const phone of phones) assert.match(phone, DRAMA_MOBILE);
  // Scan all text, not only telecom: an 11-digit 0-number anywhere else would be a real-looking phone.
  // Ids are left out: a run of hex digits inside a UUID is not a phone number anyone would dial.
  const text = JSON.stringify(sample, (key, value) => (key === 'id' || key === 'reference' ? undefined : value)).replace(/07700 900\d{3}/g, '');
  const phoneLike = /(?<![\d-])0\d{4} ?\d{6}(?![\d-])|(?<![\d-])0\d{10}(?![\d-])/.exec(text);
  assert.ok(phoneLike === null, `phone-like "${phoneLike?.[0]}" in: ${text.slice(Math.max(0, (phoneLike?.index ?? 0) - 80), (phoneLike?.index ?? 0) + 40)}`);
  const emails = sample.flatMap((r) => ((r as Patient).telecom ?? []).filter((t) => t.system === 'email').map((t) => t.value!));
  for (const email of emails) assert.match(email, /@example\.com$/, 'e-mail addresses must use the reserved example.com domain');
});

test('every resource is labelled as synthetic test data', () => {
  for (const resource of sample) {
    assert.ok(
      resource.meta?.security?.some((s) => s.system === SYNTHETIC_SECURITY_LABEL.system && s.code === 'HTEST'),
      `${resource.resourceType}/${resource.id} has no HTEST label`,
    );
  }
});

test('ages follow a population pyramid; registration after birth and before today; addresses look English', () => {
  const big = ofType<Patient>(practice(3000, 'ages'), 'Patient');
  const ages = big.map((p) => ageOn(p.birthDate!, TODAY));
  const share = (pred: (a: number) => boolean) => ages.filter(pred).length / ages.length;
  assert.ok(Math.min(...ages) >= 0 && Math.max(...ages) <= 99, `ages ${Math.min(...ages)}-${Math.max(...ages)}`);
  const children = share((a) => a < 18);
  const over65 = share((a) => a >= 65);
  const over85 = share((a) => a >= 85);
  assert.ok(children > 0.15 && children < 0.27, `under-18s ${children}`);
  assert.ok(over65 > 0.14 && over65 < 0.25, `over-65s ${over65}`);
  assert.ok(over85 > 0.01 && over85 < 0.05, `over-85s ${over85}`);
  const females = big.filter((p) => p.gender === 'female').length / big.length;
  assert.ok(females > 0.45 && females < 0.57, `female share ${females}`);
  for (const p of big) {
    const registered = p.extension!.find((e) => e.url === REGISTRATION_DATE_EXTENSION)!.valueDate!;
    assert.ok(registered >= p.birthDate! && registered < TODAY, `registered ${registered}, born ${p.birthDate}`);
    assert.match(p.address![0]!.postalCode!, UK_POSTCODE);
    assert.ok(p.name![0]!.family && p.name![0]!.given!.length >= 1);
  }
  // A diverse list: many distinct family names, both sexes.
  assert.ok(new Set(big.map((p) => p.name![0]!.family)).size > 80);
});

test('a week of appointments from today: weekdays only, one appointment per busy slot, no double booking', () => {
  const slots = ofType<Slot>(sample, 'Slot');
  const appointments = ofType<Appointment>(sample, 'Appointment');
  assert.ok(slots.some((s) => s.status === 'free') && slots.some((s) => s.status === 'busy'));
  const slotById = new Map(slots.map((s) => [`Slot/${s.id}`, s]));
  const bookedSlots = new Set<string>();
  const busyByPractitioner = new Map<string, Array<[string, string]>>();
  for (const a of appointments) {
    assert.equal(a.slot!.length, 1);
    const slotRef = a.slot![0]!.reference!;
    assert.ok(!bookedSlots.has(slotRef), `${slotRef} is booked twice`);
    bookedSlots.add(slotRef);
    const slot = slotById.get(slotRef)!;
    assert.equal(slot.status, 'busy');
    assert.equal(a.start, slot.start);
    assert.equal(a.end, slot.end);
    const patient = a.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))!.actor!;
    // The diary shows this display; it must name the patient the reference points at.
    const booked = patients.find((p) => `Patient/${p.id}` === patient.reference)!;
    const nhs = booked.identifier!.find((i) => i.system === NHS_NUMBER_SYSTEM)!.value!;
    assert.equal(patient.display, `${booked.name![0]!.family!.toUpperCase()}, ${booked.name![0]!.given!.join(' ')} (${nhs})`);
    const practitioner = a.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))!.actor!.reference!;
    const list = busyByPractitioner.get(practitioner) ?? [];
    for (const [s, e] of list) assert.ok(a.end! <= s || a.start! >= e, `${practitioner} double-booked at ${a.start}`);
    list.push([a.start!, a.end!]);
    busyByPractitioner.set(practitioner, list);
  }
  assert.equal(bookedSlots.size, slots.filter((s) => s.status === 'busy').length, 'every busy slot has its appointment');
  for (const s of slots) {
    const day = s.start!.slice(0, 10);
    assert.ok(day >= TODAY && day < '2026-12-02', `slot on ${day} is outside the week`);
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay();
    assert.ok(weekday >= 1 && weekday <= 5, `slot at the weekend: ${s.start}`);
    assert.match(s.start!, /T\d{2}:\d{2}:00\+00:00$/, 'November is GMT');
  }
});

test('appointment times carry the British Summer Time offset in summer', () => {
  const summer = practice(5, 3, '2026-07-01');
  const slot = ofType<Slot>(summer, 'Slot')[0]!;
  assert.match(slot.start!, /^2026-07-01T08:30:00\+01:00$/);
});

test('SNOMED CT codes come from the bundled subset with their bundled display', () => {
  const codings: Array<{ system?: string; code?: string; display?: string }> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.system === SNOMED_SYSTEM && typeof o.code === 'string') codings.push(o as { code: string });
      Object.values(o).forEach(walk);
    }
  };
  walk(sample);
  assert.ok(codings.length > 1000);
  for (const coding of codings) assert.equal(conceptById(coding.code!)?.display, coding.display, `code ${coding.code}`);
});

test('no penicillin is prescribed to a patient with a penicillin allergy', () => {
  const big = practice(1500, 'allergy');
  const allergic = new Set(
    big.filter((r) => r.resourceType === 'AllergyIntolerance' && r.code?.coding?.[0]?.code === '91936005').map((r) => (r as { patient: { reference: string } }).patient.reference),
  );
  assert.ok(allergic.size > 30, `expected penicillin allergies in 1,500 patients, got ${allergic.size}`);
  const penicillinScripts = ofType<MedicationRequest>(big, 'MedicationRequest').filter((m) => PENICILLINS.some((p) => m.medicationCodeableConcept!.text!.startsWith(p)));
  assert.ok(penicillinScripts.length > 0, 'some non-allergic patients get penicillins, so the check below means something');
  for (const m of penicillinScripts) assert.ok(!allergic.has(m.subject.reference!), `${m.medicationCodeableConcept!.text} for allergic ${m.subject.reference}`);
});

test('children are prescribed only medicines whose bundled dose suits them', () => {
  const big = practice(1500, 'children');
  const children = new Set(ofType<Patient>(big, 'Patient').filter((p) => ageOn(p.birthDate!, TODAY) < 16).map((p) => `Patient/${p.id}`));
  const scripts = ofType<MedicationRequest>(big, 'MedicationRequest').filter((m) => children.has(m.subject.reference!));
  assert.ok(scripts.length > 10, 'some children have inhalers or emollients, so the check below means something');
  for (const m of scripts) assert.ok(CHILD_SAFE_GROUPS.has(medicineByName(m.medicationCodeableConcept!.text!).group), `${m.medicationCodeableConcept!.text} for a child`);
});

test('lab results carry reference ranges, and H/L interpretation agrees with the value', () => {
  const results = ofType<Observation>(sample, 'Observation').filter((o) => o.category?.[0]?.coding?.[0]?.code === 'laboratory');
  const flags = new Set<string>();
  for (const o of results) {
    const value = o.valueQuantity!.value!;
    const range = o.referenceRange![0]!;
    const flag = o.interpretation![0]!.coding![0]!.code!;
    flags.add(flag);
    const expected = range.high && value > range.high.value! ? 'H' : range.low && value < range.low.value! ? 'L' : 'N';
    assert.equal(flag, expected, `${o.code.text} ${value} flagged ${flag}`);
    assert.equal(o.valueQuantity!.code, (range.high ?? range.low)!.code, 'value and range in the same unit');
  }
  assert.deepEqual([...flags].sort(), ['H', 'L', 'N']);
  const reports = ofType<DiagnosticReport>(sample, 'DiagnosticReport');
  assert.ok(reports.length > 50);
  assert.ok(reports.every((r) => r.result!.length >= 1));
});

test('diabetics have HbA1c results and diabetic-range values are common among them', () => {
  const diabetic = new Set(sample.filter((r) => r.resourceType === 'Condition' && r.code?.coding?.[0]?.code === '44054006').map((r) => (r as { subject: { reference: string } }).subject.reference));
  assert.ok(diabetic.size > 5);
  const hba1c = ofType<Observation>(sample, 'Observation').filter((o) => o.code.coding?.[0]?.code === '999791000000106');
  const withResult = new Set(hba1c.map((o) => o.subject!.reference!));
  const reviewedDiabetics = [...diabetic].filter((d) => withResult.has(d));
  assert.ok(reviewedDiabetics.length >= diabetic.size * 0.5, `${reviewedDiabetics.length} of ${diabetic.size} diabetics have an HbA1c`);
  const diabeticValues = hba1c.filter((o) => diabetic.has(o.subject!.reference!)).map((o) => o.valueQuantity!.value!);
  assert.ok(diabeticValues.filter((v) => v >= 48).length > diabeticValues.length / 2);
});

test('consultation notes are on the Encounter: extension and narrative, with history, examination and plan', () => {
  const encounters = ofType<Encounter>(sample, 'Encounter');
  assert.ok(encounters.length > 400);
  for (const e of encounters) {
    const parts = e.extension!.find((x) => x.url === CONSULTATION_NOTE_EXTENSION)!.extension!;
    assert.deepEqual(parts.map((x) => x.url), ['history', 'examination', 'plan']);
    assert.ok(parts.every((x) => (x.valueString ?? '').length > 10), `empty note part on Encounter/${e.id}`);
    assert.ok(e.text!.div.includes(parts[2]!.valueString!.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')));
    assert.match(e.text!.div, /^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"><p><b>History:<\/b> .+<\/p><p><b>Examination:<\/b> .+<\/p><p><b>Plan:<\/b> .+<\/p><\/div>$/);
    assert.ok(e.period!.start! < `${TODAY}T23:59`, 'consultations are in the past');
  }
});

test('rejects a patient count it cannot honour', () => {
  assert.throws(() => practice(-1), /patients must be a whole number/);
  assert.throws(() => practice(1.5), /patients must be a whole number/);
  assert.throws(() => [...generatePractice({ patients: 1, seed: 1, today: '25/11/2026' })], /today must be YYYY-MM-DD/);
});
