/**
 * The prescribing checks, one kind at a time, each with the case that must alert and the nearby
 * cases that must not (a check that always alerts would pass the first half only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AllergyIntolerance, MedicationRequest } from '@medplum/fhirtypes';
import { checkPrescription, UnknownProductError, type CheckContext, type PrescriptionCandidate } from './checks.ts';
import { bundledKnowledge, DMD_SYSTEM } from './products.ts';
import { applyOverrides } from './overrides.ts';
import type { MedicineAlert } from './types.ts';

const V = {
  amox500: '39732411000001106',
  amox250: '39732311000001104',
  fluclox: '39692211000001107',
  cefalexin: '323888003',
  azithro: '41942011000001100',
  moxi: '408015000',
  doxy: '421341000',
  paracetamol: '322236009',
  solublePara: '39720311000001101',
  cocodamol: '42009811000001101',
  diclofenac: '329968007',
  prednisolone: '325427002',
  diazepam: '321196004',
  temazepam: '321152004',
  morphine10: '36126511000001106',
  pregabalin: '415165003',
  furosemide: '317972000',
  methotrexate: '15517911000001104',
  salbutamol: '39113611000001102',
  simvastatin40: '320000009',
  clarithromycin: '41946511000001109',
  trimethoprim: '41956211000001109',
  nitrofurantoin: '41953111000001108',
  warfarin1: '42217511000001103',
  ibuprofen400: '329653008',
};
const TODAY = '2026-12-04';

function allergy(text: string, extra: Partial<AllergyIntolerance> = {}): AllergyIntolerance {
  return { resourceType: 'AllergyIntolerance', id: `a-${text.replace(/\W+/g, '-')}`, patient: { reference: 'Patient/p1' }, code: { text }, ...extra };
}
const penicillinCoded: AllergyIntolerance = {
  resourceType: 'AllergyIntolerance',
  id: 'a-pen',
  patient: { reference: 'Patient/p1' },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005', display: 'Allergy to penicillin' }] },
};

/** An allergy coded only with a SNOMED CT code: no display, no text. */
const coded = (code: string): AllergyIntolerance => ({ resourceType: 'AllergyIntolerance', id: `a-${code}`, patient: { reference: 'Patient/p1' }, code: { coding: [{ system: 'http://snomed.info/sct', code }] } });

