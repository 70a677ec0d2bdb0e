/**
 * The safety checks at the point of prescribing: allergy and intolerance, duplicate therapy, the
 * curated interactions and the dose range. Pure and deterministic: the browser runs it as the
 * prescriber picks, and the server runs it again on submit (the server's answer is the one that counts).
 *
 * Every alert has a stable id (`kind:rule:vmp`) so an override can name it; one alert per id, however
 * many records raised it (`with` names the first). Order: stop before warn, then allergy, duplicate,
 * interaction, dose.
 */
import type { AllergyIntolerance, MedicationRequest } from '@medplum/fhirtypes';
import { productByCode, productOfRequest, substanceWords, words, type MedicinesKnowledge } from './products.ts';
import type { AlertKind, AllergyRule, DmdProduct, MedicineAlert, ProductMatcher } from './types.ts';

export interface PrescriptionCandidate {
  /** dm+d VMP (or AMP) id of a product of the subset. */
  vmp: string;
  /** Units of the product's unitOfMeasure per administration. */
  dosePerAdministration?: number;
  frequencyPerDay?: number;
}

export interface CheckContext {
  /** The patient's AllergyIntolerances (any status: refuted, resolved and entered-in-error ones are ignored). */
  allergies: readonly AllergyIntolerance[];
  /** The patient's MedicationRequests (any status: only current ones count). */
  medications: readonly MedicationRequest[];
  /** YYYY-MM-DD (London): an acute issue counts as current until its supply runs out. */
  today: string;
  /**
   * MedicationRequest ids to leave out: when issuing from a repeat template, the template and its own
   * issues are the same therapy, not a duplicate of it.
   */
  exclude?: readonly string[];
}

/** Days an acute issue with no supply duration counts as current. */
export const ACUTE_CURRENT_DAYS = 28;

const KIND_ORDER: Record<AlertKind, number> = { allergy: 0, duplicate: 1, interaction: 2, dose: 3 };

export class UnknownProductError extends Error {
  constructor(readonly vmp: string) {
    super(`dm+d product ${vmp} is not in the medicines subset`);
  }
}

export function checkPrescription(candidate: PrescriptionCandidate, context: CheckContext, knowledge: MedicinesKnowledge): MedicineAlert[] {
  const product = productByCode(candidate.vmp, knowledge.products);
  if (!product) throw new UnknownProductError(candidate.vmp);
  const alerts = new Map<string, MedicineAlert>();
  const add = (a: MedicineAlert) => {
    if (!alerts.has(a.id)) alerts.set(a.id, a);
  };
  allergyAlerts(product, context, knowledge, add);
  const current = currentMedicines(context, knowledge);
  duplicateAlerts(product, current, knowledge, add);
  interactionAlerts(product, current, knowledge, add);
  doseAlerts(product, candidate, knowledge, add);
  return [...alerts.values()].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'stop' ? -1 : 1) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
}

type Add = (a: MedicineAlert) => void;

// ---- allergy and intolerance -----------------------------------------------------------------------

function isLiveAllergy(a: AllergyIntolerance): boolean {
  const verification = a.verificationStatus?.coding?.map((c) => c.code) ?? [];
  if (verification.includes('refuted') || verification.includes('entered-in-error')) return false;
  const clinical = a.clinicalStatus?.coding?.map((c) => c.code) ?? [];
  return !clinical.includes('inactive') && !clinical.includes('resolved');
}

/** The allergen's text and displays as space-separated words, padded (" co amoxiclav rash "), one entry per text. */
function allergyPhrases(a: AllergyIntolerance): string[] {
  const texts = [a.code?.text ?? '', ...(a.code?.coding ?? []).map((c) => c.display ?? '')];
  return texts.map((t) => ` ${words(t).join(' ')} `);
}

/**
 * A rule's allergen text entry names the allergen when its words appear together, in order, in the
 * allergen's text ("co-amoxiclav" matches "Co-amoxiclav allergy"; "penicillin" does not match "penicillinase").
 */
function saysAny(phrases: readonly string[], texts: readonly string[]): boolean {
  return texts.some((t) => {
    const w = words(t);
    if (w.length === 0) return false;
    const needle = ` ${w.join(' ')} `;
    return phrases.some((p) => p.includes(needle));
  });
}

const ruleCodes = new WeakMap<readonly DmdProduct[], Map<string, Set<string>>>();

/**
 * The codes an allergen may carry that name a member of the rule's class: the rule's own SNOMED codes
 * (the class or substance concepts) plus the VTM, VMP, earlier VMP and AMP ids of every product of the
 * subset in the allergen's classes, so an allergy coded only as "Flucloxacillin" (no display) still counts.
 */
