/** Pure helpers for reading clinical resources the way the record screens show them. */
import type { AllergyIntolerance, Encounter, Observation } from '../fhirTypes.ts';
import { CONSULTATION_NOTE_EXTENSION } from '@steadfast/domain/systems';
import { displayUnit } from '@steadfast/domain/units';

/** Where Steadfast keeps the free text of a consultation on its Encounter (history, examination, plan). */

export interface ConsultationNote {
  history?: string;
  examination?: string;
  plan?: string;
}

export function consultationNote(e: Encounter): ConsultationNote {
  const ext = e.extension?.find((x) => x.url === CONSULTATION_NOTE_EXTENSION);
  if (ext?.extension) {
    const part = (name: string) => ext.extension?.find((x) => x.url === name)?.valueString;
    const note: ConsultationNote = {};
    const h = part('history');
    const x = part('examination');
    const p = part('plan');
    if (h) note.history = h;
    if (x) note.examination = x;
    if (p) note.plan = p;
    return note;
  }
  // Encounters from elsewhere (imports, the demo practice) may carry only a narrative, often with the
  // same headed paragraphs Steadfast writes: <p><b>History:</b> ...</p>.
  const div = e.text?.div;
  if (!div) return {};
  const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
  const note: ConsultationNote = {};
  for (const m of div.matchAll(/<b>\s*(History|Examination|Plan)\s*:?\s*<\/b>([\s\S]*?)<\/p>/gi)) {
    const key = m[1]!.toLowerCase() as keyof ConsultationNote;
    note[key] = text(m[2]!);
  }
  return Object.keys(note).length ? note : { history: text(div) };
}

const ABNORMAL = new Set(['H', 'HH', 'L', 'LL', 'A', 'AA', 'HU', 'LU', '>', '<']);

/** Abnormal by the lab's flag, or by the reference range when the lab gave no flag. */
export function abnormalFlag(o: Observation): string | undefined {
  const codes = (o.interpretation ?? []).flatMap((i) => i.coding ?? []).map((c) => c.code ?? '');
  const flagged = codes.find((c) => ABNORMAL.has(c));
  if (flagged) return flagged;
  const v = o.valueQuantity?.value;
  const range = o.referenceRange?.[0];
  if (typeof v === 'number' && range) {
    if (typeof range.high?.value === 'number' && v > range.high.value) return 'H';
    if (typeof range.low?.value === 'number' && v < range.low.value) return 'L';
  }
  return undefined;
}

export function abnormalText(flag: string): string {
  if (flag.startsWith('H') || flag === '>') return flag === 'HH' ? 'Very high' : 'High';
  if (flag.startsWith('L') || flag === '<') return flag === 'LL' ? 'Very low' : 'Low';
  return 'Abnormal';
}

export function observationValue(o: Observation): string {
  // Units shown one way whichever laboratory or screen wrote them (umol/L → µmol/L).
  if (o.valueQuantity) return `${o.valueQuantity.comparator ?? ''}${o.valueQuantity.value ?? ''} ${displayUnit(o.valueQuantity.unit ?? o.valueQuantity.code)}`.trim();
  if (o.component?.length) {
    // Blood pressure: "142/88 mmHg".
    const vals = o.component.map((c) => c.valueQuantity?.value).filter((v) => v !== undefined);
    const unit = displayUnit(o.component[0]?.valueQuantity?.unit);
    return `${vals.join('/')} ${unit}`.trim();
  }
  if (o.valueString) return o.valueString;
  if (o.valueCodeableConcept) return o.valueCodeableConcept.text ?? o.valueCodeableConcept.coding?.[0]?.display ?? '';
  if (typeof o.valueBoolean === 'boolean') return o.valueBoolean ? 'Yes' : 'No';
  return '';
}

export function observationDate(o: Observation): string | undefined {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued;
}

export function isVitalSign(o: Observation): boolean {
  return (o.category ?? []).some((c) => c.coding?.some((x) => x.code === 'vital-signs'));
}

/** Newest first by the given date getter; undated entries last. */
export function newestFirst<T>(items: T[], dateOf: (t: T) => string | undefined): T[] {
  return [...items].sort((a, b) => (dateOf(b) ?? '').localeCompare(dateOf(a) ?? ''));
}

/**
 * SNOMED CT statements that a patient has NO known allergy. They are recorded as AllergyIntolerance
 * but must never be shown as an allergy (a red "Allergy: No known drug allergy" reads as an allergy).
 */
const NO_KNOWN_ALLERGY_CODES = new Set(['409137002', '716186003', '428607008', '429625007', '428197003']);

export function isNoKnownAllergy(a: AllergyIntolerance): boolean {
  return (a.code?.coding ?? []).some((c) => NO_KNOWN_ALLERGY_CODES.has(c.code ?? ''));
}

function isCurrentAllergy(a: AllergyIntolerance): boolean {
  const inactive = (a.clinicalStatus?.coding ?? []).some((c) => c.code === 'inactive' || c.code === 'resolved');
  const wrong = (a.verificationStatus?.coding ?? []).some((c) => c.code === 'entered-in-error' || c.code === 'refuted');
  return !inactive && !wrong;
}

/** Split a patient's allergy list into real allergies and "no known allergy" statements. */
export function allergyView(list: AllergyIntolerance[]): { allergies: AllergyIntolerance[]; noKnown: AllergyIntolerance[] } {
  const current = list.filter(isCurrentAllergy);
  return { allergies: current.filter((a) => !isNoKnownAllergy(a)), noKnown: current.filter(isNoKnownAllergy) };
}

/** Results for the summary: laboratory findings, not vital signs or social history (smoking status). */
export function isResult(o: Observation): boolean {
  const cats = (o.category ?? []).flatMap((c) => c.coding ?? []).map((c) => c.code);
  if (cats.length) return cats.includes('laboratory') || cats.includes('imaging') || cats.includes('procedure');
  return o.valueQuantity !== undefined;
}