let n = 0;
function med(vmp: string, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: `m${++n}`,
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    authoredOn: `${TODAY}T09:00:00Z`,
    medicationCodeableConcept: { coding: [{ system: DMD_SYSTEM, code: vmp }] },
    ...extra,
  };
}
const template = (vmp: string, extra: Partial<MedicationRequest> = {}) =>
  med(vmp, { intent: 'plan', courseOfTherapyType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy', code: 'continuous' }] }, authoredOn: '2025-01-01', ...extra });

function check(candidate: PrescriptionCandidate, context: Partial<CheckContext> = {}): MedicineAlert[] {
  return checkPrescription({ dosePerAdministration: 1, frequencyPerDay: 1, ...candidate }, { allergies: [], medications: [], today: TODAY, ...context }, bundledKnowledge);
}
const ids = (alerts: MedicineAlert[]) => alerts.map((a) => a.id);

// ---- allergy --------------------------------------------------------------------------------------

test('allergy by class: a coded penicillin allergy stops amoxicillin and flucloxacillin, and names the allergy', () => {
  const alerts = check({ vmp: V.amox500, dosePerAdministration: 1, frequencyPerDay: 3 }, { allergies: [penicillinCoded] });
  assert.deepEqual(ids(alerts), [`allergy:penicillin-class:${V.amox500}`]);
  assert.equal(alerts[0]!.severity, 'stop');
  assert.equal(alerts[0]!.with, 'AllergyIntolerance/a-pen');
  assert.match(alerts[0]!.message, /Allergy to penicillin/);
  assert.equal(check({ vmp: V.fluclox, frequencyPerDay: 4 }, { allergies: [penicillinCoded] })[0]?.id, `allergy:penicillin-class:${V.fluclox}`);
});

test('allergy by class from text only ("Penicillins"), and cross-sensitivity to a cephalosporin is a warning', () => {
  assert.deepEqual(ids(check({ vmp: V.amox250, frequencyPerDay: 3 }, { allergies: [allergy('Penicillins')] })), [`allergy:penicillin-class:${V.amox250}`]);
  const ceph = check({ vmp: V.cefalexin, dosePerAdministration: 5, frequencyPerDay: 4 }, { allergies: [penicillinCoded] });
  assert.deepEqual(ceph.map((a) => [a.id, a.severity]), [[`allergy:penicillin-cephalosporin:${V.cefalexin}`, 'warn']]);
});

test('allergy by substance: an allergy recorded as "Amoxicillin" stops amoxicillin by substance and by the penicillin class', () => {
  const alerts = check({ vmp: V.amox500, frequencyPerDay: 3 }, { allergies: [allergy('Amoxicillin - rash')] });
  assert.deepEqual(ids(alerts).sort(), [`allergy:penicillin-class:${V.amox500}`, `allergy:substance:${V.amox500}`]);
  assert.deepEqual(alerts.map((a) => a.severity), ['stop', 'stop']);
  // A combination product: a codeine allergy finds co-codamol (codeine + paracetamol) by substance, and by the opioid rule.
  assert.deepEqual(ids(check({ vmp: V.cocodamol, dosePerAdministration: 2, frequencyPerDay: 4 }, { allergies: [allergy('Codeine')] })).sort(), [
    `allergy:opioid-class:${V.cocodamol}`,
    `allergy:substance:${V.cocodamol}`,
  ]);
});

test('regression: an amoxicillin allergy did not stop flucloxacillin', () => {
  // Each penicillin named by substance or brand, as text only, stops every other penicillin of the subset.
  for (const text of ['Amoxicillin - rash', 'Flucloxacillin', 'Co-amoxiclav allergy', 'Augmentin', 'Phenoxymethylpenicillin', 'Amoxil', 'Penicillin V', 'Benzylpenicillin anaphylaxis']) {
    for (const vmp of [V.amox500, V.fluclox]) {
      const alerts = check({ vmp, frequencyPerDay: 3 }, { allergies: [allergy(text)] });
      assert.ok(ids(alerts).includes(`allergy:penicillin-class:${vmp}`), `"${text}" allergy gave ${JSON.stringify(ids(alerts))} for ${vmp}`);
      assert.equal(alerts.find((a) => a.id === `allergy:penicillin-class:${vmp}`)!.severity, 'stop');
    }
  }
  // Coded only with a substance code, no display or text: SNOMED CT substance concepts and the subset's VTM ids.
  for (const code of ['372687004' /* Amoxicillin (substance) */, '764146007' /* Penicillin (substance) */, '96067005' /* Flucloxacillin VTM */, '27658006' /* Amoxicillin VTM */]) {
    assert.ok(ids(check({ vmp: V.fluclox, frequencyPerDay: 4 }, { allergies: [coded(code)] })).includes(`allergy:penicillin-class:${V.fluclox}`), `code ${code} did not stop flucloxacillin`);
  }
  // Cross-sensitivity follows too: a flucloxacillin allergy warns for cefalexin.
  assert.deepEqual(ids(check({ vmp: V.cefalexin, dosePerAdministration: 5, frequencyPerDay: 4 }, { allergies: [allergy('Flucloxacillin')] })), [`allergy:penicillin-cephalosporin:${V.cefalexin}`]);
  // Words, not parts of words: "penicillinase" and "amoxicillin-free" text of another allergen do not count; a cephalosporin code does not make a penicillin allergy.
  assert.deepEqual(check({ vmp: V.fluclox, frequencyPerDay: 4 }, { allergies: [allergy('Penicillinase')] }), []);
  assert.deepEqual(ids(check({ vmp: V.amox500, frequencyPerDay: 3 }, { allergies: [coded('54887004')] })), [], 'a cefalexin-coded allergy is not a penicillin allergy');
});

test('every allergy class rule knows each member of its class in the subset: by substance name, by brand and by VTM code', () => {
  const { products, rules } = bundledKnowledge;
  for (const rule of rules.allergy.rules) {
    const members = products.filter((p) => (rule.allergen.classes ?? []).some((c) => p.classes.includes(c)));
    const targets = products.filter((p) => rule.products.some((m) => p.classes.includes(m.class ?? '')));
    assert.ok(members.length > 0 && targets.length > 0, `rule ${rule.id}: allergen.classes ${JSON.stringify(rule.allergen.classes)} names no product of the subset, or the rule matches none`);
    const target = targets[0]!;
    for (const m of members) {
      const names = [m.vtmName, ...m.amps.map((a) => a.name)];
      for (const name of names) {
        const got = ids(check({ vmp: target.vmp, dosePerAdministration: 1, frequencyPerDay: 1 }, { allergies: [allergy(name)] }));
        assert.ok(got.includes(`allergy:${rule.id}:${target.vmp}`), `rule ${rule.id}: an allergy to "${name}" does not alert for ${target.name}`);
      }
      if (m.vtm) {
        assert.ok(ids(check({ vmp: target.vmp }, { allergies: [coded(m.vtm)] })).includes(`allergy:${rule.id}:${target.vmp}`), `rule ${rule.id}: an allergy coded ${m.vtm} (${m.vtmName}) does not alert for ${target.name}`);
      }
    }
  }
});

test('allergy negatives: no alert for an unrelated allergy, a refuted, resolved or entered-in-error one, or a non-penicillin', () => {
  assert.deepEqual(check({ vmp: V.amox500, frequencyPerDay: 3 }, { allergies: [allergy('Peanut')] }), []);
  assert.deepEqual(check({ vmp: V.doxy }, { allergies: [penicillinCoded] }), [], 'doxycycline is not a penicillin');
  const refuted = { ...penicillinCoded, verificationStatus: { coding: [{ code: 'refuted' }] } };
  const resolved = { ...penicillinCoded, clinicalStatus: { coding: [{ code: 'resolved' }] } };
  const error = { ...penicillinCoded, verificationStatus: { coding: [{ code: 'entered-in-error' }] } };
  assert.deepEqual(check({ vmp: V.amox500, frequencyPerDay: 3 }, { allergies: [refuted, resolved, error] }), []);
  // "phosphate" or "allergy" alone do not name a substance.
  assert.deepEqual(check({ vmp: V.cocodamol, dosePerAdministration: 2, frequencyPerDay: 4 }, { allergies: [allergy('Phosphate allergy')] }), []);
});

test('an intolerance (not an allergy) is a warning, never a stop', () => {
  const alerts = check({ vmp: V.amox500, frequencyPerDay: 3 }, { allergies: [{ ...penicillinCoded, type: 'intolerance' }] });
  assert.deepEqual(alerts.map((a) => a.severity), ['warn']);
  assert.match(alerts[0]!.message, /intolerance/);
});

// ---- duplicate therapy ------------------------------------------------------------------------------

test('duplicate: the same VMP already current stops; found by its retired id too', () => {
  assert.deepEqual(ids(check({ vmp: V.amox500, frequencyPerDay: 3 }, { medications: [med(V.amox500)] })), [`duplicate:same-product:${V.amox500}`]);
  assert.equal(check({ vmp: V.amox500, frequencyPerDay: 3 }, { medications: [med('323510009')] })[0]?.severity, 'stop');
});

test('duplicate: the same substance in another product (co-codamol with paracetamol) or the same class (two benzodiazepines) warns', () => {
  const para = check({ vmp: V.paracetamol, dosePerAdministration: 2, frequencyPerDay: 4 }, { medications: [template(V.cocodamol)] });
  assert.deepEqual(para.map((a) => [a.id, a.severity]), [[`duplicate:same-substance:${V.paracetamol}`, 'warn']]);
  const benzo = check({ vmp: V.temazepam }, { medications: [template(V.diazepam)] });
  assert.deepEqual(benzo.map((a) => [a.id, a.severity]), [[`duplicate:class-benzodiazepine:${V.temazepam}`, 'warn']]);
});

test('duplicate negatives: a stopped item, an acute course whose supply ran out, issues of the template being issued, another class', () => {
  assert.deepEqual(check({ vmp: V.amox500, frequencyPerDay: 3 }, { medications: [med(V.amox500, { status: 'stopped' })] }), []);
  const old = med(V.amox500, { authoredOn: '2026-11-01', dispenseRequest: { expectedSupplyDuration: { value: 5, unit: 'days', code: 'd' } } });
  assert.deepEqual(check({ vmp: V.amox500, frequencyPerDay: 3 }, { medications: [old] }), [], 'a 5-day course from November is over');
  const recent = med(V.amox500, { authoredOn: '2026-12-01', dispenseRequest: { expectedSupplyDuration: { value: 5, unit: 'days', code: 'd' } } });
  assert.equal(check({ vmp: V.amox500, frequencyPerDay: 3 }, { medications: [recent] }).length, 1, 'a 5-day course from 1 December is still current');
  const t = template(V.salbutamol);
  const issue = med(V.salbutamol, { basedOn: [{ reference: `MedicationRequest/${t.id}` }] });
  assert.deepEqual(check({ vmp: V.salbutamol, dosePerAdministration: 2, frequencyPerDay: 4 }, { medications: [t, issue], exclude: [t.id!] }), []);
  assert.deepEqual(check({ vmp: V.paracetamol, dosePerAdministration: 2, frequencyPerDay: 4 }, { medications: [template(V.furosemide)] }), []);
});

// ---- interactions -------------------------------------------------------------------------------------

test('interaction: an opioid with a current benzodiazepine warns (either way round), naming both', () => {
  const a = check({ vmp: V.morphine10, frequencyPerDay: 2 }, { medications: [template(V.diazepam)] });
  assert.deepEqual(a.map((x) => [x.id, x.severity]), [[`interaction:opioid-benzodiazepine:${V.morphine10}`, 'warn']]);
  assert.match(a[0]!.message, /Morphine 10mg modified-release tablets with Diazepam 2mg tablets/);
  assert.equal(check({ vmp: V.diazepam, frequencyPerDay: 3 }, { medications: [template(V.morphine10)] })[0]?.id, `interaction:opioid-benzodiazepine:${V.diazepam}`);
});

test('interaction: an NSAID with a current corticosteroid and with weekly methotrexate; two QT-prolonging antibacterials', () => {
  const a = ids(check({ vmp: V.diclofenac, frequencyPerDay: 3 }, { medications: [template(V.prednisolone), template(V.methotrexate)] }));
  assert.deepEqual(a, [`interaction:nsaid-corticosteroid:${V.diclofenac}`, `interaction:methotrexate-nsaid:${V.diclofenac}`]);
  assert.deepEqual(ids(check({ vmp: V.moxi }, { medications: [med(V.azithro)] })), [`interaction:qt-prolonging-pair:${V.moxi}`]);
});

test('interaction stops: clarithromycin with current simvastatin, trimethoprim with weekly methotrexate; nitrofurantoin instead passes', () => {
  assert.deepEqual(check({ vmp: V.clarithromycin, frequencyPerDay: 2 }, { medications: [template(V.simvastatin40)] }).map((a) => [a.id, a.severity]), [[`interaction:simvastatin-cyp3a4-inhibitor:${V.clarithromycin}`, 'stop']]);
  assert.deepEqual(check({ vmp: V.trimethoprim, frequencyPerDay: 2 }, { medications: [template(V.methotrexate)] }).map((a) => [a.id, a.severity]), [[`interaction:methotrexate-trimethoprim:${V.trimethoprim}`, 'stop']]);
  assert.deepEqual(check({ vmp: V.nitrofurantoin, frequencyPerDay: 4 }, { medications: [template(V.methotrexate)] }), []);
  assert.deepEqual(ids(check({ vmp: V.ibuprofen400, frequencyPerDay: 3 }, { medications: [template(V.warfarin1)] })), [`interaction:anticoagulant-nsaid:${V.ibuprofen400}`]);
});

test('interaction negatives: no rule for the pair, or the other item is not current', () => {
  assert.deepEqual(check({ vmp: V.morphine10, frequencyPerDay: 2 }, { medications: [template(V.furosemide)] }), []);
  assert.deepEqual(check({ vmp: V.morphine10, frequencyPerDay: 2 }, { medications: [template(V.diazepam, { status: 'stopped' })] }), []);
});

// ---- dose range ----------------------------------------------------------------------------------------

test('dose: over the maximum per dose and per day stops; each is its own alert', () => {
  // Paracetamol 500mg: 3 tablets is 1500 mg a dose; 2 tablets 6 times a day is 6000 mg a day.
  assert.deepEqual(ids(check({ vmp: V.paracetamol, dosePerAdministration: 3, frequencyPerDay: 4 })), [`dose:per-dose:${V.paracetamol}`, `dose:per-day:${V.paracetamol}`]);
  const perDay = check({ vmp: V.paracetamol, dosePerAdministration: 2, frequencyPerDay: 6 });
  assert.deepEqual(perDay.map((a) => [a.id, a.severity]), [[`dose:per-day:${V.paracetamol}`, 'stop']]);
  assert.match(perDay[0]!.message, /6000 mg a day, over the adult maximum of 4000 mg/);
  // Liquids: strength per ml. Cefalexin 250mg/5ml, 40 ml is 2000 mg a dose (max 1500).
  assert.deepEqual(ids(check({ vmp: V.cefalexin, dosePerAdministration: 40, frequencyPerDay: 1 })), [`dose:per-dose:${V.cefalexin}`]);
});

test('dose negatives: the usual dose and exactly the maximum pass; an unstructured dose is a warning only where a rule exists', () => {
  assert.deepEqual(check({ vmp: V.paracetamol, dosePerAdministration: 2, frequencyPerDay: 4 }), [], '4000 mg a day is the maximum, not over it');
  assert.deepEqual(check({ vmp: V.amox500, dosePerAdministration: 1, frequencyPerDay: 3 }), []);
  const unstructured = checkPrescription({ vmp: V.paracetamol }, { allergies: [], medications: [], today: TODAY }, bundledKnowledge);
  assert.deepEqual(unstructured.map((a) => [a.id, a.severity]), [[`dose:unstructured:${V.paracetamol}`, 'warn']]);
  assert.deepEqual(checkPrescription({ vmp: V.morphine10 }, { allergies: [], medications: [], today: TODAY }, bundledKnowledge), [], 'no dose rule for titrated morphine');
});

test('regression: daily methotrexate passed the dose check', () => {
  // 10 mg once a DAY (a weekly drug) is a stop, as is twice a week; the week's total over 25 mg is its own stop.
  const daily = check({ vmp: V.methotrexate, dosePerAdministration: 1, frequencyPerDay: 1 });
  assert.deepEqual(daily.map((a) => [a.id, a.severity]), [[`dose:frequency:${V.methotrexate}`, 'stop'], [`dose:per-week:${V.methotrexate}`, 'stop']]);
  assert.match(daily[0]!.message, /at most once every 7 days/);
  assert.match(daily[1]!.message, /70 mg a week, over the adult maximum of 25 mg a week/);
  assert.deepEqual(ids(check({ vmp: V.methotrexate, dosePerAdministration: 1, frequencyPerDay: 2 / 7 })), [`dose:frequency:${V.methotrexate}`], '10 mg twice a week');
  // The usual weekly dose (written 0.1429 times a day) passes; 3 syringes once a week is 30 mg, over the per-dose and weekly maximum.
  assert.deepEqual(check({ vmp: V.methotrexate, dosePerAdministration: 1, frequencyPerDay: 0.1429 }), []);
  assert.deepEqual(ids(check({ vmp: V.methotrexate, dosePerAdministration: 3, frequencyPerDay: 0.1429 })), [`dose:per-dose:${V.methotrexate}`, `dose:per-week:${V.methotrexate}`]);
  // A drug without a weekly rule taken daily is not affected.
  assert.deepEqual(check({ vmp: V.paracetamol, dosePerAdministration: 2, frequencyPerDay: 4 }), []);
  // Unstructured: the advice names the weekly limits.
  const unstructured = checkPrescription({ vmp: V.methotrexate }, { allergies: [], medications: [], today: TODAY }, bundledKnowledge);
  assert.match(unstructured[0]!.advice ?? '', /25 mg a week; at most one dose every 7 days/);
});

// ---- all together -----------------------------------------------------------------------------------------

test('stops come before warnings; the ids are stable across runs; an unknown product is an error, not an empty list', () => {
  const context = { allergies: [penicillinCoded], medications: [template(V.diazepam), med(V.amox500)] };
  const first = check({ vmp: V.amox500, dosePerAdministration: 3, frequencyPerDay: 3 }, context);
  assert.deepEqual(first.map((a) => a.severity), ['stop', 'stop', 'stop', 'stop']);
  assert.deepEqual(ids(first), [`allergy:penicillin-class:${V.amox500}`, `duplicate:same-product:${V.amox500}`, `dose:per-dose:${V.amox500}`, `dose:per-day:${V.amox500}`]);
  assert.deepEqual(ids(check({ vmp: V.amox500, dosePerAdministration: 3, frequencyPerDay: 3 }, context)), ids(first));
  assert.throws(() => check({ vmp: '123456789' }), UnknownProductError);
});

test('overrides: each alert needs its own reason of at least 5 characters; an override for another alert does not count', () => {
  const alerts = check({ vmp: V.morphine10, frequencyPerDay: 2 }, { medications: [template(V.diazepam)], allergies: [allergy('Codeine')] });
  assert.equal(alerts.length, 2);
  const [a, b] = alerts as [MedicineAlert, MedicineAlert];
  assert.deepEqual(applyOverrides(alerts, []).unresolved, alerts);
  assert.deepEqual(ids(applyOverrides(alerts, [{ alertId: a.id, reason: 'ok' }]).unresolved), ids(alerts), '"ok" is not a reason');
  const partly = applyOverrides(alerts, [{ alertId: a.id, reason: '  Palliative care, discussed with patient  ' }]);
  assert.deepEqual(ids(partly.unresolved), [b.id]);
  assert.equal(partly.overridden[0]!.overrideReason, 'Palliative care, discussed with patient');
  assert.deepEqual(applyOverrides(alerts, [{ alertId: a.id, reason: 'Reviewed today' }, { alertId: b.id, reason: 'Reviewed today' }]).unresolved, []);
});

test('the checks are fast: 1,000 checks against a busy record take well under 5 ms each', () => {
  const medications = Object.values(V).map((vmp) => template(vmp));
  const allergies = [penicillinCoded, allergy('Codeine'), allergy('Peanut')];
  const start = performance.now();
  for (let i = 0; i < 1000; i++) check({ vmp: V.diclofenac, frequencyPerDay: 3 }, { medications, allergies });
  const each = (performance.now() - start) / 1000;
  assert.ok(each < 5, `${each.toFixed(3)} ms a check`);
});