function codesOfRule(rule: AllergyRule, products: readonly DmdProduct[]): Set<string> {
  let byRule = ruleCodes.get(products);
  if (!byRule) ruleCodes.set(products, (byRule = new Map()));
  let codes = byRule.get(rule.id);
  if (!codes) {
    codes = new Set(rule.allergen.codes);
    for (const p of products) {
      if (!(rule.allergen.classes ?? []).some((cls) => p.classes.includes(cls))) continue;
      for (const c of [p.vtm, p.vmp, ...(p.previousVmps ?? []), ...p.amps.map((a) => a.amp)]) if (c) codes.add(c);
    }
    byRule.set(rule.id, codes);
  }
  return codes;
}

const allergyName = (a: AllergyIntolerance) => a.code?.text ?? a.code?.coding?.find((c) => c.display)?.display ?? 'an allergen';
const reactionWord = (a: AllergyIntolerance) => (a.type === 'intolerance' ? 'intolerance' : 'allergy');

/** Words too general to name a substance ("allergy to penicillin": only "penicillin" counts). */
const GENERIC_WORDS = new Set(['allergy', 'allergic', 'to', 'intolerance', 'of', 'and', 'hydrochloride', 'sodium', 'potassium', 'phosphate', 'product', 'containing', 'reaction', 'drug', 'substance', 'history', 'adverse']);

function allergyAlerts(product: DmdProduct, context: CheckContext, knowledge: MedicinesKnowledge, add: Add): void {
  const { rules } = knowledge;
  const substance = substanceWords(product).filter((w) => !GENERIC_WORDS.has(w));
  for (const a of context.allergies) {
    if (!isLiveAllergy(a)) continue;
    const codes = new Set((a.code?.coding ?? []).map((c) => c.code ?? ''));
    const phrases = allergyPhrases(a);
    const said = new Set(phrases.flatMap((p) => p.split(' ')).filter((w) => w.length > 0));
    const ref = a.id ? `AllergyIntolerance/${a.id}` : undefined;
    // An intolerance (not an allergy) is a warning, whatever the rule says.
    const soften = a.type === 'intolerance';
    // By substance: the allergen names this product's own substance, or the allergen is coded as this product.
    const bySubstance =
      substance.some((w) => said.has(w)) ||
      codes.has(product.vmp) ||
      (product.vtm !== undefined && codes.has(product.vtm)) ||
      (product.previousVmps ?? []).some((p) => codes.has(p)) ||
      product.amps.some((p) => codes.has(p.amp));
    if (bySubstance) {
      add({
        id: `allergy:substance:${product.vmp}`,
        kind: 'allergy',
        severity: soften ? 'warn' : 'stop',
        message: `Recorded ${reactionWord(a)}: ${allergyName(a)}. ${product.name} contains ${product.vtmName.toLowerCase()}.`,
        advice: soften ? 'Check what the intolerance was before prescribing.' : 'Do not prescribe; choose an alternative or correct the allergy record.',
        source: 'Steadfast: the allergen names the substance of the product',
        vmp: product.vmp,
        ...(ref ? { with: ref } : {}),
      });
    }
    for (const rule of rules.allergy.rules) {
      if (!rule.products.some((m) => matches(product, m))) continue;
      const ruleCodeSet = codesOfRule(rule, knowledge.products);
      const hit = [...codes].some((c) => ruleCodeSet.has(c)) || saysAny(phrases, rule.allergen.text);
      if (!hit) continue;
      add({
        id: `allergy:${rule.id}:${product.vmp}`,
        kind: 'allergy',
        severity: soften ? 'warn' : rule.severity,
        message: `Recorded ${reactionWord(a)}: ${allergyName(a)}. ${product.name} is ${classPhrase(product, rule.products)}.`,
        advice: rule.advice,
        source: rules.allergy.source,
        vmp: product.vmp,
        ...(ref ? { with: ref } : {}),
      });
    }
  }
}

function classPhrase(product: DmdProduct, matchers: readonly ProductMatcher[]): string {
  const m = matchers.find((x) => matches(product, x));
  if (m?.class) return `in the class "${m.class}"`;
  if (m?.substance) return `${m.substance}`;
  return 'affected';
}

export function matches(product: DmdProduct, m: ProductMatcher): boolean {
  if (m.vmp && m.vmp !== product.vmp && !(product.previousVmps ?? []).includes(m.vmp)) return false;
  if (m.class && !product.classes.includes(m.class)) return false;
  if (m.substance && !substanceWords(product).includes(m.substance)) return false;
  return Boolean(m.vmp || m.class || m.substance);
}

// ---- the patient's current medicines ------------------------------------------------------------------

interface Current {
  request: MedicationRequest;
  product: DmdProduct | undefined;
  /** Lower-case name for messages and the uncoded same-substance check. */
  name: string;
}

function templateRef(m: MedicationRequest): string | undefined {
  return m.basedOn?.find((b) => b.reference?.startsWith('MedicationRequest/'))?.reference?.slice('MedicationRequest/'.length);
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + Math.ceil(days));
  return d.toISOString().slice(0, 10);
}

function supplyDays(m: MedicationRequest): number {
  const d = m.dispenseRequest?.expectedSupplyDuration;
  if (d?.value !== undefined) {
    const unit = d.code ?? d.unit ?? 'd';
    if (unit === 'wk' || unit.startsWith('week')) return d.value * 7;
    return d.value;
  }
  return ACUTE_CURRENT_DAYS;
}

/**
 * What the patient is taking now: active (or on-hold) repeat templates; acute orders not basedOn a
 * template whose supply has not run out. Issues of a template stand for the template, so they are not
 * counted twice; a stopped template's issues are not current either.
 */
export function currentMedicines(context: CheckContext, knowledge: MedicinesKnowledge): Current[] {
  const exclude = new Set(context.exclude ?? []);
  const out: Current[] = [];
  for (const m of context.medications) {
    if (m.id && exclude.has(m.id)) continue;
    if (m.status !== 'active' && m.status !== 'on-hold') continue;
    if (templateRef(m)) continue;
    const continuous = (m.courseOfTherapyType?.coding ?? []).some((c) => c.code === 'continuous' || c.code === 'seasonal');
    if (!continuous && m.authoredOn && addDays(m.authoredOn, supplyDays(m)) < context.today) continue;
    const product = productOfRequest(m, knowledge.products);
    const name = product?.name ?? m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.[0]?.display ?? 'a medicine';
    out.push({ request: m, product, name });
  }
  return out;
}

const refOf = (m: MedicationRequest) => (m.id ? { with: `MedicationRequest/${m.id}` } : {});

// ---- duplicate therapy ---------------------------------------------------------------------------------

function duplicateAlerts(product: DmdProduct, current: readonly Current[], knowledge: MedicinesKnowledge, add: Add): void {
  const { duplicate } = knowledge.rules;
  const substance = substanceWords(product).filter((w) => !GENERIC_WORDS.has(w));
  for (const c of current) {
    const same = c.product ? c.product.vmp === product.vmp : false;
    if (same) {
      add({
        id: `duplicate:same-product:${product.vmp}`,
        kind: 'duplicate',
        severity: 'stop',
        message: `${product.name} is already current for this patient.`,
        advice: 'Issue from the existing item (or stop it first) rather than prescribing it again.',
        source: duplicate.source,
        vmp: product.vmp,
        ...refOf(c.request),
      });
      continue;
    }
    const otherSubstance = c.product ? substanceWords(c.product) : words(c.name);
    if (substance.some((w) => otherSubstance.includes(w))) {
      add({
        id: `duplicate:same-substance:${product.vmp}`,
        kind: 'duplicate',
        severity: 'warn',
        message: `${c.name} is current and contains the same substance as ${product.name}.`,
        advice: 'Check the total dose of the substance across both, or stop one.',
        source: duplicate.source,
        vmp: product.vmp,
        ...refOf(c.request),
      });
      continue;
    }
    for (const cls of duplicate.classes) {
      if (!product.classes.includes(cls) || !c.product?.classes.includes(cls)) continue;
      add({
        id: `duplicate:class-${cls}:${product.vmp}`,
        kind: 'duplicate',
        severity: 'warn',
        message: `${c.name} is current and is also in the class "${cls}".`,
        advice: 'Two products of one class at once is usually duplicate therapy: stop one, or record why both are needed.',
        source: duplicate.source,
        vmp: product.vmp,
        ...refOf(c.request),
      });
    }
  }
}

// ---- interactions ----------------------------------------------------------------------------------------

function interactionAlerts(product: DmdProduct, current: readonly Current[], knowledge: MedicinesKnowledge, add: Add): void {
  const { interaction } = knowledge.rules;
  for (const c of current) {
    if (!c.product || c.product.vmp === product.vmp) continue;
    for (const rule of interaction.rules) {
      const hit = (matches(product, rule.a) && matches(c.product, rule.b)) || (matches(product, rule.b) && matches(c.product, rule.a));
      if (!hit) continue;
      add({
        id: `interaction:${rule.id}:${product.vmp}`,
        kind: 'interaction',
        severity: rule.severity,
        message: `${product.name} with ${c.product.name}: ${rule.effect}`,
        advice: rule.advice,
        source: interaction.source,
        vmp: product.vmp,
        ...refOf(c.request),
      });
    }
  }
}

// ---- dose range --------------------------------------------------------------------------------------------

const fmt = (n: number) => String(Math.round(n * 1000) / 1000);

function doseAlerts(product: DmdProduct, candidate: PrescriptionCandidate, knowledge: MedicinesKnowledge, add: Add): void {
  const { dose } = knowledge.rules;
  const rule = dose.rules.find((r) => r.vmp === product.vmp || (product.previousVmps ?? []).includes(r.vmp));
  if (!rule) return;
  const base = { kind: 'dose' as const, source: dose.source, vmp: product.vmp };
  const perAdmin = candidate.dosePerAdministration;
  if (perAdmin === undefined || !(perAdmin > 0) || candidate.frequencyPerDay === undefined || !(candidate.frequencyPerDay > 0)) {
    add({
      ...base,
      id: `dose:unstructured:${product.vmp}`,
      severity: 'warn',
      message: `The dose of ${product.name} could not be checked: give the dose per administration and the times a day.`,
      advice: `Usual ${rule.population} maximum: ${fmt(rule.maxPerDose)} ${rule.unit} a dose, ${fmt(rule.maxPerDay)} ${rule.unit} a day${rule.maxPerWeek !== undefined ? `, ${fmt(rule.maxPerWeek)} ${rule.unit} a week` : ''}${rule.minDaysBetweenDoses !== undefined ? `; at most one dose every ${fmt(rule.minDaysBetweenDoses)} days` : ''}.`,
    });
    return;
  }
  if (product.strength.unit !== rule.unit) return; // a rule in another unit cannot be compared (rules.test.ts keeps them aligned)
  const perDose = perAdmin * product.strength.value;
  const perDay = perDose * candidate.frequencyPerDay;
  if (perDose > rule.maxPerDose + 1e-9) {
    add({
      ...base,
      id: `dose:per-dose:${product.vmp}`,
      severity: 'stop',
      message: `${fmt(perAdmin)} ${product.unitOfMeasure} of ${product.name} is ${fmt(perDose)} ${rule.unit} a dose, over the ${rule.population} maximum of ${fmt(rule.maxPerDose)} ${rule.unit}.`,
      advice: 'Check the dose per administration.',
    });
  }
  if (perDay > rule.maxPerDay + 1e-9) {
    add({
      ...base,
      id: `dose:per-day:${product.vmp}`,
      severity: 'stop',
      message: `${fmt(perDose)} ${rule.unit} ${fmt(candidate.frequencyPerDay)} times a day is ${fmt(perDay)} ${rule.unit} a day, over the ${rule.population} maximum of ${fmt(rule.maxPerDay)} ${rule.unit}.`,
      advice: 'Check the dose and how often it is taken.',
    });
  }
  // Weekly-only drugs (methotrexate): more often than once every N days is a stop, whatever the amount,
  // because daily dosing of a weekly drug is the classic fatal slip; and the week's total has its own maximum.
  // Tolerance 1e-3 a day: a weekly dose is written as 0.1429 times a day.
  if (rule.minDaysBetweenDoses !== undefined && candidate.frequencyPerDay > 1 / rule.minDaysBetweenDoses + 1e-3) {
    add({
      ...base,
      id: `dose:frequency:${product.vmp}`,
      severity: 'stop',
      message: `${product.name} is taken at most once every ${fmt(rule.minDaysBetweenDoses)} days; ${fmt(candidate.frequencyPerDay)} times a day is ${fmt(candidate.frequencyPerDay * rule.minDaysBetweenDoses)} doses in ${fmt(rule.minDaysBetweenDoses)} days.`,
      advice: rule.minDaysBetweenDoses === 7 ? 'This is a once-weekly medicine: give one dose a week, on a named day.' : 'Check how often it is taken.',
    });
  }
  const perWeek = perDay * 7;
  if (rule.maxPerWeek !== undefined && perWeek > rule.maxPerWeek + 1e-2) {
    add({
      ...base,
      id: `dose:per-week:${product.vmp}`,
      severity: 'stop',
      message: `${fmt(perDose)} ${rule.unit} ${fmt(candidate.frequencyPerDay)} times a day is ${fmt(perWeek)} ${rule.unit} a week, over the ${rule.population} maximum of ${fmt(rule.maxPerWeek)} ${rule.unit} a week.`,
      advice: 'Check the dose and how often it is taken.',
    });
  }
}
